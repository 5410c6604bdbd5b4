//! Listener callbacks, as rclcpp's events executor uses them: new-message callbacks of a
//! subscription (including messages already waiting when it is set), event callbacks, unset.

mod common;

use std::ffi::c_void;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use rmw_shm_rs::error::*;
use rmw_shm_rs::ffi::{callback::*, event::*, node::*, publisher::*, subscription::*};
use rmw_shm_rs::sys::{
    rmw_event_t, rmw_event_type_e_RMW_EVENT_SUBSCRIPTION_MATCHED, rmw_get_zero_initialized_event,
    rmw_matched_status_t, rmw_publisher_options_t, rmw_qos_profile_t, rmw_subscription_options_t,
};

unsafe extern "C" fn count(user_data: *const c_void, n: usize) {
    // SAFETY: the tests pass a pointer to an AtomicUsize that outlives the callback.
    unsafe { (*user_data.cast::<AtomicUsize>()).fetch_add(n, Ordering::SeqCst) };
}

fn wait_for(counter: &AtomicUsize, at_least: usize) -> usize {
    let end = Instant::now() + Duration::from_secs(5);
    while counter.load(Ordering::SeqCst) < at_least && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(5));
    }
    counter.load(Ordering::SeqCst)
}

#[test]
fn new_message_and_event_callbacks() {
    let ty = StringType::load();
    let mut c = init(81);
    let messages = AtomicUsize::new(0);
    let matched = AtomicUsize::new(0);
    // SAFETY: the C ABI as rclcpp uses it; the counters outlive their callbacks (unset below).
    unsafe {
        let node = rmw_create_node(&mut *c.context, c"callbacks".as_ptr(), c"/".as_ptr());
        let qos = rmw_qos_profile_t {
            history: 1,
            depth: 10,
            reliability: 1,
            durability: 2,
            ..Default::default()
        };
        let sub = rmw_create_subscription(
            node,
            ty.ts,
            c"/cb".as_ptr(),
            &qos,
            &rmw_subscription_options_t::default(),
        );
        assert!(!sub.is_null(), "{}", error_text());

        let mut event: rmw_event_t = rmw_get_zero_initialized_event();
        assert_eq!(
            rmw_subscription_event_init(
                &mut event,
                sub,
                rmw_event_type_e_RMW_EVENT_SUBSCRIPTION_MATCHED
            ),
            RET_OK
        );
        let matched_ptr: *const AtomicUsize = &matched;
        assert_eq!(
            rmw_event_set_callback(&mut event, Some(count), matched_ptr.cast()),
            RET_OK
        );

        let publisher = rmw_create_publisher(
            node,
            ty.ts,
            c"/cb".as_ptr(),
            &qos,
            &rmw_publisher_options_t::default(),
        );
        assert!(!publisher.is_null());
        assert!(
            wait_for(&matched, 1) >= 1,
            "matched event callback not called"
        );
        let mut status = rmw_matched_status_t::default();
        let mut taken = false;
        assert_eq!(
            rmw_take_event(
                &event,
                (&mut status as *mut rmw_matched_status_t).cast(),
                &mut taken
            ),
            RET_OK
        );
        assert!(taken);
        assert_eq!((status.current_count, status.total_count), (1, 1));

        // Two messages waiting before the callback is set: it is called for them at once.
        for text in ["a", "b"] {
            let m = ty.new_msg(text);
            assert_eq!(rmw_publish(publisher, m.cast(), null_mut()), RET_OK);
            (ty.destroy)(m);
        }
        let messages_ptr: *const AtomicUsize = &messages;
        assert_eq!(
            rmw_subscription_set_on_new_message_callback(sub, Some(count), messages_ptr.cast()),
            RET_OK
        );
        assert!(
            messages.load(Ordering::SeqCst) >= 1,
            "not called for waiting messages"
        );
        let before = messages.load(Ordering::SeqCst);
        for text in ["c", "d", "e"] {
            let m = ty.new_msg(text);
            assert_eq!(rmw_publish(publisher, m.cast(), null_mut()), RET_OK);
            (ty.destroy)(m);
        }
        assert!(
            wait_for(&messages, before + 3) >= before + 3,
            "callback did not count 3 new messages"
        );
        // Every announced message can be taken.
        let out = ty.new_msg("");
        let mut n = 0;
        let mut taken = true;
        while taken {
            assert_eq!(rmw_take(sub, out.cast(), &mut taken, null_mut()), RET_OK);
            n += usize::from(taken);
        }
        assert_eq!(n, 5);
        (ty.destroy)(out);

        // Unset: no further calls.
        assert_eq!(
            rmw_subscription_set_on_new_message_callback(sub, None, std::ptr::null()),
            RET_OK
        );
        assert_eq!(
            rmw_event_set_callback(&mut event, None, std::ptr::null()),
            RET_OK
        );
        let after = messages.load(Ordering::SeqCst);
        let m = ty.new_msg("f");
        assert_eq!(rmw_publish(publisher, m.cast(), null_mut()), RET_OK);
        (ty.destroy)(m);
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(messages.load(Ordering::SeqCst), after);

        assert_eq!(rmw_destroy_publisher(node, publisher), RET_OK);
        assert_eq!(rmw_destroy_subscription(node, sub), RET_OK);
        assert_eq!(rmw_destroy_node(node), RET_OK);
    }
    fini(c);
}
