//! Path selection (issue 4): publishers and subscriptions of one context use the
//! intra-process path, others shared memory, and each subscription gets each message exactly
//! once whatever paths exist. Through the C ABI, as rcl calls it.

use std::ffi::{c_void, CStr};
use std::ptr::null_mut;
use std::time::{Duration, Instant};

use rmw_shm_rs::error::*;
use rmw_shm_rs::ffi::{node::*, publisher::*, subscription::*};
use rmw_shm_rs::sys::{rmw_node_t, rmw_publisher_t, rmw_qos_profile_t, rmw_subscription_t};

mod loan_support;
use loan_support::*;

const N: usize = 10;

fn wait_matched(p: *mut rmw_publisher_t, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let mut got = 0;
        // SAFETY: a live publisher.
        let r = unsafe { rmw_publisher_count_matched_subscriptions(p, &mut got) };
        assert_eq!(r, RET_OK);
        if got == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{got} of {n} subscriptions matched"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn publish_text(types: &Types, p: *mut rmw_publisher_t, text: &str) {
    let m = types.string.new_msg(text);
    // SAFETY: a String publisher and message.
    let r = unsafe { rmw_publish(p, m.cast::<c_void>(), null_mut()) };
    assert_eq!(r, RET_OK, "{}", error_text());
    // SAFETY: from `new_msg`, published (copied) already.
    unsafe { (types.string.destroy)(m) };
}

/// Takes everything `s` has (waiting up to 2 s for `expected` messages, then 50 ms more for
/// anything extra): the texts and whether each came intra-process.
fn take_all(types: &Types, s: *mut rmw_subscription_t, expected: usize) -> Vec<(String, bool)> {
    let out = types.string.new_msg("");
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut quiet_until = None;
    loop {
        // SAFETY: a String subscription and message.
        match unsafe { try_take(s, out.cast()) } {
            Some(info) => got.push((text(out), info.from_intra_process)),
            None if got.len() >= expected => {
                let q = *quiet_until.get_or_insert(Instant::now() + Duration::from_millis(50));
                if Instant::now() >= q {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            None => {
                assert!(Instant::now() < deadline, "only {got:?} within 2 s");
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
    // SAFETY: from `new_msg`.
    unsafe { (types.string.destroy)(out) };
    got
}

fn texts(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("message {i}")).collect()
}

fn keep_all() -> rmw_qos_profile_t {
    rmw_qos_profile_t {
        history: 2, // KEEP_ALL
        ..qos(N)
    }
}

fn transient(depth: usize) -> rmw_qos_profile_t {
    rmw_qos_profile_t {
        durability: 1, // TRANSIENT_LOCAL
        ..qos(depth)
    }
}

fn destroy(node: *mut rmw_node_t, pubs: &[*mut rmw_publisher_t], subs: &[*mut rmw_subscription_t]) {
    // SAFETY: live handles of `node`.
    unsafe {
        for p in pubs {
            assert_eq!(rmw_destroy_publisher(node, *p), RET_OK);
        }
        for s in subs {
            assert_eq!(rmw_destroy_subscription(node, *s), RET_OK);
        }
        assert_eq!(rmw_destroy_node(node), RET_OK);
    }
}

#[test]
fn intra_and_shared_memory_subscriptions_each_get_every_message_once() {
    let types = Types::load();
    let (mut a, mut b) = (init(141), init(141));
    let (na, nb) = (node(&mut a, c"paths_a"), node(&mut b, c"paths_b"));
    let topic = c"/paths_once";
    let p = publisher(na, types.string.ts, topic, N);
    let intra = subscription(na, types.string.ts, topic, N);
    let keep_all_local = subscription_with(na, types.string.ts, topic, &keep_all());
    let other = subscription(nb, types.string.ts, topic, N);
    wait_matched(p, 3);
    for t in texts(N) {
        publish_text(&types, p, &t);
    }
    let want = |intra: bool| texts(N).into_iter().map(|t| (t, intra)).collect::<Vec<_>>();
    assert_eq!(
        take_all(&types, intra, N),
        want(true),
        "same context: intra-process"
    );
    assert_eq!(
        take_all(&types, keep_all_local, N),
        want(false),
        "same context, RELIABLE KEEP_ALL: shared memory"
    );
    assert_eq!(
        take_all(&types, other, N),
        want(false),
        "other context: shared memory"
    );
    destroy(na, &[p], &[intra, keep_all_local]);
    destroy(nb, &[], &[other]);
    fini(a);
    fini(b);
}

#[test]
fn transient_local_history_reaches_late_joiners_once_on_either_path() {
    let types = Types::load();
    let (mut a, mut b) = (init(142), init(142));
    let (na, nb) = (node(&mut a, c"paths_tl_a"), node(&mut b, c"paths_tl_b"));
    let topic = c"/paths_transient";
    let p = publisher_with(na, types.string.ts, topic, &transient(5));
    for t in texts(5) {
        publish_text(&types, p, &t);
    }
    let intra = subscription_with(na, types.string.ts, topic, &transient(5));
    let other = subscription_with(nb, types.string.ts, topic, &transient(5));
    let want = |intra: bool| texts(5).into_iter().map(|t| (t, intra)).collect::<Vec<_>>();
    assert_eq!(take_all(&types, intra, 5), want(true));
    assert_eq!(take_all(&types, other, 5), want(false));
    // After the history, live messages: once each, too.
    wait_matched(p, 2);
    publish_text(&types, p, "live");
    assert_eq!(take_all(&types, intra, 1), vec![("live".to_owned(), true)]);
    assert_eq!(take_all(&types, other, 1), vec![("live".to_owned(), false)]);
    destroy(na, &[p], &[intra]);
    destroy(nb, &[], &[other]);
    fini(a);
    fini(b);
}

#[test]
fn intra_process_subscriptions_cannot_change_what_others_see() {
    let types = Types::load();
    let mut a = init(143);
    let na = node(&mut a, c"paths_copy");
    let topic = c"/paths_copies";
    let p = publisher(na, types.string.ts, topic, N);
    let (s1, s2) = (
        subscription(na, types.string.ts, topic, N),
        subscription(na, types.string.ts, topic, N),
    );
    let msg = types.string.new_msg("original");
    let out = types.string.new_msg("");
    // SAFETY: String messages from `new_msg`, String endpoints.
    unsafe {
        assert_eq!(rmw_publish(p, msg.cast(), null_mut()), RET_OK);
        // The publisher reuses its message at once; the subscriptions keep the published one.
        rmw_shm_rs::sys::rosidl_runtime_c__String__assign(msg, c"changed".as_ptr());
        assert!(take_within(s1, out.cast()).from_intra_process);
        assert_eq!(text(out), "original");
        rmw_shm_rs::sys::rosidl_runtime_c__String__assign(out, c"mutated".as_ptr());
        assert!(take_within(s2, out.cast()).from_intra_process);
        assert_eq!(text(out), "original");
        (types.string.destroy)(msg);
        (types.string.destroy)(out);
    }
    destroy(na, &[p], &[s1, s2]);
    fini(a);
}

#[test]
fn intra_process_delivers_images_and_loans_of_plain_types() {
    let types = Types::load();
    let image = ImageType::load();
    let mut a = init(144);
    let na = node(&mut a, c"paths_image");
    let topic: &CStr = c"/paths_image";
    let p = publisher(na, image.ts, topic, 2);
    let s = subscription(na, image.ts, topic, 2);
    let msg = image.new_msg(1 << 20, 5);
    let out = image.empty();
    // SAFETY: Image messages and endpoints.
    unsafe {
        assert_eq!(
            rmw_publish(p, msg.cast(), null_mut()),
            RET_OK,
            "{}",
            error_text()
        );
        assert!(take_within(s, out.cast()).from_intra_process);
        assert_eq!((*out).bytes(), (*msg).bytes());
        assert_eq!((*out).width, 1 << 20);
        (image.destroy)(msg);
        (image.destroy)(out);
    }

    // A loaned publish of a fixed-size type reaches a loaned and a copying take in the same
    // context.
    let topic = c"/paths_loans";
    let lp = publisher(na, types.basic, topic, N);
    let (l1, l2) = (
        subscription(na, types.basic, topic, N),
        subscription(na, types.basic, topic, N),
    );
    publish_loaned(&types, lp, BasicTypes::sample(3));
    let (got, info) = take_loaned(l1);
    assert_eq!(got, BasicTypes::sample(3));
    assert!(info.from_intra_process);
    assert_eq!(take_copy(l2), BasicTypes::sample(3));
    destroy(na, &[p, lp], &[s, l1, l2]);
    fini(a);
}

/// A pointer handed to another thread of the test (rmw handles are thread-safe).
struct SendPtr<T>(*mut T);
// SAFETY: rmw handles may be used from any thread; the test keeps them alive until joined.
unsafe impl<T> Send for SendPtr<T> {}

#[test]
fn keep_all_subscription_gets_every_message_even_before_it_connects() {
    // iceoryx2 drops a sample silently when the queue of a subscription that has not yet
    // connected to a new publisher is full: the subscription here does not touch its queue
    // for 300 ms while more messages than its queue holds (RMW_SHM_RS_MAX_DEPTH, 64) are
    // published. All of them still arrive, once each and in order.
    const M: usize = 200;
    let types = Types::load();
    let (mut a, mut b) = (init(143), init(143));
    let (na, nb) = (node(&mut a, c"keep_all_pub"), node(&mut b, c"keep_all_sub"));
    let topic = c"/keep_all_unconnected";
    let s = subscription_with(nb, types.string.ts, topic, &keep_all());
    let p = publisher(na, types.string.ts, topic, N);
    wait_matched(p, 1);
    let sub = SendPtr(s);
    let taker = std::thread::spawn(move || {
        let sub = sub;
        std::thread::sleep(Duration::from_millis(300));
        take_all(&Types::load(), sub.0, M)
    });
    for t in texts(M) {
        publish_text(&types, p, &t);
    }
    let got: Vec<String> = taker.join().unwrap().into_iter().map(|(t, _)| t).collect();
    assert_eq!(got, texts(M));
    destroy(na, &[p], &[]);
    destroy(nb, &[], &[s]);
    fini(a);
    fini(b);
}
