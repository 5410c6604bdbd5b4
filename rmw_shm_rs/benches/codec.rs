//! Criterion benchmarks of the CDR codec: ns per message for serialize (exact size, then the
//! body into a preallocated buffer, as `rmw_publish` does into a loaned sample) and deserialize
//! (into an initialized C message that is reused, as `rmw_take` does into rcl's message).
//!
//! Types: sensor_msgs/msg/Image with 4 MiB of data, test_msgs/msg/BasicTypes,
//! test_msgs/msg/Strings. They are resolved as rclpy and rcl hand them over: through the
//! `rosidl_typesupport_c` handle, which loads the introspection library by name, so the ROS
//! libraries must be on the library path:
//!
//! ```sh
//! VENV=~/.cache/rmw_shm_rs/venv-kilted
//! LD_LIBRARY_PATH=$VENV/lib:$(ls -d $VENV/lib/python3.11/site-packages/ros_*.libs | paste -sd:) \
//!   cargo bench --bench codec
//! ```
//!
//! bench/run.sh runs it and copies the numbers into docs/benchmarks.md.

use std::ffi::{c_void, CString};
use std::hint::black_box;
use std::mem::MaybeUninit;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use libloading::Library;
use rmw_shm_rs::sys::{
    rosidl_message_type_support_t, rosidl_runtime_c__String, rosidl_runtime_c__String__assign,
};
use rmw_shm_rs::typesupport::{message_type, MessageType};

/// Install prefix the crate was built against (holds `lib/`).
const PREFIX: &str = env!("RMW_SHM_RS_ROS_PREFIX_AT_BUILD");

/// Payload of the Image benchmark.
const IMAGE_BYTES: usize = 4 << 20;

/// Loads `lib<name>.so` from the ROS prefix for the rest of the process.
fn library(name: &str) -> &'static Library {
    let path = format!("{PREFIX}/lib/lib{name}.so");
    // SAFETY: ROS message and runtime libraries have no unsafe initialization side effects.
    let lib = unsafe { Library::new(&path) }.unwrap_or_else(|e| panic!("load {path}: {e}"));
    Box::leak(Box::new(lib))
}

/// The `MessageType` of `pkg/msg/name`, resolved from its `rosidl_typesupport_c` handle.
fn msg_type(pkg: &str, name: &str) -> Arc<MessageType> {
    let lib = library(&format!("{pkg}__rosidl_typesupport_c"));
    let sym = format!("rosidl_typesupport_c__get_message_type_support_handle__{pkg}__msg__{name}");
    // SAFETY: rosidl getters have this signature and return a static handle; the library
    // stays loaded (leaked).
    unsafe {
        let get: libloading::Symbol<
            '_,
            unsafe extern "C" fn() -> *const rosidl_message_type_support_t,
        > = lib
            .get(sym.as_bytes())
            .unwrap_or_else(|e| panic!("{sym}: {e}"));
        message_type(get()).unwrap_or_else(|e| {
            panic!("{pkg}/msg/{name}: {e} (are the ROS libraries on LD_LIBRARY_PATH?)")
        })
    }
}

/// An initialized C message in 8-aligned memory, finalized on drop.
struct Msg {
    ty: Arc<MessageType>,
    buf: Vec<u64>,
}

impl Msg {
    fn new(ty: &Arc<MessageType>) -> Self {
        let mut buf = vec![0u64; ty.c_size().div_ceil(8).max(1)];
        // SAFETY: zeroed, 8-aligned memory of c_size bytes, not holding a message.
        assert!(unsafe { ty.init_message(buf.as_mut_ptr().cast()) });
        Msg {
            ty: Arc::clone(ty),
            buf,
        }
    }

    fn ptr(&self) -> *const c_void {
        self.buf.as_ptr().cast()
    }

    fn mut_ptr(&mut self) -> *mut c_void {
        self.buf.as_mut_ptr().cast()
    }

    fn to_vec(&self) -> Vec<u8> {
        // SAFETY: an initialized message of its type.
        unsafe { self.ty.serialize_to_vec(self.ptr()) }.expect("serialize")
    }
}

impl Drop for Msg {
    fn drop(&mut self) {
        let ptr = self.mut_ptr();
        // SAFETY: initialized by `new`, not used afterwards.
        unsafe { self.ty.fini_message(ptr) };
    }
}

/// `rosidl_runtime_c__uint8__Sequence`.
#[repr(C)]
struct U8Seq {
    data: *mut u8,
    size: usize,
    capacity: usize,
}

/// The C layout of sensor_msgs/msg/Image (rosidl C mapping), to fill in the data field.
#[repr(C)]
struct CImage {
    stamp_sec: i32,
    stamp_nanosec: u32,
    frame_id: rosidl_runtime_c__String,
    height: u32,
    width: u32,
    encoding: rosidl_runtime_c__String,
    is_bigendian: u8,
    step: u32,
    data: U8Seq,
}

fn assign(s: *mut rosidl_runtime_c__String, text: &str) {
    let c = CString::new(text).unwrap();
    // SAFETY: `s` is an initialized string field of a live message.
    assert!(unsafe { rosidl_runtime_c__String__assign(s, c.as_ptr()) });
}

/// An Image of 1 x `bytes` mono8 pixels with a pattern in its data.
fn image(ty: &Arc<MessageType>, bytes: usize) -> Msg {
    assert_eq!(ty.c_size(), std::mem::size_of::<CImage>(), "Image C layout");
    let mut m = Msg::new(ty);
    let img = m.mut_ptr().cast::<CImage>();
    let rt = library("rosidl_runtime_c");
    // SAFETY: the documented rosidl runtime function; `img` is an initialized Image whose data
    // sequence is empty (init allocates with the rosidl allocator, fini_message frees it).
    unsafe {
        let init: libloading::Symbol<'_, unsafe extern "C" fn(*mut U8Seq, usize) -> bool> =
            rt.get(b"rosidl_runtime_c__uint8__Sequence__init").unwrap();
        assert!(init(std::ptr::addr_of_mut!((*img).data), bytes));
        let data = std::slice::from_raw_parts_mut((*img).data.data, bytes);
        for (i, b) in data.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(131).wrapping_add(7);
        }
        (*img).stamp_sec = 1_700_000_000;
        (*img).stamp_nanosec = 123_456_789;
        assign(
            std::ptr::addr_of_mut!((*img).frame_id),
            "camera_optical_frame",
        );
        assign(std::ptr::addr_of_mut!((*img).encoding), "mono8");
        (*img).height = 1;
        (*img).width = bytes as u32;
        (*img).step = bytes as u32;
    }
    m
}

/// Serialize and deserialize benchmarks of one message.
fn bench_type(c: &mut Criterion, label: &str, msg: &Msg) {
    let ty = &msg.ty;
    let bytes = msg.to_vec();
    let mut group = c.benchmark_group(label);
    if bytes.len() > 1 << 16 {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
    }
    // Like rmw_publish: exact size, then the body into a buffer of exactly that size.
    let mut out = vec![MaybeUninit::<u8>::uninit(); bytes.len()];
    group.bench_function("serialize", |b| {
        b.iter(|| {
            // SAFETY: an initialized message of this type, not mutated meanwhile.
            unsafe {
                let n = ty.serialized_size(black_box(msg.ptr())).unwrap();
                ty.serialize(msg.ptr(), &mut out[..n]).unwrap()
            }
        })
    });
    // Like rmw_take into rcl's message: the C message is reused, so after the first round its
    // sequences and strings already have the right sizes.
    let mut target = Msg::new(ty);
    // SAFETY: an initialized, exclusively owned message of this type.
    unsafe { ty.deserialize(&bytes, target.mut_ptr()) }.unwrap();
    assert_eq!(target.to_vec(), bytes, "{label}: round trip");
    group.bench_function("deserialize", |b| {
        b.iter(|| {
            // SAFETY: an initialized, exclusively owned message of this type.
            unsafe { ty.deserialize(black_box(&bytes), target.mut_ptr()) }.unwrap()
        })
    });
    // Into a fresh message each time (init + deserialize + fini): the allocations included.
    group.bench_function("deserialize_fresh", |b| {
        b.iter_batched_ref(
            || (),
            |_| {
                let mut m = Msg::new(ty);
                // SAFETY: as above.
                unsafe { ty.deserialize(black_box(&bytes), m.mut_ptr()) }.unwrap();
                m
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn codec(c: &mut Criterion) {
    let image_ty = msg_type("sensor_msgs", "Image");
    let basic_ty = msg_type("test_msgs", "BasicTypes");
    let strings_ty = msg_type("test_msgs", "Strings");

    bench_type(c, "image_4MiB", &image(&image_ty, IMAGE_BYTES));

    // BasicTypes: every primitive once (52 bytes of CDR); the values do not change the cost.
    bench_type(c, "basic_types", &Msg::new(&basic_ty));

    // Strings: 12 strings, the defaults ("Hello world!" and variants) plus a 64-byte one.
    let mut strings = Msg::new(&strings_ty);
    assign(
        strings.mut_ptr().cast::<rosidl_runtime_c__String>(),
        &"abcdefgh".repeat(8),
    );
    bench_type(c, "strings", &strings);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    targets = codec
}
criterion_main!(benches);
