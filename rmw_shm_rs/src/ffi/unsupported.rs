//! Exports that rmw_shm_rs does not implement yet. Each checks its handle (so a foreign
//! implementation's handle is still reported as such), then returns RMW_RET_UNSUPPORTED with
//! an error message. docs/capabilities.md lists them with the reason and the plan.
//!
//! `[handle]` is checked (and forwarded to the DDS delegate when it is one of its objects); a
//! leading `forward(arg);` forwards an argument that has no entity of ours to check.

use std::ffi::c_char;

use super::handles::entity;
use crate::error::Error;
use crate::rmw_export;
use crate::sys::*;

macro_rules! unsupported {
    ($($(forward($f:ident);)? fn $name:ident($($arg:ident : $ty:ty),* $(,)?) [$($h:ident),*] $why:literal;)*) => {$(
        rmw_export! {
            #[doc = concat!("Not supported: ", $why, ". Returns RMW_RET_UNSUPPORTED.")]
            $(forward($h);)* $(forward($f);)?
            fn $name($($arg: $ty),*) -> rmw_ret_t {
                // SAFETY: each checked argument is null or a handle; `entity` checks both.
                $(unsafe { entity($h as *const _)?; })*
                $(let _ = $arg;)*
                Err(Error::Unsupported(concat!(stringify!($name), ": ", $why).into()))
            }
        }
    )*};
}

unsupported! {
    fn rmw_init_publisher_allocation(type_support: *const rosidl_message_type_support_t, message_bounds: *const rosidl_runtime_c__Sequence__bound, allocation: *mut rmw_publisher_allocation_t) [] "preallocation is not needed: publishing serializes straight into shared memory";
    forward(allocation);
    fn rmw_fini_publisher_allocation(allocation: *mut rmw_publisher_allocation_t) [] "preallocation is not needed: publishing serializes straight into shared memory";
    fn rmw_init_subscription_allocation(type_support: *const rosidl_message_type_support_t, message_bounds: *const rosidl_runtime_c__Sequence__bound, allocation: *mut rmw_subscription_allocation_t) [] "preallocation is not needed: takes deserialize straight out of shared memory";
    forward(allocation);
    fn rmw_fini_subscription_allocation(allocation: *mut rmw_subscription_allocation_t) [] "preallocation is not needed: takes deserialize straight out of shared memory";
    fn rmw_publisher_get_network_flow_endpoints(publisher: *const rmw_publisher_t, allocator: *mut rcutils_allocator_t, network_flow_endpoint_array: *mut rmw_network_flow_endpoint_array_t) [publisher] "shared memory has no network flow endpoints";
    fn rmw_subscription_get_network_flow_endpoints(subscription: *const rmw_subscription_t, allocator: *mut rcutils_allocator_t, network_flow_endpoint_array: *mut rmw_network_flow_endpoint_array_t) [subscription] "shared memory has no network flow endpoints";
    fn rmw_take_dynamic_message(subscription: *const rmw_subscription_t, dynamic_message: *mut rosidl_dynamic_typesupport_dynamic_data_t, taken: *mut bool, allocation: *mut rmw_subscription_allocation_t) [subscription] "dynamic type support is not offered (RMW_MIDDLEWARE_CAN_TAKE_DYNAMIC_MESSAGE is false)";
    fn rmw_take_dynamic_message_with_info(subscription: *const rmw_subscription_t, dynamic_message: *mut rosidl_dynamic_typesupport_dynamic_data_t, taken: *mut bool, message_info: *mut rmw_message_info_t, allocation: *mut rmw_subscription_allocation_t) [subscription] "dynamic type support is not offered (RMW_MIDDLEWARE_CAN_TAKE_DYNAMIC_MESSAGE is false)";
    fn rmw_serialization_support_init(serialization_lib_name: *const c_char, allocator: *mut rcutils_allocator_t, serialization_support: *mut rosidl_dynamic_typesupport_serialization_support_t) [] "dynamic type support is not offered";
    fn rmw_subscription_set_content_filter(subscription: *mut rmw_subscription_t, options: *const rmw_subscription_content_filter_options_t) [subscription] "content-filtered topics are not implemented yet";
    fn rmw_subscription_get_content_filter(subscription: *const rmw_subscription_t, allocator: *mut rcutils_allocator_t, options: *mut rmw_subscription_content_filter_options_t) [subscription] "content-filtered topics are not implemented yet";
}
