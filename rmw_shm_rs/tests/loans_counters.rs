//! "Zero-copy" as a tested claim (issue 4, item 5), with the process-wide counters of the
//! `counters` feature:
//!
//!     cargo test --release -p rmw_shm_rs --features counters --test loans_counters
//!
//! A loaned publish and a loaned take between two contexts (two iceoryx2 nodes) serialize,
//! deserialize and copy nothing; the ordinary publish serializes each message exactly once,
//! whatever the number of subscriptions. One test only: the counters are process-wide.
#![cfg(feature = "counters")]

use std::ffi::c_void;
use std::ptr::null_mut;

use rmw_shm_rs::counters::Counters;
use rmw_shm_rs::error::*;
use rmw_shm_rs::ffi::{node::*, publisher::*, subscription::*};

mod loan_support;
use loan_support::*;

const N: u32 = 20;

#[test]
fn loans_copy_nothing_and_publish_serializes_once() {
    let types = Types::load();
    let (mut a, mut b) = (init(136), init(136));
    let (na, nb) = (node(&mut a, c"count_pub"), node(&mut b, c"count_sub"));
    let topic = c"/loans_counted";
    let loan_sub = subscription(nb, types.basic, topic, N as usize);
    let p = publisher(na, types.basic, topic, N as usize);
    let c_size = std::mem::size_of::<BasicTypes>() as u64;

    // Loaned publish -> loaned take, across two iceoryx2 nodes: nothing serialized,
    // deserialized or copied.
    let before = Counters::now();
    for i in 0..N {
        publish_loaned(&types, p, BasicTypes::sample(i));
    }
    for i in 0..N {
        let (got, _) = take_loaned(loan_sub);
        assert_eq!(got, BasicTypes::sample(i));
    }
    let loaned = Counters::now().since(&before);
    assert_eq!(loaned, Counters::default(), "loan path: {loaned:?}");

    // A loaned publish taken by rmw_take: one copy of the C struct per message, no codec.
    let before = Counters::now();
    for i in 0..N {
        publish_loaned(&types, p, BasicTypes::sample(i));
    }
    for i in 0..N {
        assert_eq!(take_copy(loan_sub), BasicTypes::sample(i));
    }
    let copied = Counters::now().since(&before);
    assert_eq!(
        copied,
        Counters {
            copies: u64::from(N),
            copied_bytes: u64::from(N) * c_size,
            ..Counters::default()
        },
        "loaned publish, copying take"
    );

    // The ordinary path: exactly one serialization per message at publish, one
    // deserialization per take, no copies.
    let before = Counters::now();
    for i in 0..N {
        let msg = BasicTypes::sample(i);
        // SAFETY: a BasicTypes publisher and message.
        let r = unsafe { rmw_publish(p, (&msg as *const BasicTypes).cast(), null_mut()) };
        assert_eq!(r, RET_OK, "{}", error_text());
    }
    let published = Counters::now().since(&before);
    assert_eq!(
        published,
        Counters {
            serializations: u64::from(N),
            ..Counters::default()
        }
    );
    for i in 0..N {
        assert_eq!(take_copy(loan_sub), BasicTypes::sample(i));
    }
    let taken = Counters::now().since(&before);
    assert_eq!(
        taken,
        Counters {
            serializations: u64::from(N),
            deserializations: u64::from(N),
            ..Counters::default()
        }
    );

    // A variable-size type with two subscriptions in another context: still one
    // serialization per message.
    let st = c"/loans_counted_string";
    let s1 = subscription(nb, types.string.ts, st, N as usize);
    let s2 = subscription(nb, types.string.ts, st, N as usize);
    let ps = publisher(na, types.string.ts, st, N as usize);
    let msg = types.string.new_msg("counted");
    let before = Counters::now();
    for _ in 0..N {
        // SAFETY: a String publisher and message.
        let r = unsafe { rmw_publish(ps, msg.cast::<c_void>(), null_mut()) };
        assert_eq!(r, RET_OK, "{}", error_text());
    }
    let strings = Counters::now().since(&before);
    assert_eq!(
        strings,
        Counters {
            serializations: u64::from(N),
            ..Counters::default()
        }
    );

    // SAFETY: live handles and a message from `new_msg`.
    unsafe {
        (types.string.destroy)(msg);
        assert_eq!(rmw_destroy_publisher(na, ps), RET_OK);
        assert_eq!(rmw_destroy_publisher(na, p), RET_OK);
        for s in [s1, s2, loan_sub] {
            assert_eq!(rmw_destroy_subscription(nb, s), RET_OK);
        }
        assert_eq!(rmw_destroy_node(na), RET_OK);
        assert_eq!(rmw_destroy_node(nb), RET_OK);
    }
    fini(a);
    fini(b);
}
