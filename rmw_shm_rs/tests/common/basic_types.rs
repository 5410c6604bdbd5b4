//! test_msgs/srv/BasicTypes as the C type support and generator libraries provide it.

use libloading::Library;
use rmw_shm_rs::sys::{rosidl_runtime_c__String, rosidl_service_type_support_t};

use super::LIB;

/// test_msgs/srv/BasicTypes_Request and _Response (the same fields).
#[repr(C)]
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
    pub string_value: rosidl_runtime_c__String,
}

pub type Create = unsafe extern "C" fn() -> *mut BasicTypes;
pub type Destroy = unsafe extern "C" fn(*mut BasicTypes);

pub struct Srv {
    _libs: Vec<Library>,
    pub ts: *const rosidl_service_type_support_t,
    pub create: [Create; 2],
    pub destroy: [Destroy; 2],
}

impl Srv {
    pub fn load() -> Self {
        // SAFETY: loading ROS message libraries and looking up their documented symbols.
        unsafe {
            let ts_lib =
                Library::new(format!("{LIB}/lib/libtest_msgs__rosidl_typesupport_c.so")).unwrap();
            let gen_lib =
                Library::new(format!("{LIB}/lib/libtest_msgs__rosidl_generator_c.so")).unwrap();
            let get: libloading::Symbol<
                unsafe extern "C" fn() -> *const rosidl_service_type_support_t,
            > = ts_lib
                .get(b"rosidl_typesupport_c__get_service_type_support_handle__test_msgs__srv__BasicTypes")
                .unwrap();
            let ts = get();
            let create = [
                *gen_lib
                    .get(b"test_msgs__srv__BasicTypes_Request__create")
                    .unwrap(),
                *gen_lib
                    .get(b"test_msgs__srv__BasicTypes_Response__create")
                    .unwrap(),
            ];
            let destroy = [
                *gen_lib
                    .get(b"test_msgs__srv__BasicTypes_Request__destroy")
                    .unwrap(),
                *gen_lib
                    .get(b"test_msgs__srv__BasicTypes_Response__destroy")
                    .unwrap(),
            ];
            Srv {
                _libs: vec![ts_lib, gen_lib],
                ts,
                create,
                destroy,
            }
        }
    }
}
