//! The copy claims of the fast paths (issue 4), with the process-wide counters of the
//! `counters` feature:
//!
//!     cargo test --release -p rmw_shm_rs --features counters --test paths_counters
//!
//! Intra-process delivery serializes and deserializes nothing (one deep copy into the stored
//! message, one out of it per take); a sensor_msgs/Image between two contexts costs one
//! serialization into the shared-memory sample and one deserialization out of it, with no
//! intermediate copy. One test only: the counters are process-wide.
#![cfg(feature = "counters")]

use std::ptr::null_mut;
use std::time::Duration;

use rmw_shm_rs::counters::Counters;
use rmw_shm_rs::error::*;
use rmw_shm_rs::ffi::{node::*, publisher::*, subscription::*};

mod loan_support;
use loan_support::*;

const N: u64 = 10;
const IMAGE_BYTES: usize = 1 << 20;

#[test]
fn intra_process_serializes_nothing_and_images_copy_once_per_side() {
    let types = Types::load();
    let image = ImageType::load();
    let (mut a, mut b) = (init(146), init(146));
    let (na, nb) = (node(&mut a, c"counted_a"), node(&mut b, c"counted_b"));

    // Intra-process: two subscriptions in the publisher's context.
    let topic = c"/paths_counted";
    let p = publisher(na, types.string.ts, topic, N as usize);
    let (s1, s2) = (
        subscription(na, types.string.ts, topic, N as usize),
        subscription(na, types.string.ts, topic, N as usize),
    );
    let out = types.string.new_msg("");
    let before = Counters::now();
    for i in 0..N {
        let m = types.string.new_msg(&format!("intra {i}"));
        // SAFETY: String endpoints and messages.
        unsafe {
            assert_eq!(
                rmw_publish(p, m.cast(), null_mut()),
                RET_OK,
                "{}",
                error_text()
            );
            (types.string.destroy)(m);
        }
    }
    for s in [s1, s2] {
        for i in 0..N {
            // SAFETY: as above.
            assert!(unsafe { take_within(s, out.cast()) }.from_intra_process);
            assert_eq!(text(out), format!("intra {i}"));
        }
    }
    let intra = Counters::now().since(&before);
    assert_eq!(
        intra,
        Counters {
            deep_copies: 3 * N,
            ..Counters::default()
        },
        "intra-process: one deep copy per publish and per take, nothing serialized"
    );

    // sensor_msgs/Image across contexts: one copy per side, the codec's.
    let topic = c"/paths_counted_image";
    let ip = publisher(na, image.ts, topic, 2);
    let is = subscription(nb, image.ts, topic, 2);
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        let mut n = 0;
        // SAFETY: a live publisher.
        unsafe { rmw_publisher_count_matched_subscriptions(ip, &mut n) };
        if n == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "image subscription never matched"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let msg = image.new_msg(IMAGE_BYTES, 9);
    let got = image.empty();
    let before = Counters::now();
    // SAFETY: Image endpoints and messages.
    unsafe {
        assert_eq!(
            rmw_publish(ip, msg.cast(), null_mut()),
            RET_OK,
            "{}",
            error_text()
        );
        let published = Counters::now().since(&before);
        assert_eq!(
            published,
            Counters {
                serializations: 1,
                ..Counters::default()
            },
            "publishing side: serialized straight into the sample"
        );
        assert!(!take_within(is, got.cast()).from_intra_process);
        assert_eq!((*got).bytes(), (*msg).bytes());
        (image.destroy)(msg);
        (image.destroy)(got);
    }
    let image_path = Counters::now().since(&before);
    assert_eq!(
        image_path,
        Counters {
            serializations: 1,
            deserializations: 1,
            ..Counters::default()
        },
        "taking side: deserialized straight out of the sample"
    );

    // SAFETY: live handles.
    unsafe {
        (types.string.destroy)(out);
        assert_eq!(rmw_destroy_publisher(na, p), RET_OK);
        assert_eq!(rmw_destroy_publisher(na, ip), RET_OK);
        assert_eq!(rmw_destroy_subscription(na, s1), RET_OK);
        assert_eq!(rmw_destroy_subscription(na, s2), RET_OK);
        assert_eq!(rmw_destroy_subscription(nb, is), RET_OK);
        assert_eq!(rmw_destroy_node(na), RET_OK);
        assert_eq!(rmw_destroy_node(nb), RET_OK);
    }
    fini(a);
    fini(b);
}
