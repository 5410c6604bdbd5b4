//! Helpers of the loaned-message and path tests (tests/loans.rs, tests/loans_counters.rs,
//! tests/paths.rs): test_msgs/msg/BasicTypes (a fixed-size type), std_msgs/msg/String and
//! sensor_msgs/msg/Image through the C ABI.
#![allow(dead_code)]

use std::ffi::{c_void, CStr};
use std::ptr::null_mut;

use libloading::Library;
use rmw_shm_rs::error::*;
use rmw_shm_rs::ffi::{loan::*, node::*, publisher::*, subscription::*};
use rmw_shm_rs::sys::{
    rmw_message_info_t, rmw_node_t, rmw_publisher_options_t, rmw_publisher_t, rmw_qos_profile_t,
    rmw_subscription_options_t, rmw_subscription_t, rosidl_message_type_support_t,
};

#[path = "../common/mod.rs"]
pub mod common;
pub use common::*;

/// test_msgs/msg/BasicTypes as rosidl_generator_c lays it out.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BasicTypes {
    pub bool_value: bool,
    pub byte_value: u8,
    pub char_value: u8,
    pub float32_value: f32,
    pub float64_value: f64,
    pub int8_value: i8,
    pub uint8_value: u8,
    pub int16_value: i16,
    pub uint16_value: u16,
    pub int32_value: i32,
    pub uint32_value: u32,
    pub int64_value: i64,
    pub uint64_value: u64,
}

impl BasicTypes {
    /// A message whose every field depends on `n`.
    pub fn sample(n: u32) -> Self {
        BasicTypes {
            bool_value: n % 2 == 1,
            byte_value: n as u8,
            char_value: b'a' + (n % 26) as u8,
            float32_value: n as f32 + 0.5,
            float64_value: -(n as f64) * 1.25,
            int8_value: -(n as i8 % 100),
            uint8_value: 200,
            int16_value: -1234,
            uint16_value: 54321,
            int32_value: -(n as i32) * 1000,
            uint32_value: n * 7,
            int64_value: -(n as i64) << 40,
            uint64_value: (n as u64) << 50,
        }
    }
}

/// The type support of test_msgs/msg/BasicTypes and of std_msgs/msg/String.
pub struct Types {
    _libs: Vec<Library>,
    pub basic: *const rosidl_message_type_support_t,
    pub string: StringType,
}

impl Types {
    pub fn load() -> Self {
        // SAFETY: loading ROS message libraries and looking up their documented symbols.
        unsafe {
            let ts_lib =
                Library::new(format!("{LIB}/lib/libtest_msgs__rosidl_typesupport_c.so")).unwrap();
            let get: libloading::Symbol<
                unsafe extern "C" fn() -> *const rosidl_message_type_support_t,
            > = ts_lib
                .get(b"rosidl_typesupport_c__get_message_type_support_handle__test_msgs__msg__BasicTypes")
                .unwrap();
            let basic = get();
            Types {
                _libs: vec![ts_lib],
                basic,
                string: StringType::load(),
            }
        }
    }
}

pub fn qos(depth: usize) -> rmw_qos_profile_t {
    rmw_qos_profile_t {
        history: 1, // KEEP_LAST
        depth,
        reliability: 1, // RELIABLE
        durability: 2,  // VOLATILE
        ..Default::default()
    }
}

pub fn node(c: &mut Ctx, name: &CStr) -> *mut rmw_node_t {
    // SAFETY: a live context and valid C strings.
    let n = unsafe { rmw_create_node(&mut *c.context, name.as_ptr(), c"/loans".as_ptr()) };
    assert!(!n.is_null(), "{}", error_text());
    n
}

pub fn publisher(
    node: *mut rmw_node_t,
    ts: *const rosidl_message_type_support_t,
    topic: &CStr,
    depth: usize,
) -> *mut rmw_publisher_t {
    publisher_with(node, ts, topic, &qos(depth))
}

pub fn publisher_with(
    node: *mut rmw_node_t,
    ts: *const rosidl_message_type_support_t,
    topic: &CStr,
    qos: &rmw_qos_profile_t,
) -> *mut rmw_publisher_t {
    let opts = rmw_publisher_options_t::default();
    // SAFETY: valid node, type support, topic and options.
    let p = unsafe { rmw_create_publisher(node, ts, topic.as_ptr(), qos, &opts) };
    assert!(!p.is_null(), "{}", error_text());
    p
}

pub fn subscription(
    node: *mut rmw_node_t,
    ts: *const rosidl_message_type_support_t,
    topic: &CStr,
    depth: usize,
) -> *mut rmw_subscription_t {
    subscription_with(node, ts, topic, &qos(depth))
}

pub fn subscription_with(
    node: *mut rmw_node_t,
    ts: *const rosidl_message_type_support_t,
    topic: &CStr,
    qos: &rmw_qos_profile_t,
) -> *mut rmw_subscription_t {
    let opts = rmw_subscription_options_t::default();
    // SAFETY: valid node, type support, topic and options.
    let s = unsafe { rmw_create_subscription(node, ts, topic.as_ptr(), qos, &opts) };
    assert!(!s.is_null(), "{}", error_text());
    s
}

/// Takes one message into `out` without waiting: `None` when nothing is there.
///
/// # Safety
/// `out` is an initialized message of the subscription's type.
pub unsafe fn try_take(s: *mut rmw_subscription_t, out: *mut c_void) -> Option<rmw_message_info_t> {
    let mut taken = false;
    let mut info = rmw_message_info_t::default();
    // SAFETY: per the caller.
    let r = unsafe { rmw_take_with_info(s, out, &mut taken, &mut info, null_mut()) };
    assert_eq!(r, RET_OK, "{}", error_text());
    taken.then_some(info)
}

/// Takes one message into `out`, waiting up to 2 s.
///
/// # Safety
/// As [`try_take`].
pub unsafe fn take_within(s: *mut rmw_subscription_t, out: *mut c_void) -> rmw_message_info_t {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        // SAFETY: per the caller.
        if let Some(info) = unsafe { try_take(s, out) } {
            return info;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no message within 2 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Borrows a loan, writes `msg` into it and publishes it.
pub fn publish_loaned(types: &Types, p: *mut rmw_publisher_t, msg: BasicTypes) {
    let mut loan: *mut c_void = null_mut();
    // SAFETY: a BasicTypes publisher; the loan holds a BasicTypes until published.
    unsafe {
        assert_eq!(
            rmw_borrow_loaned_message(p, types.basic, &mut loan),
            RET_OK,
            "{}",
            error_text()
        );
        assert!(!loan.is_null());
        assert_eq!(loan as usize % std::mem::align_of::<BasicTypes>(), 0);
        // A borrowed message is the type's init function over the sample's previous contents
        // (BasicTypes has no defaults): any previous message of this publisher, or zeroes.
        *loan.cast::<BasicTypes>() = msg;
        assert_eq!(
            rmw_publish_loaned_message(p, loan, null_mut()),
            RET_OK,
            "{}",
            error_text()
        );
    }
}

/// Takes one message as a loan (waiting up to 2 s), copies it out and returns the loan.
pub fn take_loaned(s: *mut rmw_subscription_t) -> (BasicTypes, rmw_message_info_t) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let mut loan: *mut c_void = null_mut();
        let mut taken = false;
        let mut info = rmw_message_info_t::default();
        // SAFETY: a BasicTypes subscription; the loan is read before it is returned.
        unsafe {
            assert_eq!(
                rmw_take_loaned_message_with_info(s, &mut loan, &mut taken, &mut info, null_mut()),
                RET_OK,
                "{}",
                error_text()
            );
            if taken {
                assert_eq!(loan as usize % std::mem::align_of::<BasicTypes>(), 0);
                let m = *loan.cast::<BasicTypes>();
                assert_eq!(
                    rmw_return_loaned_message_from_subscription(s, loan),
                    RET_OK,
                    "{}",
                    error_text()
                );
                return (m, info);
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no message within 2 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Takes one message by copy (waiting up to 2 s).
pub fn take_copy(s: *mut rmw_subscription_t) -> BasicTypes {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let mut m = BasicTypes::default();
        let mut taken = false;
        // SAFETY: a BasicTypes subscription and an initialized BasicTypes (plain, no init
        // needed beyond zeroes).
        unsafe {
            assert_eq!(
                rmw_take(
                    s,
                    (&mut m as *mut BasicTypes).cast(),
                    &mut taken,
                    null_mut()
                ),
                RET_OK,
                "{}",
                error_text()
            );
        }
        if taken {
            return m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no message within 2 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// sensor_msgs/msg/Image as rosidl_generator_c lays it out.
#[repr(C)]
pub struct Image {
    pub stamp_sec: i32,
    pub stamp_nanosec: u32,
    pub frame_id: rmw_shm_rs::sys::rosidl_runtime_c__String,
    pub height: u32,
    pub width: u32,
    pub encoding: rmw_shm_rs::sys::rosidl_runtime_c__String,
    pub is_bigendian: u8,
    pub step: u32,
    pub data: rmw_shm_rs::sys::rosidl_runtime_c__uint8__Sequence,
}

impl Image {
    /// The pixel bytes.
    pub fn bytes(&self) -> &[u8] {
        if self.data.size == 0 {
            return &[];
        }
        // SAFETY: an initialized sequence holds `size` bytes at `data`.
        unsafe { std::slice::from_raw_parts(self.data.data, self.data.size) }
    }
}

/// sensor_msgs/msg/Image's type support and message functions.
pub struct ImageType {
    _libs: Vec<Library>,
    pub ts: *const rosidl_message_type_support_t,
    create: unsafe extern "C" fn() -> *mut Image,
    pub destroy: unsafe extern "C" fn(*mut Image),
    seq_init: unsafe extern "C" fn(
        *mut rmw_shm_rs::sys::rosidl_runtime_c__uint8__Sequence,
        usize,
    ) -> bool,
}

impl ImageType {
    pub fn load() -> Self {
        // SAFETY: loading ROS message libraries and looking up their documented symbols.
        unsafe {
            let ts_lib =
                Library::new(format!("{LIB}/lib/libsensor_msgs__rosidl_typesupport_c.so")).unwrap();
            let gen_lib =
                Library::new(format!("{LIB}/lib/libsensor_msgs__rosidl_generator_c.so")).unwrap();
            let rt_lib = Library::new(format!("{LIB}/lib/librosidl_runtime_c.so")).unwrap();
            let get: libloading::Symbol<
                unsafe extern "C" fn() -> *const rosidl_message_type_support_t,
            > = ts_lib
                .get(b"rosidl_typesupport_c__get_message_type_support_handle__sensor_msgs__msg__Image")
                .unwrap();
            let ts = get();
            let create = *gen_lib.get(b"sensor_msgs__msg__Image__create").unwrap();
            let destroy = *gen_lib.get(b"sensor_msgs__msg__Image__destroy").unwrap();
            let seq_init = *rt_lib
                .get(b"rosidl_runtime_c__uint8__Sequence__init")
                .unwrap();
            ImageType {
                _libs: vec![ts_lib, gen_lib, rt_lib],
                ts,
                create,
                destroy,
                seq_init,
            }
        }
    }

    /// A new image of `len` pixel bytes, byte `i` = `(i * 7 + seed) as u8`.
    pub fn new_msg(&self, len: usize, seed: u8) -> *mut Image {
        // SAFETY: create returns an initialized message with an empty data sequence, which
        // init replaces without leaking; the filled bytes are inside the new sequence.
        unsafe {
            let m = (self.create)();
            assert!((self.seq_init)(&mut (*m).data, len));
            for i in 0..len {
                *(*m).data.data.add(i) = (i * 7) as u8 ^ seed;
            }
            (*m).width = len as u32;
            (*m).height = 1;
            (*m).step = len as u32;
            m
        }
    }

    /// A new, empty image.
    pub fn empty(&self) -> *mut Image {
        // SAFETY: create returns an initialized message.
        unsafe { (self.create)() }
    }
}
