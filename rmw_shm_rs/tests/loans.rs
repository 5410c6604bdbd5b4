//! Loaned messages through the C ABI (docs/architecture.md, "Loaned messages"): fixed-size
//! types lend shared-memory samples; both payload formats (raw C struct, CDR) reach every
//! subscription; the loan limits give RMW_RET_BAD_ALLOC with a message naming
//! RMW_SHM_RS_MAX_LOANS. Publisher and subscription live in two contexts (two iceoryx2 nodes).

use std::ffi::c_void;
use std::ptr::null_mut;

use rmw_shm_rs::error::*;
use rmw_shm_rs::ffi::{loan::*, node::*, publisher::*, serialize::*, subscription::*};
use rmw_shm_rs::sys::{
    rcutils_get_default_allocator, rcutils_uint8_array_fini, rcutils_uint8_array_init,
    rcutils_uint8_array_t,
};

mod loan_support;
use loan_support::*;

#[test]
fn can_loan_messages_exactly_for_plain_types() {
    let types = Types::load();
    let mut c = init(131);
    let n = node(&mut c, c"can_loan");
    let p = publisher(n, types.basic, c"/can_loan_basic", 5);
    let s = subscription(n, types.basic, c"/can_loan_basic", 5);
    let ps = publisher(n, types.string.ts, c"/can_loan_string", 5);
    let ss = subscription(n, types.string.ts, c"/can_loan_string", 5);
    // SAFETY: live handles from the functions above.
    unsafe {
        assert!((*p).can_loan_messages);
        assert!((*s).can_loan_messages);
        assert!(!(*ps).can_loan_messages);
        assert!(!(*ss).can_loan_messages);
        // std_msgs/String has no loans: the documented UNSUPPORTED, with a message.
        let mut loan: *mut c_void = null_mut();
        assert_eq!(
            rmw_borrow_loaned_message(ps, types.string.ts, &mut loan),
            RET_UNSUPPORTED
        );
        assert!(error_text().contains("not a fixed-size type"));
        let mut taken = false;
        assert_eq!(
            rmw_take_loaned_message(ss, &mut loan, &mut taken, null_mut()),
            RET_UNSUPPORTED
        );
        assert!(error_text().contains("not a fixed-size type"));
        // Wrong type support, non-null *ros_message, null arguments.
        assert_eq!(
            rmw_borrow_loaned_message(p, types.string.ts, &mut loan),
            RET_INVALID_ARGUMENT
        );
        error_text();
        let mut not_null = 8usize as *mut c_void;
        assert_eq!(
            rmw_borrow_loaned_message(p, types.basic, &mut not_null),
            RET_INVALID_ARGUMENT
        );
        error_text();
        assert_eq!(
            rmw_borrow_loaned_message(null_mut(), types.basic, &mut loan),
            RET_INVALID_ARGUMENT
        );
        error_text();
        assert_eq!(
            rmw_publish_loaned_message(p, null_mut(), null_mut()),
            RET_INVALID_ARGUMENT
        );
        error_text();
        for h in [ss, s] {
            assert_eq!(rmw_destroy_subscription(n, h), RET_OK);
        }
        for h in [ps, p] {
            assert_eq!(rmw_destroy_publisher(n, h), RET_OK);
        }
        assert_eq!(rmw_destroy_node(n), RET_OK);
    }
    fini(c);
}

#[test]
fn loaned_publish_reaches_loaned_and_copying_subscriptions() {
    let types = Types::load();
    let (mut a, mut b) = (init(132), init(132));
    let (na, nb) = (node(&mut a, c"loan_pub"), node(&mut b, c"loan_sub"));
    let topic = c"/loans_roundtrip";
    let loan_sub = subscription(nb, types.basic, topic, 10);
    let copy_sub = subscription(nb, types.basic, topic, 10);
    let serialized_sub = subscription(nb, types.basic, topic, 10);
    let p = publisher(na, types.basic, topic, 10);
    // SAFETY: live handles; messages are BasicTypes; the serialized array uses the default
    // allocator.
    unsafe {
        let mut gid = rmw_shm_rs::sys::rmw_gid_t::default();
        assert_eq!(rmw_get_gid_for_publisher(p, &mut gid), RET_OK);
        for i in 1..=3u32 {
            let msg = BasicTypes::sample(i);
            publish_loaned(&types, p, msg);
            // Loan-capable subscription: a pointer into the sample, fields as written.
            let (got, info) = take_loaned(loan_sub);
            assert_eq!(got, msg);
            assert_eq!(info.publication_sequence_number, u64::from(i));
            assert_eq!(info.publisher_gid.data, gid.data);
            assert!(info.source_timestamp > 0);
            // rmw_take copies the raw struct into the caller's message.
            assert_eq!(take_copy(copy_sub), msg);
            // rmw_take_serialized_message turns the raw struct into CDR, the same bytes as
            // rmw_serialize.
            let mut expected = rcutils_uint8_array_t::default();
            let mut got = rcutils_uint8_array_t::default();
            for arr in [&mut expected, &mut got] {
                assert_eq!(
                    rcutils_uint8_array_init(arr, 0, &rcutils_get_default_allocator()),
                    RET_OK
                );
            }
            assert_eq!(
                rmw_serialize(
                    (&msg as *const BasicTypes).cast(),
                    types.basic,
                    &mut expected
                ),
                RET_OK
            );
            let mut taken = false;
            assert_eq!(
                rmw_take_serialized_message(serialized_sub, &mut got, &mut taken, null_mut()),
                RET_OK,
                "{}",
                error_text()
            );
            assert!(taken);
            assert_eq!(
                std::slice::from_raw_parts(got.buffer, got.buffer_length),
                std::slice::from_raw_parts(expected.buffer, expected.buffer_length)
            );
            for arr in [&mut expected, &mut got] {
                assert_eq!(rcutils_uint8_array_fini(arr), RET_OK);
            }
        }
        // A returned loan is not sent.
        let mut loan: *mut c_void = null_mut();
        assert_eq!(rmw_borrow_loaned_message(p, types.basic, &mut loan), RET_OK);
        assert_eq!(rmw_return_loaned_message_from_publisher(p, loan), RET_OK);
        // ... and cannot be published or returned again.
        assert_eq!(
            rmw_publish_loaned_message(p, loan, null_mut()),
            RET_INVALID_ARGUMENT
        );
        assert!(error_text().contains("not a message loaned by this publisher"));
        assert_eq!(
            rmw_return_loaned_message_from_publisher(p, loan),
            RET_INVALID_ARGUMENT
        );
        error_text();
        let mut taken = true;
        assert_eq!(
            rmw_take_loaned_message(loan_sub, &mut loan_nulled(), &mut taken, null_mut()),
            RET_OK
        );
        assert!(!taken);
        assert_eq!(rmw_destroy_publisher(na, p), RET_OK);
        for s in [loan_sub, copy_sub, serialized_sub] {
            assert_eq!(rmw_destroy_subscription(nb, s), RET_OK);
        }
        assert_eq!(rmw_destroy_node(na), RET_OK);
        assert_eq!(rmw_destroy_node(nb), RET_OK);
    }
    fini(a);
    fini(b);
}

fn loan_nulled() -> *mut c_void {
    null_mut()
}

#[test]
fn cdr_publish_reaches_loaned_take() {
    let types = Types::load();
    let (mut a, mut b) = (init(133), init(133));
    let (na, nb) = (node(&mut a, c"cdr_pub"), node(&mut b, c"cdr_sub"));
    let topic = c"/loans_from_cdr";
    let s = subscription(nb, types.basic, topic, 10);
    let p = publisher(na, types.basic, topic, 10);
    for i in 1..=3u32 {
        let msg = BasicTypes::sample(i);
        // SAFETY: a BasicTypes publisher and message.
        let r = unsafe { rmw_publish(p, (&msg as *const BasicTypes).cast(), null_mut()) };
        assert_eq!(r, RET_OK, "{}", error_text());
        let (got, info) = take_loaned(s);
        assert_eq!(got, msg);
        assert_eq!(info.publication_sequence_number, u64::from(i));
    }
    // SAFETY: live handles.
    unsafe {
        assert_eq!(rmw_destroy_publisher(na, p), RET_OK);
        assert_eq!(rmw_destroy_subscription(nb, s), RET_OK);
        assert_eq!(rmw_destroy_node(na), RET_OK);
        assert_eq!(rmw_destroy_node(nb), RET_OK);
    }
    fini(a);
    fini(b);
}

#[test]
fn loan_limits_are_errors_not_exhaustion() {
    // RMW_SHM_RS_MAX_LOANS is not set in the test environment: the default, 8.
    const MAX: usize = 8;
    let types = Types::load();
    let (mut a, mut b) = (init(134), init(134));
    let (na, nb) = (node(&mut a, c"limit_pub"), node(&mut b, c"limit_sub"));
    let topic = c"/loans_limits";
    let s = subscription(nb, types.basic, topic, 20);
    let p = publisher(na, types.basic, topic, 20);
    // SAFETY: live handles; loans hold BasicTypes.
    unsafe {
        let mut loans = Vec::new();
        for _ in 0..MAX {
            let mut loan: *mut c_void = null_mut();
            assert_eq!(
                rmw_borrow_loaned_message(p, types.basic, &mut loan),
                RET_OK,
                "{}",
                error_text()
            );
            loans.push(loan);
        }
        let mut loan: *mut c_void = null_mut();
        assert_eq!(
            rmw_borrow_loaned_message(p, types.basic, &mut loan),
            RET_BAD_ALLOC
        );
        let e = error_text();
        assert!(e.contains("RMW_SHM_RS_MAX_LOANS"), "{e}");
        assert!(loan.is_null());
        // Giving one back makes room; publishing all of them works.
        assert_eq!(
            rmw_return_loaned_message_from_publisher(p, loans.pop().unwrap()),
            RET_OK
        );
        loans.push(null_mut());
        assert_eq!(
            rmw_borrow_loaned_message(p, types.basic, loans.last_mut().unwrap()),
            RET_OK
        );
        for (i, &l) in loans.iter().enumerate() {
            *l.cast::<BasicTypes>() = BasicTypes::sample(i as u32);
            assert_eq!(rmw_publish_loaned_message(p, l, null_mut()), RET_OK);
        }
        // Two more, by copy, so that more than MAX are queued.
        for i in MAX..MAX + 2 {
            let msg = BasicTypes::sample(i as u32);
            assert_eq!(
                rmw_publish(p, (&msg as *const BasicTypes).cast(), null_mut()),
                RET_OK
            );
        }
        // The subscription holds at most MAX loans.
        let mut held = Vec::new();
        for i in 0..MAX {
            let mut l: *mut c_void = null_mut();
            let mut taken = false;
            assert_eq!(
                rmw_take_loaned_message(s, &mut l, &mut taken, null_mut()),
                RET_OK,
                "{}",
                error_text()
            );
            assert!(taken);
            assert_eq!(*l.cast::<BasicTypes>(), BasicTypes::sample(i as u32));
            held.push(l);
        }
        let mut l: *mut c_void = null_mut();
        let mut taken = false;
        assert_eq!(
            rmw_take_loaned_message(s, &mut l, &mut taken, null_mut()),
            RET_BAD_ALLOC
        );
        let e = error_text();
        assert!(e.contains("RMW_SHM_RS_MAX_LOANS"), "{e}");
        // Nothing was lost by the refusal: returning one lets the next message through.
        assert_eq!(
            rmw_return_loaned_message_from_subscription(s, held.remove(0)),
            RET_OK
        );
        assert_eq!(
            rmw_take_loaned_message(s, &mut l, &mut taken, null_mut()),
            RET_OK
        );
        assert!(taken);
        assert_eq!(*l.cast::<BasicTypes>(), BasicTypes::sample(MAX as u32));
        held.push(l);
        // Returning a pointer that is not a loan is an error; each loan returns once.
        let mut local = BasicTypes::default();
        assert_eq!(
            rmw_return_loaned_message_from_subscription(s, (&mut local as *mut BasicTypes).cast()),
            RET_INVALID_ARGUMENT
        );
        error_text();
        for l in held {
            assert_eq!(rmw_return_loaned_message_from_subscription(s, l), RET_OK);
        }
        // The last message still arrives, by copy this time.
        assert_eq!(take_copy(s), BasicTypes::sample(MAX as u32 + 1));
        assert_eq!(rmw_destroy_publisher(na, p), RET_OK);
        assert_eq!(rmw_destroy_subscription(nb, s), RET_OK);
        assert_eq!(rmw_destroy_node(na), RET_OK);
        assert_eq!(rmw_destroy_node(nb), RET_OK);
    }
    fini(a);
    fini(b);
}

#[test]
fn unreturned_loans_are_released_with_their_endpoints() {
    let types = Types::load();
    let mut a = init(135);
    let n = node(&mut a, c"leaky");
    let topic = c"/loans_leak";
    let s = subscription(n, types.basic, topic, 5);
    let p = publisher(n, types.basic, topic, 5);
    publish_loaned(&types, p, BasicTypes::sample(1));
    // SAFETY: live handles; the loans are dropped with their endpoints.
    unsafe {
        let mut loan: *mut c_void = null_mut();
        assert_eq!(rmw_borrow_loaned_message(p, types.basic, &mut loan), RET_OK);
        let mut l: *mut c_void = null_mut();
        let mut taken = false;
        assert_eq!(
            rmw_take_loaned_message(s, &mut l, &mut taken, null_mut()),
            RET_OK
        );
        assert!(taken);
        assert_eq!(rmw_destroy_publisher(n, p), RET_OK);
        assert_eq!(rmw_destroy_subscription(n, s), RET_OK);
        assert_eq!(rmw_destroy_node(n), RET_OK);
    }
    fini(a);
}

#[test]
fn fresh_samples_are_lent_zeroed() {
    let types = Types::load();
    let mut c = init(137);
    let n = node(&mut c, c"loan_zero");
    let p = publisher(n, types.basic, c"/loans_zeroed", 4);
    let mut loans = Vec::new();
    // SAFETY: a BasicTypes publisher; each loan holds a BasicTypes until returned.
    unsafe {
        // Never-used samples: all zero, the type's defaults (BasicTypes has none of its own).
        for _ in 0..4 {
            let mut loan: *mut c_void = null_mut();
            assert_eq!(
                rmw_borrow_loaned_message(p, types.basic, &mut loan),
                RET_OK,
                "{}",
                error_text()
            );
            assert_eq!(*loan.cast::<BasicTypes>(), BasicTypes::default());
            loans.push(loan);
        }
        for loan in loans {
            assert_eq!(rmw_return_loaned_message_from_publisher(p, loan), RET_OK);
        }
        assert_eq!(rmw_destroy_publisher(n, p), RET_OK);
        assert_eq!(rmw_destroy_node(n), RET_OK);
    }
    fini(c);
}
