//! Typed access to the delegate's own rmw functions: each getter looks the function up with
//! `dlsym(handle, name)` and checks at compile time that its type is the declaration bindgen read
//! from the distro's rmw headers, so a call through it is as safe as calling that header's
//! function.

use std::ffi::CStr;

use super::Delegate;
use crate::error::{Error, Result};
use crate::sys::*;

macro_rules! delegate_fns {
    ($($name:ident : fn($($t:ty),*) -> $r:ty;)*) => {
        $(
            #[doc = concat!("The delegate's `", stringify!($name), "`.")]
            pub fn $name(d: &Delegate) -> Result<unsafe extern "C" fn($($t),*) -> $r> {
                const _: unsafe extern "C" fn($($t),*) -> $r = crate::sys::$name;
                const NAME: &CStr = match CStr::from_bytes_with_nul(
                    concat!(stringify!($name), "\0").as_bytes(),
                ) {
                    Ok(c) => c,
                    Err(_) => panic!("NUL in a function name"),
                };
                // SAFETY: the type is the header's declaration of `NAME` (checked above).
                unsafe { d.sym(NAME) }
            }
        )*
    };
}

delegate_fns! {
    rmw_init_options_init: fn(*mut rmw_init_options_t, rcutils_allocator_t) -> rmw_ret_t;
    rmw_init_options_fini: fn(*mut rmw_init_options_t) -> rmw_ret_t;
    rmw_init: fn(*const rmw_init_options_t, *mut rmw_context_t) -> rmw_ret_t;
    rmw_shutdown: fn(*mut rmw_context_t) -> rmw_ret_t;
    rmw_context_fini: fn(*mut rmw_context_t) -> rmw_ret_t;
    rmw_create_node: fn(*mut rmw_context_t, *const std::ffi::c_char, *const std::ffi::c_char) -> *mut rmw_node_t;
    rmw_destroy_node: fn(*mut rmw_node_t) -> rmw_ret_t;
    rmw_create_publisher: fn(*const rmw_node_t, *const rosidl_message_type_support_t, *const std::ffi::c_char, *const rmw_qos_profile_t, *const rmw_publisher_options_t) -> *mut rmw_publisher_t;
    rmw_destroy_publisher: fn(*mut rmw_node_t, *mut rmw_publisher_t) -> rmw_ret_t;
    rmw_create_subscription: fn(*const rmw_node_t, *const rosidl_message_type_support_t, *const std::ffi::c_char, *const rmw_qos_profile_t, *const rmw_subscription_options_t) -> *mut rmw_subscription_t;
    rmw_destroy_subscription: fn(*mut rmw_node_t, *mut rmw_subscription_t) -> rmw_ret_t;
    rmw_publish_serialized_message: fn(*const rmw_publisher_t, *const rmw_serialized_message_t, *mut rmw_publisher_allocation_t) -> rmw_ret_t;
    rmw_take_serialized_message_with_info: fn(*const rmw_subscription_t, *mut rmw_serialized_message_t, *mut bool, *mut rmw_message_info_t, *mut rmw_subscription_allocation_t) -> rmw_ret_t;
    rmw_subscription_set_on_new_message_callback: fn(*mut rmw_subscription_t, rmw_event_callback_t, *const std::ffi::c_void) -> rmw_ret_t;
    rmw_publisher_count_matched_subscriptions: fn(*const rmw_publisher_t, *mut usize) -> rmw_ret_t;
    rmw_subscription_count_matched_publishers: fn(*const rmw_subscription_t, *mut usize) -> rmw_ret_t;
    rmw_get_publishers_info_by_topic: fn(*const rmw_node_t, *mut rcutils_allocator_t, *const std::ffi::c_char, bool, *mut rmw_topic_endpoint_info_array_t) -> rmw_ret_t;
    rmw_get_gid_for_client: fn(*const rmw_client_t, *mut rmw_gid_t) -> rmw_ret_t;
    rmw_get_gid_for_publisher: fn(*const rmw_publisher_t, *mut rmw_gid_t) -> rmw_ret_t;
    rmw_get_subscriptions_info_by_topic: fn(*const rmw_node_t, *mut rcutils_allocator_t, *const std::ffi::c_char, bool, *mut rmw_topic_endpoint_info_array_t) -> rmw_ret_t;
    rmw_create_service: fn(*const rmw_node_t, *const rosidl_service_type_support_t, *const std::ffi::c_char, *const rmw_qos_profile_t) -> *mut rmw_service_t;
    rmw_destroy_service: fn(*mut rmw_node_t, *mut rmw_service_t) -> rmw_ret_t;
    rmw_take_request: fn(*const rmw_service_t, *mut rmw_service_info_t, *mut std::ffi::c_void, *mut bool) -> rmw_ret_t;
    rmw_send_response: fn(*const rmw_service_t, *mut rmw_request_id_t, *mut std::ffi::c_void) -> rmw_ret_t;
    rmw_service_set_on_new_request_callback: fn(*mut rmw_service_t, rmw_event_callback_t, *const std::ffi::c_void) -> rmw_ret_t;
    rmw_create_client: fn(*const rmw_node_t, *const rosidl_service_type_support_t, *const std::ffi::c_char, *const rmw_qos_profile_t) -> *mut rmw_client_t;
    rmw_destroy_client: fn(*mut rmw_node_t, *mut rmw_client_t) -> rmw_ret_t;
    rmw_send_request: fn(*const rmw_client_t, *const std::ffi::c_void, *mut i64) -> rmw_ret_t;
    rmw_take_response: fn(*const rmw_client_t, *mut rmw_service_info_t, *mut std::ffi::c_void, *mut bool) -> rmw_ret_t;
    rmw_client_set_on_new_response_callback: fn(*mut rmw_client_t, rmw_event_callback_t, *const std::ffi::c_void) -> rmw_ret_t;
    rmw_service_server_is_available: fn(*const rmw_node_t, *const rmw_client_t, *mut bool) -> rmw_ret_t;
    rmw_get_topic_names_and_types: fn(*const rmw_node_t, *mut rcutils_allocator_t, bool, *mut rmw_names_and_types_t) -> rmw_ret_t;
    rmw_get_service_names_and_types_by_node: fn(*const rmw_node_t, *mut rcutils_allocator_t, *const std::ffi::c_char, *const std::ffi::c_char, *mut rmw_names_and_types_t) -> rmw_ret_t;
    rmw_get_client_names_and_types_by_node: fn(*const rmw_node_t, *mut rcutils_allocator_t, *const std::ffi::c_char, *const std::ffi::c_char, *mut rmw_names_and_types_t) -> rmw_ret_t;
    rmw_node_get_graph_guard_condition: fn(*const rmw_node_t) -> *const rmw_guard_condition_t;
    rmw_create_guard_condition: fn(*mut rmw_context_t) -> *mut rmw_guard_condition_t;
    rmw_destroy_guard_condition: fn(*mut rmw_guard_condition_t) -> rmw_ret_t;
    rmw_trigger_guard_condition: fn(*const rmw_guard_condition_t) -> rmw_ret_t;
    rmw_create_wait_set: fn(*mut rmw_context_t, usize) -> *mut rmw_wait_set_t;
    rmw_destroy_wait_set: fn(*mut rmw_wait_set_t) -> rmw_ret_t;
    rmw_wait: fn(*mut rmw_subscriptions_t, *mut rmw_guard_conditions_t, *mut rmw_services_t, *mut rmw_clients_t, *mut rmw_events_t, *mut rmw_wait_set_t, *const rmw_time_t) -> rmw_ret_t;
    rmw_get_node_names_with_enclaves: fn(*const rmw_node_t, *mut rcutils_string_array_t, *mut rcutils_string_array_t, *mut rcutils_string_array_t) -> rmw_ret_t;
}

/// Turns a delegate return code into a result, with the delegate's error message.
pub fn check(ret: rmw_ret_t, what: &str) -> Result<()> {
    if ret == crate::error::RET_OK {
        return Ok(());
    }
    // SAFETY: reads and resets this thread's rcutils error state (shared with the delegate:
    // both use librcutils' thread-local state).
    let msg = unsafe {
        let s = rcutils_get_error_string();
        let m = CStr::from_ptr(s.str_.as_ptr())
            .to_string_lossy()
            .into_owned();
        rcutils_reset_error();
        m
    };
    Err(Error::Other(format!(
        "delegate {what} failed ({ret}): {msg}"
    )))
}
