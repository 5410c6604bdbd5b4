//! Building each argument from its type: valid for its function and name, or bad as a [`Case`]
//! says (null, zero-initialized, foreign, not zero-initialized, out of range).

use std::ffi::{c_char, c_void, CString};
use std::ptr::null_mut;

use rmw_shm_rs::sys::*;

use super::fixture::{valid_qos, Fixture};
use super::{out_zero, Case, Site, FOREIGN};

/// An argument of one type, valid for `site` or bad as `case` says.
pub trait Value: Sized {
    fn make(fx: &mut Fixture, site: Site, case: Option<Case>) -> Self;
}

/// A type arguments point to: `make` is never asked for [`Case::Null`].
pub trait Pointee: Sized {
    fn make(fx: &mut Fixture, site: Site, case: Option<Case>) -> *mut Self;
}

impl<T: Pointee> Value for *mut T {
    fn make(fx: &mut Fixture, site: Site, case: Option<Case>) -> Self {
        match case {
            Some(Case::Null) => null_mut(),
            c => T::make(fx, site, c),
        }
    }
}

impl<T: Pointee> Value for *const T {
    fn make(fx: &mut Fixture, site: Site, case: Option<Case>) -> Self {
        <*mut T as Value>::make(fx, site, case).cast_const()
    }
}

fn unexpected(site: Site, case: Option<Case>) -> ! {
    panic!("no {case:?} value for {}({})", site.func, site.arg)
}

/// Handles with an implementation identifier: the live one, zero-initialized, or a copy that
/// claims another implementation.
macro_rules! handle {
    ($($t:ty => |$fx:ident| $live:expr;)*) => {$(
        impl Pointee for $t {
            fn make(fx: &mut Fixture, site: Site, case: Option<Case>) -> *mut Self {
                let $fx = &mut *fx;
                let live: *mut $t = $live;
                match case {
                    None if out_zero(site) => fx.keep(<$t>::default()),
                    None => live,
                    Some(Case::Zero) => fx.keep(<$t>::default()),
                    // SAFETY: `live` is a valid handle of the fixture; the copy only differs in
                    // its identifier (a static string).
                    Some(Case::Foreign) => fx.keep(<$t>::clone(unsafe { &*live }).with_id(FOREIGN.as_ptr())),
                    // SAFETY: as above; a copy of a live handle is not zero-initialized.
                    Some(Case::NotZero) => fx.keep(<$t>::clone(unsafe { &*live })),
                    c => unexpected(site, c),
                }
            }
        }
        impl WithId for $t {
            fn with_id(mut self, id: *const c_char) -> Self {
                self.implementation_identifier = id;
                self
            }
        }
    )*};
}

pub trait WithId {
    fn with_id(self, id: *const c_char) -> Self;
}

handle! {
    rmw_init_options_t => |fx| fx.options();
    rmw_context_t => |fx| fx.context();
    rmw_node_t => |fx| fx.node;
    rmw_publisher_t => |fx| fx.publisher;
    rmw_subscription_t => |fx| fx.subscription;
    rmw_service_t => |fx| fx.service;
    rmw_client_t => |fx| fx.client;
    rmw_guard_condition_t => |fx| fx.guard_condition;
    rmw_wait_set_t => |fx| fx.wait_set;
    rmw_event_t => |fx| &mut *fx.event;
    rmw_gid_t => |fx| { let g = fx.gid; fx.keep(g) };
}

/// Preallocations: optional (null) where used; a zeroed struct for the unsupported
/// init/fini functions.
macro_rules! allocation {
    ($($t:ty),*) => {$(
        impl Pointee for $t {
            fn make(fx: &mut Fixture, site: Site, case: Option<Case>) -> *mut Self {
                match case {
                    None if site.func.contains("_allocation") => fx.keep(<$t>::default()),
                    None => null_mut(),
                    Some(Case::Zero) => fx.keep(<$t>::default()),
                    Some(Case::Foreign) => fx.keep(Self {
                        implementation_identifier: FOREIGN.as_ptr(),
                        data: null_mut(),
                    }),
                    c => unexpected(site, c),
                }
            }
        }
    )*};
}
allocation!(rmw_publisher_allocation_t, rmw_subscription_allocation_t);

impl Pointee for rosidl_message_type_support_t {
    fn make(fx: &mut Fixture, site: Site, case: Option<Case>) -> *mut Self {
        match case {
            None => fx.string.ts.cast_mut(),
            Some(Case::Zero) => fx.keep(Self::default()),
            Some(Case::Foreign) => fx.keep(Self {
                typesupport_identifier: c"not_a_typesupport".as_ptr(),
                ..Default::default()
            }),
            c => unexpected(site, c),
        }
    }
}

impl Pointee for rosidl_service_type_support_t {
    fn make(fx: &mut Fixture, site: Site, case: Option<Case>) -> *mut Self {
        match case {
            None => fx.srv.ts.cast_mut(),
            Some(Case::Zero) => fx.keep(Self::default()),
            Some(Case::Foreign) => fx.keep(Self {
                typesupport_identifier: c"not_a_typesupport".as_ptr(),
                ..Default::default()
            }),
            c => unexpected(site, c),
        }
    }
}

impl Pointee for rcutils_allocator_t {
    fn make(fx: &mut Fixture, site: Site, case: Option<Case>) -> *mut Self {
        let v = <Self as Value>::make(fx, site, case);
        fx.keep(v)
    }
}

impl Value for rcutils_allocator_t {
    fn make(_: &mut Fixture, site: Site, case: Option<Case>) -> Self {
        match case {
            // SAFETY: returns the default allocator by value.
            None => unsafe { rcutils_get_default_allocator() },
            Some(Case::Zero) => Self::default(),
            c => unexpected(site, c),
        }
    }
}

/// Result arrays that must be zero-initialized; `NotZero` claims one element (with no data,
/// so that a missing check would leak nothing and free nothing).
macro_rules! zero_array {
    ($($t:ty => |$a:ident| $dirty:expr;)*) => {$(
        impl Pointee for $t {
            fn make(fx: &mut Fixture, site: Site, case: Option<Case>) -> *mut Self {
                match case {
                    None => fx.keep(<$t>::default()),
                    Some(Case::NotZero) => {
                        let mut $a = <$t>::default();
                        $dirty;
                        fx.keep($a)
                    }
                    c => unexpected(site, c),
                }
            }
        }
    )*};
}
zero_array! {
    rcutils_string_array_t => |a| a.size = 1;
    rmw_names_and_types_t => |a| a.names.size = 1;
    rmw_topic_endpoint_info_array_t => |a| a.size = 1;
}

/// Loan out-arguments: point to null, or (`NotZero`) to a message the caller would leak.
impl Pointee for *mut c_void {
    fn make(fx: &mut Fixture, site: Site, case: Option<Case>) -> *mut Self {
        match case {
            None => fx.keep(null_mut()),
            Some(Case::NotZero) => {
                let m = fx.message.cast();
                fx.keep(m)
            }
            c => unexpected(site, c),
        }
    }
}

/// Messages: a request or response of the service type, std_msgs/String otherwise; room for
/// any event status; no user data.
impl Pointee for c_void {
    fn make(fx: &mut Fixture, site: Site, case: Option<Case>) -> *mut Self {
        if case.is_some() {
            unexpected(site, case);
        }
        match site.arg {
            "ros_request" => fx.request,
            "ros_response" => fx.response,
            "event_info" => fx.keep([0u64; 16]).cast(),
            "user_data" => null_mut(),
            _ => fx.message.cast(),
        }
    }
}

/// Strings: names valid for their use; `reason` is a 64-byte output buffer.
impl Pointee for c_char {
    fn make(fx: &mut Fixture, site: Site, case: Option<Case>) -> *mut Self {
        if case.is_some() {
            unexpected(site, case);
        }
        let s = match site.arg {
            "reason" => return fx.keep([0 as c_char; 64]).cast(),
            "name" | "node_name" => "bad_input",
            "namespace_" | "node_namespace" => "/",
            "service_name" => "/bad_input_srv",
            "serialization_lib_name" => "fastrtps",
            _ => "/bad_input",
        };
        let c = CString::new(s).unwrap();
        let p = c.as_ptr().cast_mut();
        fx.keep(c);
        p
    }
}

/// Plain structs and out-values: zero-initialized storage (`Default` of a bindgen struct is
/// all zero).
macro_rules! plain {
    ($($t:ty),*) => {$(
        impl Pointee for $t {
            fn make(fx: &mut Fixture, site: Site, case: Option<Case>) -> *mut Self {
                if case.is_some() {
                    unexpected(site, case);
                }
                fx.keep(<$t>::default())
            }
        }
    )*};
}
plain!(
    bool,
    usize,
    i64,
    u32,
    rmw_publisher_options_t,
    rmw_subscription_options_t,
    rmw_subscription_content_filter_options_t,
    rmw_message_info_t,
    rmw_request_id_t,
    rmw_service_info_t,
    rmw_network_flow_endpoint_array_t,
    rosidl_dynamic_typesupport_dynamic_data_t,
    rosidl_dynamic_typesupport_serialization_support_t,
    rmw_time_t
);

impl Pointee for rmw_qos_profile_t {
    fn make(fx: &mut Fixture, site: Site, case: Option<Case>) -> *mut Self {
        if case.is_some() {
            unexpected(site, case);
        }
        fx.keep(valid_qos())
    }
}

impl Pointee for rmw_serialized_message_t {
    fn make(fx: &mut Fixture, site: Site, case: Option<Case>) -> *mut Self {
        if case.is_some() {
            unexpected(site, case);
        }
        &mut *fx.serialized
    }
}

/// `rmw_take_sequence`'s sequences: capacity 1, holding the fixture's message.
impl Pointee for rmw_message_sequence_t {
    fn make(fx: &mut Fixture, site: Site, case: Option<Case>) -> *mut Self {
        if case.is_some() {
            unexpected(site, case);
        }
        let data = fx.keep([fx.message.cast::<c_void>()]).cast();
        fx.keep(rmw_message_sequence_t {
            data,
            size: 0,
            capacity: 1,
            allocator: null_mut(),
        })
    }
}

impl Pointee for rmw_message_info_sequence_t {
    fn make(fx: &mut Fixture, site: Site, case: Option<Case>) -> *mut Self {
        if case.is_some() {
            unexpected(site, case);
        }
        let data = fx.keep([rmw_message_info_t::default()]).cast();
        fx.keep(rmw_message_info_sequence_t {
            data,
            size: 0,
            capacity: 1,
            allocator: null_mut(),
        })
    }
}

/// Optional by type: `rmw_wait`'s arrays and message bounds are null.
macro_rules! optional {
    ($($t:ty),*) => {$(
        impl Pointee for $t {
            fn make(_: &mut Fixture, site: Site, case: Option<Case>) -> *mut Self {
                if case.is_some() {
                    unexpected(site, case);
                }
                null_mut()
            }
        }
    )*};
}
optional!(
    rmw_subscriptions_t,
    rmw_guard_conditions_t,
    rmw_services_t,
    rmw_clients_t,
    rmw_events_t,
    rosidl_runtime_c__Sequence__bound
);

impl Value for bool {
    fn make(_: &mut Fixture, site: Site, case: Option<Case>) -> Self {
        if case.is_some() {
            unexpected(site, case);
        }
        false
    }
}

impl Value for usize {
    fn make(_: &mut Fixture, site: Site, case: Option<Case>) -> Self {
        match (site.arg, case) {
            ("reason_size", None) => 64,
            (_, None) => 1,
            ("count", Some(Case::OutOfRange)) => 0,
            (_, c) => unexpected(site, c),
        }
    }
}

/// The enums (`rmw_event_type_t`, `rmw_feature_t`, `rmw_log_severity_t`).
impl Value for u32 {
    fn make(_: &mut Fixture, site: Site, case: Option<Case>) -> Self {
        match (site.func, site.arg, case) {
            (_, _, Some(Case::OutOfRange)) => 0xdead,
            ("rmw_publisher_event_init", _, None) => rmw_event_type_e_RMW_EVENT_PUBLICATION_MATCHED,
            (_, "event_type" | "rmw_event_type", None) => {
                rmw_event_type_e_RMW_EVENT_SUBSCRIPTION_MATCHED
            }
            (_, "severity", None) => rmw_log_severity_t_RMW_LOG_SEVERITY_INFO,
            (_, "feature", None) => {
                rmw_feature_e_RMW_FEATURE_MESSAGE_INFO_PUBLICATION_SEQUENCE_NUMBER
            }
            (_, _, c) => unexpected(site, c),
        }
    }
}

impl Value for rmw_time_t {
    fn make(_: &mut Fixture, site: Site, case: Option<Case>) -> Self {
        if case.is_some() {
            unexpected(site, case);
        }
        rmw_time_t { sec: 0, nsec: 0 }
    }
}

impl Value for rmw_qos_profile_t {
    fn make(_: &mut Fixture, site: Site, case: Option<Case>) -> Self {
        if case.is_some() {
            unexpected(site, case);
        }
        valid_qos()
    }
}

/// Listener callbacks: none (unsets it, which is valid).
impl Value for rmw_event_callback_t {
    fn make(_: &mut Fixture, site: Site, case: Option<Case>) -> Self {
        if case.is_some() {
            unexpected(site, case);
        }
        None
    }
}
