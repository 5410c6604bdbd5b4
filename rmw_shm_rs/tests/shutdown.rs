//! Shutdown (issue 7) at the C ABI, in the orders rcl and C programs produce:
//! - `rmw_shutdown` and `rmw_context_fini` while a node, publisher, subscription, service,
//!   client, guard condition and wait set still exist; the entities keep working for the calls
//!   rcl may still make, then each `rmw_destroy_*` returns `RMW_RET_OK`; every shared-memory
//!   file of the process is gone afterwards and the other context sees the publisher leave;
//! - the calls that reach a finished context or options again ("double destroy" as rcl can
//!   produce it: rcl frees its own handles once, but shutdown, fini and options fini can be
//!   repeated) get the codes rmw/init.h and rmw/init_options.h document, with a message;
//! - `rmw_shutdown` stops and joins the context's DDS graph watcher thread;
//! - `rmw_context_fini` before `rmw_shutdown` is refused and leaves the context usable.
//!
//! A destroyed handle's memory is freed (as in every rmw): calling `rmw_destroy_*` on it again
//! is use after free, which rcl never does (its `*_fini` clears `impl` and returns early).

use std::ffi::c_void;
use std::ptr::null_mut;
use std::time::{Duration, Instant};

use rmw_shm_rs::error::*;
use rmw_shm_rs::ffi::{
    client::*, graph::*, init::*, node::*, publisher::*, service::*, subscription::*, wait::*,
};
use rmw_shm_rs::sys::{
    rmw_get_zero_initialized_context, rmw_get_zero_initialized_init_options,
    rmw_guard_conditions_t, rmw_message_info_t, rmw_node_t, rmw_publisher_options_t,
    rmw_qos_profile_t, rmw_subscription_options_t, rmw_subscriptions_t, rmw_time_t,
};

mod common;
mod isolated;
use common::basic_types::Srv;
use common::*;
use isolated::*;

fn qos() -> rmw_qos_profile_t {
    rmw_qos_profile_t {
        history: 1,
        depth: 10,
        reliability: 1,
        durability: 2,
        ..Default::default()
    }
}

/// Asserts `ret` is `want` and that the error message contains `text`.
fn expect(ret: rmw_shm_rs::sys::rmw_ret_t, want: rmw_shm_rs::sys::rmw_ret_t, text: &str) {
    let msg = error_text();
    assert_eq!(ret, want, "{msg}");
    assert!(msg.contains(text), "message '{msg}' lacks '{text}'");
}

/// Publishers of `topic` that `node` sees in the graph.
///
/// # Safety
/// `node` is a live node.
unsafe fn publishers_seen(node: *const rmw_node_t, topic: &std::ffi::CStr) -> usize {
    let mut n = usize::MAX;
    // SAFETY: per the caller; a C string and an out-pointer.
    let r = unsafe { rmw_count_publishers(node, topic.as_ptr(), &mut n) };
    assert_eq!(r, RET_OK);
    n
}

/// The threads of this process named like the DDS graph watcher (`rmw_shm_rs-dds-graph`,
/// truncated to 15 bytes by the kernel).
fn watcher_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end() == "rmw_shm_rs-dds-")
        .count()
}

/// In a child with its own iceoryx2 prefix (the parent checks the files it leaves).
#[test]
fn live_entities_child() {
    if !child::is_child() {
        return;
    }
    let ty = StringType::load();
    let srv = Srv::load();
    let domain = child::random_domain() as usize;
    let (mut a, mut b) = (init(domain), init(domain));
    let topic = c"/shutdown_chatter";
    // SAFETY: the C ABI with valid arguments, in the order the comments give.
    unsafe {
        // Context A: one of everything. Context B: a subscription on A's topic (shared memory).
        let node = rmw_create_node(&mut *a.context, c"doomed".as_ptr(), c"/".as_ptr());
        assert!(!node.is_null(), "{}", error_text());
        let publ = rmw_create_publisher(
            node,
            ty.ts,
            topic.as_ptr(),
            &qos(),
            &rmw_publisher_options_t::default(),
        );
        let sub = rmw_create_subscription(
            node,
            ty.ts,
            topic.as_ptr(),
            &qos(),
            &rmw_subscription_options_t::default(),
        );
        let service = rmw_create_service(node, srv.ts, c"/shutdown_srv".as_ptr(), &qos());
        let client = rmw_create_client(node, srv.ts, c"/shutdown_srv".as_ptr(), &qos());
        let gc = rmw_create_guard_condition(&mut *a.context);
        let ws = rmw_create_wait_set(&mut *a.context, 4);
        for (p, what) in [
            (publ as *const c_void, "publisher"),
            (sub as *const c_void, "subscription"),
            (service as *const c_void, "service"),
            (client as *const c_void, "client"),
            (gc as *const c_void, "guard condition"),
            (ws as *const c_void, "wait set"),
        ] {
            assert!(!p.is_null(), "{what}: {}", error_text());
        }
        let node_b = rmw_create_node(&mut *b.context, c"survivor".as_ptr(), c"/".as_ptr());
        let sub_b = rmw_create_subscription(
            node_b,
            ty.ts,
            topic.as_ptr(),
            &qos(),
            &rmw_subscription_options_t::default(),
        );
        assert!(!sub_b.is_null(), "{}", error_text());
        let t0 = Instant::now();
        while publishers_seen(node_b, topic) != 1 {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "B never saw A's publisher"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let before = ty.new_msg("before shutdown");
        assert_eq!(rmw_publish(publ, before.cast(), null_mut()), RET_OK);

        // Each context with endpoints runs one DDS graph watcher thread (the delegate is on).
        assert_eq!(watcher_threads(), 2, "one DDS graph watcher per context");

        // rmw_shutdown with everything alive; again is a no-op (rmw/init.h).
        assert_eq!(rmw_shutdown(&mut *a.context), RET_OK);
        // A's watcher was stopped and joined by the shutdown: no thread of A outlives it.
        assert_eq!(watcher_threads(), 1, "A's DDS graph watcher still runs");
        assert_eq!(rmw_shutdown(&mut *a.context), RET_OK);
        // No new entities on a shut-down context.
        let p2 = rmw_create_publisher(
            node,
            ty.ts,
            c"/shutdown_late".as_ptr(),
            &qos(),
            &rmw_publisher_options_t::default(),
        );
        assert!(p2.is_null());
        assert!(error_text().contains("shut down"));
        assert!(rmw_create_node(&mut *a.context, c"late".as_ptr(), c"/".as_ptr()).is_null());
        assert!(error_text().contains("shut down"));

        // rmw_context_fini with everything alive: OK, the context is zeroed (rmw/init.h).
        assert_eq!(rmw_context_fini(&mut *a.context), RET_OK);
        assert!(a.context.implementation_identifier.is_null() && a.context.impl_.is_null());
        // Again, and shutdown of the finished context: a zero-initialized context is invalid.
        expect(
            rmw_context_fini(&mut *a.context),
            RET_INVALID_ARGUMENT,
            "no implementation identifier",
        );
        expect(
            rmw_shutdown(&mut *a.context),
            RET_INVALID_ARGUMENT,
            "no implementation identifier",
        );

        // The entities still answer the calls rcl can make before destroying them: the message
        // published before shutdown is taken on both sides, the guard condition wakes a wait.
        let out = ty.new_msg("");
        let mut taken = false;
        let mut info = rmw_message_info_t::default();
        assert_eq!(
            rmw_take_with_info(sub, out.cast(), &mut taken, &mut info, null_mut()),
            RET_OK
        );
        assert!(taken);
        assert_eq!(text(out), "before shutdown");
        let t0 = Instant::now();
        loop {
            taken = false;
            assert_eq!(
                rmw_take_with_info(sub_b, out.cast(), &mut taken, &mut info, null_mut()),
                RET_OK
            );
            if taken {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "B never got the message"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(text(out), "before shutdown");
        assert_eq!(rmw_trigger_guard_condition(gc), RET_OK);
        let mut gslot = [(*gc).data];
        let mut gcs = rmw_guard_conditions_t {
            guard_condition_count: 1,
            guard_conditions: gslot.as_mut_ptr(),
        };
        let mut sslot = [(*sub).data];
        let mut subs = rmw_subscriptions_t {
            subscriber_count: 1,
            subscribers: sslot.as_mut_ptr(),
        };
        let second = rmw_time_t { sec: 1, nsec: 0 };
        assert_eq!(
            rmw_wait(
                &mut subs,
                &mut gcs,
                null_mut(),
                null_mut(),
                null_mut(),
                ws,
                &second
            ),
            RET_OK
        );
        assert_eq!(gslot[0], (*gc).data);
        // The subscription may be reported ready by its own publisher's shared-memory copy,
        // which the take drops (exactly once, docs/paths.md): nothing more is taken.
        taken = true;
        assert_eq!(
            rmw_take_with_info(sub, out.cast(), &mut taken, &mut info, null_mut()),
            RET_OK
        );
        assert!(!taken, "taken twice: {}", text(out));

        // Destroying everything after fini: RMW_RET_OK each, in rcl's order.
        assert_eq!(rmw_destroy_wait_set(ws), RET_OK, "{}", error_text());
        assert_eq!(rmw_destroy_guard_condition(gc), RET_OK, "{}", error_text());
        assert_eq!(rmw_destroy_client(node, client), RET_OK, "{}", error_text());
        assert_eq!(
            rmw_destroy_service(node, service),
            RET_OK,
            "{}",
            error_text()
        );
        assert_eq!(
            rmw_destroy_subscription(node, sub),
            RET_OK,
            "{}",
            error_text()
        );
        assert_eq!(
            rmw_destroy_publisher(node, publ),
            RET_OK,
            "{}",
            error_text()
        );
        assert_eq!(rmw_destroy_node(node), RET_OK, "{}", error_text());
        // The options outlive the context in rcl; finalized once, then invalid.
        assert_eq!(rmw_init_options_fini(&mut *a.options), RET_OK);
        expect(
            rmw_init_options_fini(&mut *a.options),
            RET_INVALID_ARGUMENT,
            "no implementation identifier",
        );

        // The other context sees A's publisher leave.
        let t0 = Instant::now();
        while publishers_seen(node_b, topic) != 0 {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "A's publisher never left B's graph"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        (ty.destroy)(before);
        (ty.destroy)(out);
        assert_eq!(rmw_destroy_subscription(node_b, sub_b), RET_OK);
        assert_eq!(rmw_destroy_node(node_b), RET_OK);
    }
    fini(b);
    println!("CHILD_DONE");
}

#[test]
fn shutdown_and_fini_with_live_entities() {
    if child::is_child() {
        return;
    }
    let iso = Isolated::new("shd");
    let c = iso.run("live_entities_child", &[]);
    assert!(c.status.success() && c.ran_one, "{}", c.report);
    assert!(c.report.contains("CHILD_DONE"), "{}", c.report);
    // Every port, segment and node record of the child is gone; iceoryx2's global counter stays.
    let files = iso.files();
    let left: Vec<_> = files.iter().filter(|f| !is_global_mgmt(f)).collect();
    assert!(left.is_empty(), "left behind: {left:?}\n{}", c.report);
    iso.cleanup();
}

#[test]
fn context_fini_before_shutdown_is_refused() {
    let mut c = init(child::random_domain() as usize);
    // SAFETY: a context initialized by `init`.
    unsafe {
        expect(
            rmw_context_fini(&mut *c.context),
            RET_INVALID_ARGUMENT,
            "not been shut down",
        );
        // rmw/init.h: "return early ... leaving the given context unchanged": still usable.
        assert!(!c.context.impl_.is_null());
        let node = rmw_create_node(&mut *c.context, c"still_alive".as_ptr(), c"/".as_ptr());
        assert!(!node.is_null(), "{}", error_text());
        assert_eq!(rmw_destroy_node(node), RET_OK);
    }
    fini(c);
}

#[test]
fn null_and_zeroed_teardown_arguments_are_invalid() {
    // SAFETY: null and zero-initialized arguments, which the functions must reject.
    unsafe {
        expect(rmw_shutdown(null_mut()), RET_INVALID_ARGUMENT, "is null");
        expect(
            rmw_context_fini(null_mut()),
            RET_INVALID_ARGUMENT,
            "is null",
        );
        expect(
            rmw_init_options_fini(null_mut()),
            RET_INVALID_ARGUMENT,
            "is null",
        );
        let mut zc = rmw_get_zero_initialized_context();
        expect(
            rmw_shutdown(&mut zc),
            RET_INVALID_ARGUMENT,
            "no implementation identifier",
        );
        expect(
            rmw_context_fini(&mut zc),
            RET_INVALID_ARGUMENT,
            "no implementation identifier",
        );
        let mut zo = rmw_get_zero_initialized_init_options();
        expect(
            rmw_init_options_fini(&mut zo),
            RET_INVALID_ARGUMENT,
            "no implementation identifier",
        );
        expect(
            rmw_destroy_node(null_mut()),
            RET_INVALID_ARGUMENT,
            "is null",
        );
        expect(
            rmw_destroy_wait_set(null_mut()),
            RET_INVALID_ARGUMENT,
            "is null",
        );
        expect(
            rmw_destroy_guard_condition(null_mut()),
            RET_INVALID_ARGUMENT,
            "is null",
        );
        let mut zn: rmw_node_t = std::mem::zeroed();
        expect(
            rmw_destroy_node(&mut zn),
            RET_INVALID_ARGUMENT,
            "no implementation identifier",
        );
        expect(
            rmw_destroy_publisher(&mut zn, null_mut()),
            RET_INVALID_ARGUMENT,
            "",
        );
    }
}

#[test]
fn contexts_come_and_go_in_one_process() {
    // Init, use, tear down, many times: no state of a finished context leaks into the next.
    let ty = StringType::load();
    for round in 0..5 {
        let mut c = init(child::random_domain() as usize);
        // SAFETY: the C ABI with valid arguments.
        unsafe {
            let node = rmw_create_node(&mut *c.context, c"cycle".as_ptr(), c"/".as_ptr());
            assert!(!node.is_null(), "round {round}: {}", error_text());
            let publ = rmw_create_publisher(
                node,
                ty.ts,
                c"/cycle".as_ptr(),
                &qos(),
                &rmw_publisher_options_t::default(),
            );
            assert!(!publ.is_null(), "round {round}: {}", error_text());
            // Shut down first, destroy after (what rclpy does at exit).
            assert_eq!(rmw_shutdown(&mut *c.context), RET_OK);
            assert_eq!(rmw_destroy_publisher(node, publ), RET_OK);
            assert_eq!(rmw_destroy_node(node), RET_OK);
            assert_eq!(rmw_context_fini(&mut *c.context), RET_OK);
            assert_eq!(rmw_init_options_fini(&mut *c.options), RET_OK);
        }
    }
}
