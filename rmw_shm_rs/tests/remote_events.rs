//! QoS events cover the endpoints of other hosts (issue 5 item 6): a DDS subscription that no
//! shared-memory graph announces (a delegate context made directly: a stand-in for another host)
//! counts as a matched subscription of our publisher, and one with incompatible QoS raises
//! OFFERED_QOS_INCOMPATIBLE with the policy. Runs in a child process with the ROS libraries on
//! LD_LIBRARY_PATH (common/child.rs).

use std::ffi::c_void;
use std::ptr::null_mut;
use std::time::{Duration, Instant};

use rmw_shm_rs::delegate::{DdsContext, DdsSubscription, DiscoveryOptions, TypeSupportHandle};
use rmw_shm_rs::error::*;

use rmw_shm_rs::ffi::{event::*, init::*, node::*, publisher::*, wait::*};
use rmw_shm_rs::sys::{
    rcutils_get_default_allocator,
    rmw_automatic_discovery_range_e_RMW_AUTOMATIC_DISCOVERY_RANGE_LOCALHOST as LOCALHOST,
    rmw_event_fini, rmw_event_t,
    rmw_event_type_e_RMW_EVENT_OFFERED_QOS_INCOMPATIBLE as OFFERED_INCOMPATIBLE,
    rmw_event_type_e_RMW_EVENT_PUBLICATION_MATCHED as PUBLICATION_MATCHED,
    rmw_get_zero_initialized_context, rmw_get_zero_initialized_event,
    rmw_get_zero_initialized_init_options, rmw_guard_conditions_t, rmw_matched_status_t,
    rmw_offered_qos_incompatible_event_status_t, rmw_publisher_options_t,
    rmw_qos_policy_kind_e_RMW_QOS_POLICY_RELIABILITY as RMW_QOS_POLICY_RELIABILITY,
    rmw_qos_profile_t, rmw_time_t,
};

mod common;
use common::{child, error_text, StringType};

fn domain() -> usize {
    std::env::var("ROS_DOMAIN_ID").unwrap().parse().unwrap()
}

fn qos(reliability: u32) -> rmw_qos_profile_t {
    rmw_qos_profile_t {
        history: 1,
        depth: 10,
        reliability,
        durability: 2,
        ..Default::default()
    }
}

fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Takes the event into `T`, if it has changes.
fn take<T: Default>(event: &rmw_event_t) -> Option<T> {
    let mut status = T::default();
    let mut taken = false;
    // SAFETY: an initialized event of the matching type and a status struct of its type.
    let r = unsafe { rmw_take_event(event, (&mut status as *mut T).cast::<c_void>(), &mut taken) };
    assert_eq!(r, RET_OK, "{}", error_text());
    taken.then_some(status)
}

#[test]
fn remote_subscriptions_raise_matched_and_incompatible_qos_events() {
    if !child::is_child() {
        return child::assert_passes(
            "remote_subscriptions_raise_matched_and_incompatible_qos_events",
        );
    }
    let ty = StringType::load();
    // SAFETY: the rcl sequence on zero-initialized structs, then live handles, each finalized once.
    unsafe {
        let mut options = rmw_get_zero_initialized_init_options();
        assert_eq!(
            rmw_init_options_init(&mut options, rcutils_get_default_allocator()),
            RET_OK
        );
        options.domain_id = domain();
        options.discovery_options.automatic_discovery_range = LOCALHOST;
        let mut context = rmw_get_zero_initialized_context();
        assert_eq!(rmw_init(&options, &mut context), RET_OK, "{}", error_text());
        let node = rmw_create_node(&mut context, c"events_pub".as_ptr(), c"/".as_ptr());
        assert!(!node.is_null(), "{}", error_text());
        let popts = rmw_publisher_options_t::default();
        let topic = c"/remote_events";
        // BEST_EFFORT publisher: a RELIABLE subscription is incompatible with it.
        let p = rmw_create_publisher(node, ty.ts, topic.as_ptr(), &qos(2), &popts);
        assert!(!p.is_null(), "{}", error_text());
        let mut matched_ev = rmw_get_zero_initialized_event();
        let mut incompatible_ev = rmw_get_zero_initialized_event();
        assert_eq!(
            rmw_publisher_event_init(&mut matched_ev, p, PUBLICATION_MATCHED),
            RET_OK
        );
        assert_eq!(
            rmw_publisher_event_init(&mut incompatible_ev, p, OFFERED_INCOMPATIBLE),
            RET_OK
        );

        let discovery = DiscoveryOptions {
            range: LOCALHOST,
            static_peers: Vec::new(),
        };
        let far = DdsContext::new(domain(), "/", &discovery).expect("delegate context");
        let far_node = far.create_node(c"far_node", c"/").expect("delegate node");
        let ts = TypeSupportHandle(ty.ts);
        let graph_guard = rmw_node_get_graph_guard_condition(node);
        assert!(!graph_guard.is_null());
        let ws = rmw_create_wait_set(&mut context, 1);
        assert!(!ws.is_null(), "{}", error_text());
        // Drain what local changes triggered so far.
        let zero = rmw_time_t { sec: 0, nsec: 0 };
        let mut slot = [(*graph_guard).data];
        let mut gcs = rmw_guard_conditions_t {
            guard_condition_count: 1,
            guard_conditions: slot.as_mut_ptr(),
        };
        let _ = rmw_wait(
            null_mut(),
            &mut gcs,
            null_mut(),
            null_mut(),
            null_mut(),
            ws,
            &zero,
        );
        let compatible = DdsSubscription::new(&far_node, ts, topic, &qos(2), Box::new(|| {}))
            .expect("best-effort subscription");
        let mut matched: Option<rmw_matched_status_t> = None;
        eventually("the remote subscription matches", || {
            matched = take::<rmw_matched_status_t>(&matched_ev).or(matched);
            matched.is_some_and(|m| m.current_count == 1)
        });
        let mut n = 0;
        assert_eq!(rmw_publisher_count_matched_subscriptions(p, &mut n), RET_OK);
        assert_eq!(n, 1);
        // The remote change triggered the node's graph guard condition.
        let mut slot = [(*graph_guard).data];
        let mut gcs = rmw_guard_conditions_t {
            guard_condition_count: 1,
            guard_conditions: slot.as_mut_ptr(),
        };
        let second = rmw_time_t { sec: 1, nsec: 0 };
        assert_eq!(
            rmw_wait(
                null_mut(),
                &mut gcs,
                null_mut(),
                null_mut(),
                null_mut(),
                ws,
                &second
            ),
            RET_OK,
            "graph guard condition not triggered by a remote change"
        );
        assert!(!slot[0].is_null());

        let incompatible = DdsSubscription::new(&far_node, ts, topic, &qos(1), Box::new(|| {}))
            .expect("reliable subscription");
        let mut status: Option<rmw_offered_qos_incompatible_event_status_t> = None;
        eventually(
            "OFFERED_QOS_INCOMPATIBLE for the remote subscription",
            || {
                status = take(&incompatible_ev).or(status);
                status.is_some_and(|s| s.total_count > 0)
            },
        );
        let s = status.unwrap();
        assert_eq!(s.total_count, 1);
        assert_eq!(s.last_policy_kind, RMW_QOS_POLICY_RELIABILITY);
        assert_eq!(rmw_publisher_count_matched_subscriptions(p, &mut n), RET_OK);
        assert_eq!(n, 1, "the incompatible subscription is not matched");

        drop((compatible, incompatible, far_node, far));
        assert_eq!(rmw_destroy_wait_set(ws), RET_OK);
        assert_eq!(rmw_event_fini(&mut matched_ev), RET_OK);
        assert_eq!(rmw_event_fini(&mut incompatible_ev), RET_OK);
        assert_eq!(rmw_destroy_publisher(node, p), RET_OK);
        assert_eq!(rmw_destroy_node(node), RET_OK);
        assert_eq!(rmw_shutdown(&mut context), RET_OK);
        assert_eq!(rmw_context_fini(&mut context), RET_OK);
        assert_eq!(rmw_init_options_fini(&mut options), RET_OK);
    }
}
