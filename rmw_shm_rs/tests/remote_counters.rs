//! Exactly once, no waste on the remote path (issue 5), with the `counters` feature:
//!
//!     cargo test --release -p rmw_shm_rs --features counters --test remote_counters
//!
//! A publisher whose only subscription is on this host (another context: shared memory; both
//! contexts have delegates that discover each other over DDS) hands nothing to the delegate; once
//! a subscription of another DDS participant appears (a delegate context made directly, which no
//! shared-memory graph announces: a stand-in for another host), each message goes to the delegate
//! once, the remote subscription gets each message once and the shared-memory subscription still
//! gets each exactly once (the DDS copy from this host's delegate is dropped). Runs in a child
//! process with the ROS libraries on LD_LIBRARY_PATH (common/child.rs).
#![cfg(feature = "counters")]

use std::ffi::CStr;
use std::ptr::null_mut;
use std::time::{Duration, Instant};

use rmw_shm_rs::counters::Counters;
use rmw_shm_rs::delegate::{DdsContext, DdsSubscription, DiscoveryOptions, TypeSupportHandle};
use rmw_shm_rs::error::*;
use rmw_shm_rs::ffi::{init::*, node::*, publisher::*, subscription::*};
use rmw_shm_rs::sys::{
    rcutils_get_default_allocator,
    rmw_automatic_discovery_range_e_RMW_AUTOMATIC_DISCOVERY_RANGE_LOCALHOST as LOCALHOST,
    rmw_context_t, rmw_get_zero_initialized_context, rmw_get_zero_initialized_init_options,
    rmw_init_options_t, rmw_message_info_t, rmw_node_t, rmw_publisher_options_t, rmw_publisher_t,
    rmw_qos_profile_t, rmw_subscription_options_t, rmw_subscription_t,
};

mod common;
use common::{child, error_text, text, StringType};

const N: usize = 10;

struct Ctx {
    options: Box<rmw_init_options_t>,
    context: Box<rmw_context_t>,
}

fn domain() -> usize {
    std::env::var("ROS_DOMAIN_ID").unwrap().parse().unwrap()
}

fn init() -> Ctx {
    // SAFETY: the rcl sequence on zero-initialized structs.
    unsafe {
        let mut options = Box::new(rmw_get_zero_initialized_init_options());
        assert_eq!(
            rmw_init_options_init(&mut *options, rcutils_get_default_allocator()),
            RET_OK
        );
        options.domain_id = domain();
        options.discovery_options.automatic_discovery_range = LOCALHOST;
        let mut context = Box::new(rmw_get_zero_initialized_context());
        assert_eq!(
            rmw_init(&*options, &mut *context),
            RET_OK,
            "{}",
            error_text()
        );
        Ctx { options, context }
    }
}

fn qos() -> rmw_qos_profile_t {
    rmw_qos_profile_t {
        history: 1,
        depth: 100,
        reliability: 1,
        durability: 2,
        ..Default::default()
    }
}

fn node(c: &mut Ctx, name: &CStr) -> *mut rmw_node_t {
    // SAFETY: a live context, valid strings.
    let n = unsafe { rmw_create_node(&mut *c.context, name.as_ptr(), c"/".as_ptr()) };
    assert!(!n.is_null(), "{}", error_text());
    n
}

fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn matched(p: *mut rmw_publisher_t) -> usize {
    let mut n = 0;
    // SAFETY: a live publisher.
    let r = unsafe { rmw_publisher_count_matched_subscriptions(p, &mut n) };
    assert_eq!(r, RET_OK);
    n
}

fn publish_all(ty: &StringType, p: *mut rmw_publisher_t, round: usize) {
    for i in 0..N {
        let m = ty.new_msg(&format!("round {round} message {i}"));
        // SAFETY: a String publisher and message.
        unsafe {
            assert_eq!(
                rmw_publish(p, m.cast(), null_mut()),
                RET_OK,
                "{}",
                error_text()
            );
            (ty.destroy)(m);
        }
    }
}

/// Takes everything within 3 s (then 300 ms of quiet): the texts.
fn take_all(ty: &StringType, s: *mut rmw_subscription_t, expected: usize) -> Vec<String> {
    let out = ty.new_msg("");
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut quiet: Option<Instant> = None;
    loop {
        let (mut taken, mut info) = (false, rmw_message_info_t::default());
        // SAFETY: a String subscription and message.
        let r = unsafe { rmw_take_with_info(s, out.cast(), &mut taken, &mut info, null_mut()) };
        assert_eq!(r, RET_OK, "{}", error_text());
        if taken {
            got.push(text(out));
            continue;
        }
        if got.len() >= expected {
            let q = *quiet.get_or_insert(Instant::now() + Duration::from_millis(300));
            if Instant::now() > q {
                break;
            }
        } else if Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    // SAFETY: from `new_msg`.
    unsafe { (ty.destroy)(out) };
    got
}

fn expected(round: usize) -> Vec<String> {
    (0..N)
        .map(|i| format!("round {round} message {i}"))
        .collect()
}

#[test]
fn delegate_sends_only_for_remote_subscriptions_and_each_gets_each_once() {
    if !child::is_child() {
        return child::assert_passes(
            "delegate_sends_only_for_remote_subscriptions_and_each_gets_each_once",
        );
    }
    let ty = StringType::load();
    let (mut a, mut b) = (init(), init());
    let (na, nb) = (node(&mut a, c"counted_pub"), node(&mut b, c"counted_sub"));
    let topic = c"/remote_counted";
    let (popts, sopts) = (
        rmw_publisher_options_t::default(),
        rmw_subscription_options_t::default(),
    );
    // SAFETY: live nodes, a String type support, valid names and options.
    let (p, local) = unsafe {
        (
            rmw_create_publisher(na, ty.ts, topic.as_ptr(), &qos(), &popts),
            rmw_create_subscription(nb, ty.ts, topic.as_ptr(), &qos(), &sopts),
        )
    };
    assert!(!p.is_null() && !local.is_null(), "{}", error_text());
    eventually("the shared-memory subscription matches", || matched(p) == 1);
    // Give the two delegates time to discover each other's mirrors over DDS.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        matched(p),
        1,
        "this host's delegate mirrors must not count as remote"
    );

    let before = Counters::now();
    publish_all(&ty, p, 0);
    assert_eq!(
        Counters::now().since(&before).delegate_sends,
        0,
        "only local subscriptions"
    );
    assert_eq!(take_all(&ty, local, N), expected(0));

    // A DDS participant that is not one of this host's rmw_shm_rs processes.
    let discovery = DiscoveryOptions {
        range: LOCALHOST,
        static_peers: Vec::new(),
    };
    let far = DdsContext::new(domain(), "/", &discovery).expect("delegate context");
    let far_node = far
        .create_node(c"far_listener", c"/")
        .expect("delegate node");
    let remote = DdsSubscription::new(
        &far_node,
        TypeSupportHandle(ty.ts),
        topic,
        &qos(),
        Box::new(|| {}),
    )
    .expect("remote subscription");
    eventually("the remote subscription matches", || matched(p) == 2);

    let before = Counters::now();
    publish_all(&ty, p, 1);
    assert_eq!(
        Counters::now().since(&before).delegate_sends,
        N as u64,
        "one send per message"
    );
    assert_eq!(
        take_all(&ty, local, N),
        expected(1),
        "shared memory: each once, no DDS copy"
    );
    let mut far_got = Vec::new();
    let mut out = ty.new_msg("");
    let deadline = Instant::now() + Duration::from_secs(5);
    while far_got.len() < N && Instant::now() < deadline {
        match remote.take().expect("take") {
            Some(sample) => far_got.push(decode(&ty, sample.bytes(), &mut out)),
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    // SAFETY: from `new_msg`.
    unsafe { (ty.destroy)(out) };
    assert_eq!(far_got, expected(1), "remote subscription: each once");

    drop(remote);
    drop(far_node);
    drop(far);
    // SAFETY: live handles, destroyed once.
    unsafe {
        assert_eq!(rmw_destroy_publisher(na, p), RET_OK);
        assert_eq!(rmw_destroy_subscription(nb, local), RET_OK);
        assert_eq!(rmw_destroy_node(na), RET_OK);
        assert_eq!(rmw_destroy_node(nb), RET_OK);
        for c in [&mut a, &mut b] {
            assert_eq!(rmw_shutdown(&mut *c.context), RET_OK);
            assert_eq!(rmw_context_fini(&mut *c.context), RET_OK);
            assert_eq!(rmw_init_options_fini(&mut *c.options), RET_OK);
        }
    }
}

fn decode(
    ty: &StringType,
    bytes: &[u8],
    msg: &mut *mut rmw_shm_rs::sys::rosidl_runtime_c__String,
) -> String {
    // Decoded with the library's own codec, through rmw_deserialize.
    let ser = rmw_shm_rs::sys::rmw_serialized_message_t {
        buffer: bytes.as_ptr().cast_mut(),
        buffer_length: bytes.len(),
        buffer_capacity: bytes.len(),
        // SAFETY: returns the default allocator by value.
        allocator: unsafe { rcutils_get_default_allocator() },
    };
    // SAFETY: CDR bytes of a String and an initialized String message.
    let r = unsafe { rmw_shm_rs::ffi::serialize::rmw_deserialize(&ser, ty.ts, (*msg).cast()) };
    assert_eq!(r, RET_OK, "{}", error_text());
    text(*msg)
}
