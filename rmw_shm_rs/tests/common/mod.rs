//! Helpers shared by the C-ABI tests: loading std_msgs/String, init and fini of a context,
//! reading the rcutils error message.
#![allow(dead_code)]

pub mod basic_types;
pub mod child;

use std::ffi::{CStr, CString};

use libloading::Library;
use rmw_shm_rs::error::*;
use rmw_shm_rs::ffi::init::*;
use rmw_shm_rs::sys::{
    rcutils_get_default_allocator, rcutils_get_error_string, rcutils_reset_error, rmw_context_t,
    rmw_get_zero_initialized_context, rmw_get_zero_initialized_init_options, rmw_init_options_t,
    rosidl_message_type_support_t, rosidl_runtime_c__String, rosidl_runtime_c__String__assign,
};

pub const LIB: &str = env!("RMW_SHM_RS_ROS_PREFIX_AT_BUILD");

/// std_msgs/msg/String as the C type support and generator libraries provide it.
pub struct StringType {
    _libs: Vec<Library>,
    pub ts: *const rosidl_message_type_support_t,
    pub create: unsafe extern "C" fn() -> *mut rosidl_runtime_c__String,
    pub destroy: unsafe extern "C" fn(*mut rosidl_runtime_c__String),
}

impl StringType {
    pub fn load() -> Self {
        // SAFETY: loading ROS message libraries and looking up their documented symbols.
        unsafe {
            let ts_lib =
                Library::new(format!("{LIB}/lib/libstd_msgs__rosidl_typesupport_c.so")).unwrap();
            let gen_lib =
                Library::new(format!("{LIB}/lib/libstd_msgs__rosidl_generator_c.so")).unwrap();
            let get: libloading::Symbol<
                unsafe extern "C" fn() -> *const rosidl_message_type_support_t,
            > = ts_lib
                .get(
                    b"rosidl_typesupport_c__get_message_type_support_handle__std_msgs__msg__String",
                )
                .unwrap();
            let ts = get();
            let create = *gen_lib.get(b"std_msgs__msg__String__create").unwrap();
            let destroy = *gen_lib.get(b"std_msgs__msg__String__destroy").unwrap();
            StringType {
                _libs: vec![ts_lib, gen_lib],
                ts,
                create,
                destroy,
            }
        }
    }

    /// A new message holding `text` (std_msgs/String is one rosidl_runtime_c__String).
    pub fn new_msg(&self, text: &str) -> *mut rosidl_runtime_c__String {
        // SAFETY: create returns an initialized message; assign copies the C string.
        unsafe {
            let m = (self.create)();
            let c = CString::new(text).unwrap();
            assert!(rosidl_runtime_c__String__assign(m, c.as_ptr()));
            m
        }
    }
}

pub fn text(m: *const rosidl_runtime_c__String) -> String {
    // SAFETY: an initialized message from `new_msg`.
    unsafe { CStr::from_ptr((*m).data).to_string_lossy().into_owned() }
}

pub struct Ctx {
    pub options: Box<rmw_init_options_t>,
    pub context: Box<rmw_context_t>,
}

pub fn init(domain: usize) -> Ctx {
    // SAFETY: the rcl sequence: zero-initialized structs, init options, init.
    unsafe {
        let mut options = Box::new(rmw_get_zero_initialized_init_options());
        assert_eq!(
            rmw_init_options_init(&mut *options, rcutils_get_default_allocator()),
            RET_OK
        );
        options.domain_id = domain;
        let mut context = Box::new(rmw_get_zero_initialized_context());
        assert_eq!(rmw_init(&*options, &mut *context), RET_OK);
        assert_eq!(context.actual_domain_id, domain);
        Ctx { options, context }
    }
}

pub fn fini(mut c: Ctx) {
    // SAFETY: the rcl teardown sequence on structs initialized by `init`.
    unsafe {
        assert_eq!(rmw_shutdown(&mut *c.context), RET_OK);
        assert_eq!(rmw_context_fini(&mut *c.context), RET_OK);
        assert_eq!(rmw_init_options_fini(&mut *c.options), RET_OK);
    }
}

pub fn error_text() -> String {
    // SAFETY: reads this thread's rcutils error state.
    unsafe {
        let s = rcutils_get_error_string();
        let t = CStr::from_ptr(s.str_.as_ptr())
            .to_string_lossy()
            .into_owned();
        rcutils_reset_error();
        t
    }
}
