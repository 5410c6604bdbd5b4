//! Through the C ABI as rcl uses it: init, node, publisher, subscription, wait, take,
//! serialization; and the documented return codes for null and foreign handles.

use std::ffi::{c_void, CStr};
use std::ptr::{null, null_mut};

use libloading::Library;
use rmw_shm_rs::error::*;
use rmw_shm_rs::ffi::{
    event::*, graph::*, init::*, node::*, publisher::*, serialize::*, subscription::*,
    unsupported::*, wait::*,
};
use rmw_shm_rs::sys::{
    rcutils_get_default_allocator, rcutils_uint8_array_fini, rcutils_uint8_array_init,
    rcutils_uint8_array_t, rmw_gid_t, rmw_guard_conditions_t, rmw_message_info_t,
    rmw_publisher_options_t, rmw_qos_profile_t, rmw_subscription_options_t, rmw_subscriptions_t,
    rmw_time_t, rosidl_message_type_support_t,
};

mod common;
use common::*;

#[test]
fn publish_wait_take_roundtrip() {
    let ty = StringType::load();
    let mut c = init(77);
    // SAFETY: the C ABI used as rcl uses it, with valid arguments.
    unsafe {
        let node = rmw_create_node(&mut *c.context, c"abi_node".as_ptr(), c"/test".as_ptr());
        assert!(!node.is_null(), "{}", error_text());
        assert_eq!(CStr::from_ptr((*node).name), c"abi_node");
        let qos = rmw_qos_profile_t {
            history: 1,
            depth: 10,
            reliability: 1,
            durability: 2,
            ..Default::default()
        };
        let popts = rmw_publisher_options_t::default();
        let sopts = rmw_subscription_options_t::default();
        let pubh = rmw_create_publisher(node, ty.ts, c"/abi_chatter".as_ptr(), &qos, &popts);
        assert!(!pubh.is_null(), "{}", error_text());
        let subh = rmw_create_subscription(node, ty.ts, c"/abi_chatter".as_ptr(), &qos, &sopts);
        assert!(!subh.is_null(), "{}", error_text());

        let mut n = 0usize;
        assert_eq!(
            rmw_publisher_count_matched_subscriptions(pubh, &mut n),
            RET_OK
        );
        assert_eq!(n, 1);
        assert_eq!(
            rmw_subscription_count_matched_publishers(subh, &mut n),
            RET_OK
        );
        assert_eq!(n, 1);
        let mut actual = rmw_qos_profile_t::default();
        assert_eq!(rmw_publisher_get_actual_qos(pubh, &mut actual), RET_OK);
        assert_eq!((actual.depth, actual.reliability), (10, 1));

        let ws = rmw_create_wait_set(&mut *c.context, 1);
        assert!(!ws.is_null());
        // Nothing published yet: a zero timeout reports TIMEOUT and clears the entry.
        let mut slot = [(*subh).data];
        let mut subs = rmw_subscriptions_t {
            subscriber_count: 1,
            subscribers: slot.as_mut_ptr(),
        };
        let zero = rmw_time_t { sec: 0, nsec: 0 };
        assert_eq!(
            rmw_wait(
                &mut subs,
                null_mut(),
                null_mut(),
                null_mut(),
                null_mut(),
                ws,
                &zero
            ),
            RET_TIMEOUT
        );
        assert!(slot[0].is_null());

        for i in 0..3 {
            let m = ty.new_msg(&format!("hello {i}"));
            assert_eq!(
                rmw_publish(pubh, m.cast(), null_mut()),
                RET_OK,
                "{}",
                error_text()
            );
            (ty.destroy)(m);
        }
        let mut slot = [(*subh).data];
        let mut subs = rmw_subscriptions_t {
            subscriber_count: 1,
            subscribers: slot.as_mut_ptr(),
        };
        let second = rmw_time_t { sec: 5, nsec: 0 };
        assert_eq!(
            rmw_wait(
                &mut subs,
                null_mut(),
                null_mut(),
                null_mut(),
                null_mut(),
                ws,
                &second
            ),
            RET_OK
        );
        assert_eq!(slot[0], (*subh).data);

        let mut gid = rmw_gid_t::default();
        assert_eq!(rmw_get_gid_for_publisher(pubh, &mut gid), RET_OK);
        let out = ty.new_msg("");
        for i in 0..3u64 {
            let mut taken = false;
            let mut info = rmw_message_info_t::default();
            assert_eq!(
                rmw_take_with_info(subh, out.cast(), &mut taken, &mut info, null_mut()),
                RET_OK
            );
            assert!(taken);
            assert_eq!(text(out), format!("hello {i}"));
            assert_eq!(info.publication_sequence_number, i + 1);
            assert_eq!(info.publisher_gid.data, gid.data);
            assert!(info.source_timestamp > 0 && info.received_timestamp >= info.source_timestamp);
        }
        let mut taken = true;
        assert_eq!(rmw_take(subh, out.cast(), &mut taken, null_mut()), RET_OK);
        assert!(!taken);
        (ty.destroy)(out);

        // A guard condition wakes a wait and its trigger is consumed by it.
        let gc = rmw_create_guard_condition(&mut *c.context);
        assert_eq!(rmw_trigger_guard_condition(gc), RET_OK);
        let mut gslot = [(*gc).data];
        let mut gcs = rmw_guard_conditions_t {
            guard_condition_count: 1,
            guard_conditions: gslot.as_mut_ptr(),
        };
        assert_eq!(
            rmw_wait(
                null_mut(),
                &mut gcs,
                null_mut(),
                null_mut(),
                null_mut(),
                ws,
                null()
            ),
            RET_OK
        );
        assert_eq!(gslot[0], (*gc).data);
        let mut gslot = [(*gc).data];
        let mut gcs = rmw_guard_conditions_t {
            guard_condition_count: 1,
            guard_conditions: gslot.as_mut_ptr(),
        };
        assert_eq!(
            rmw_wait(
                null_mut(),
                &mut gcs,
                null_mut(),
                null_mut(),
                null_mut(),
                ws,
                &zero
            ),
            RET_TIMEOUT
        );

        assert_eq!(rmw_destroy_guard_condition(gc), RET_OK);
        assert_eq!(rmw_destroy_wait_set(ws), RET_OK);
        assert_eq!(rmw_destroy_subscription(node, subh), RET_OK);
        assert_eq!(rmw_destroy_publisher(node, pubh), RET_OK);
        assert_eq!(rmw_destroy_node(node), RET_OK);
    }
    fini(c);
}

#[test]
fn serialize_matches_cdr_layout() {
    let ty = StringType::load();
    // SAFETY: the C ABI with valid arguments; the array is initialized with the default allocator.
    unsafe {
        let m = ty.new_msg("hi");
        let mut arr = rcutils_uint8_array_t::default();
        assert_eq!(
            rcutils_uint8_array_init(&mut arr, 0, &rcutils_get_default_allocator()),
            RET_OK
        );
        assert_eq!(
            rmw_serialize(m.cast(), ty.ts, &mut arr),
            RET_OK,
            "{}",
            error_text()
        );
        let bytes = std::slice::from_raw_parts(arr.buffer, arr.buffer_length);
        assert_eq!(bytes, &[0, 1, 0, 0, 3, 0, 0, 0, b'h', b'i', 0]);
        let out = ty.new_msg("");
        assert_eq!(rmw_deserialize(&arr, ty.ts, out.cast()), RET_OK);
        assert_eq!(text(out), "hi");
        // Truncated input is an error with a message, never a crash.
        arr.buffer_length = 9;
        assert_eq!(rmw_deserialize(&arr, ty.ts, out.cast()), RET_ERROR);
        assert!(!error_text().is_empty());
        (ty.destroy)(m);
        (ty.destroy)(out);
        assert_eq!(rcutils_uint8_array_fini(&mut arr), RET_OK);
    }
}

#[test]
fn null_and_foreign_handles_get_documented_codes() {
    let ty = StringType::load();
    let mut c = init(78);
    // SAFETY: every call passes null or deliberately foreign handles; the library must reject
    // them without dereferencing anything it does not own.
    unsafe {
        assert_eq!(
            rmw_publish(null(), null(), null_mut()),
            RET_INVALID_ARGUMENT
        );
        assert!(error_text().contains("publisher is null"));
        assert!(rmw_create_node(null_mut(), c"n".as_ptr(), c"/".as_ptr()).is_null());
        assert!(!error_text().is_empty());
        assert_eq!(
            rmw_init_options_init(null_mut(), rcutils_get_default_allocator()),
            RET_INVALID_ARGUMENT
        );
        error_text();
        assert_eq!(
            rmw_wait(
                null_mut(),
                null_mut(),
                null_mut(),
                null_mut(),
                null_mut(),
                null_mut(),
                null()
            ),
            RET_INVALID_ARGUMENT
        );
        error_text();

        let node = rmw_create_node(&mut *c.context, c"foreign_test".as_ptr(), c"/".as_ptr());
        assert!(!node.is_null());
        // The same node handle claiming to come from rmw_fastrtps_cpp.
        let mut foreign = *node;
        foreign.implementation_identifier = c"rmw_fastrtps_cpp".as_ptr();
        let qos = rmw_qos_profile_t {
            history: 1,
            depth: 1,
            ..Default::default()
        };
        let p = rmw_create_publisher(
            &foreign,
            ty.ts,
            c"/x".as_ptr(),
            &qos,
            &rmw_publisher_options_t::default(),
        );
        assert!(p.is_null());
        assert!(error_text().contains("rmw_fastrtps_cpp"));
        let mut count = 0;
        assert_eq!(
            rmw_count_publishers(&foreign, c"/x".as_ptr(), &mut count),
            RET_INCORRECT_RMW_IMPLEMENTATION
        );
        error_text();
        // An invalid topic name is rejected.
        assert!(rmw_create_publisher(
            node,
            ty.ts,
            c"not valid//".as_ptr(),
            &qos,
            &rmw_publisher_options_t::default()
        )
        .is_null());
        assert!(error_text().contains("invalid topic name"));
        // Unsupported functions say so.
        assert_eq!(
            rmw_publisher_event_init(null_mut(), null(), 0),
            RET_INVALID_ARGUMENT
        );
        error_text();
        assert_eq!(rmw_fini_publisher_allocation(null_mut()), RET_UNSUPPORTED);
        assert!(error_text().contains("not supported"));
        // A type support handle that is not one.
        let bogus = rosidl_message_type_support_t {
            typesupport_identifier: c"bogus".as_ptr(),
            data: null::<c_void>(),
            func: None,
            ..Default::default()
        };
        let p = rmw_create_publisher(
            node,
            &bogus,
            c"/x".as_ptr(),
            &qos,
            &rmw_publisher_options_t::default(),
        );
        assert!(p.is_null());
        assert!(!error_text().is_empty());
        assert_eq!(rmw_destroy_node(node), RET_OK);
    }
    fini(c);
}

#[test]
fn other_type_on_same_topic_never_matches() {
    let ty = StringType::load();
    // SAFETY: loading a ROS message library and its documented type support symbol.
    let (_lib, int32_ts) = unsafe {
        let lib = Library::new(format!("{LIB}/lib/libstd_msgs__rosidl_typesupport_c.so")).unwrap();
        let get: libloading::Symbol<
            unsafe extern "C" fn() -> *const rosidl_message_type_support_t,
        > = lib
            .get(b"rosidl_typesupport_c__get_message_type_support_handle__std_msgs__msg__Int32")
            .unwrap();
        let ts = get();
        (lib, ts)
    };
    let mut c = init(79);
    // SAFETY: the C ABI with valid arguments.
    unsafe {
        let node = rmw_create_node(&mut *c.context, c"mismatch".as_ptr(), c"/".as_ptr());
        let qos = rmw_qos_profile_t {
            history: 1,
            depth: 10,
            reliability: 1,
            durability: 2,
            ..Default::default()
        };
        let pubh = rmw_create_publisher(
            node,
            ty.ts,
            c"/mixed".as_ptr(),
            &qos,
            &rmw_publisher_options_t::default(),
        );
        let subh = rmw_create_subscription(
            node,
            int32_ts,
            c"/mixed".as_ptr(),
            &qos,
            &rmw_subscription_options_t::default(),
        );
        assert!(!pubh.is_null() && !subh.is_null(), "{}", error_text());
        let mut n = 7usize;
        assert_eq!(
            rmw_publisher_count_matched_subscriptions(pubh, &mut n),
            RET_OK
        );
        assert_eq!(n, 0);
        let m = ty.new_msg("not an int");
        assert_eq!(rmw_publish(pubh, m.cast(), null_mut()), RET_OK);
        (ty.destroy)(m);
        let mut arr = rcutils_uint8_array_t::default();
        assert_eq!(
            rcutils_uint8_array_init(&mut arr, 0, &rcutils_get_default_allocator()),
            RET_OK
        );
        let mut taken = true;
        assert_eq!(
            rmw_take_serialized_message(subh, &mut arr, &mut taken, null_mut()),
            RET_OK
        );
        assert!(!taken, "a subscription of another type received bytes");
        assert_eq!(rcutils_uint8_array_fini(&mut arr), RET_OK);
        assert_eq!(rmw_destroy_subscription(node, subh), RET_OK);
        assert_eq!(rmw_destroy_publisher(node, pubh), RET_OK);
        assert_eq!(rmw_destroy_node(node), RET_OK);
    }
    fini(c);
}
