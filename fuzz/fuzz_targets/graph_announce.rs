//! Graph announcements from other processes: every rmw context publishes its nodes and
//! endpoints (postcard-encoded `graph::model::Participant`) on the domain's discovery channel,
//! and every other context decodes them and answers rcl's graph queries from them, QoS
//! matching included.
//!
//! Input (structure-aware, `arbitrary`): a few announcements, each either raw bytes or a
//! participant built field by field, encoded, then optionally damaged (bytes overwritten,
//! cut short); a subscription's requested QoS.
//!
//! Findings: a crash or sanitizer report (overflow checks are on); one allocation over
//! 64 x input + 4 KiB or more than 128 x input + 4 KiB live at once while decoding (alloc.rs,
//! docs/fuzzing.md); an undamaged announcement that does not decode to what was encoded.

#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use rmw_shm_rs::entity::qos::{self, QosProfile};
use rmw_shm_rs::graph::model::{Endpoint, EndpointKind, NodeEntry, Participant, Qos};
use rmw_shm_rs::graph::query::GraphView;
use rmw_shm_rs_fuzz::alloc;

/// One allocation may be this many times the announcement (a node is 104 bytes in memory and
/// 5 on the wire; vectors grow by doubling).
const FACTOR: usize = 64;
/// All live allocations together.
const PEAK_FACTOR: usize = 128;
/// Allocations that do not depend on the input, bytes.
const SLACK: usize = 4096;

#[derive(Arbitrary, Debug)]
struct ArbQos {
    history: u32,
    depth: u64,
    reliability: u32,
    durability: u32,
    deadline: (u64, u64),
    lifespan: (u64, u64),
    liveliness: u32,
    lease: (u64, u64),
    avoid_ros_namespace_conventions: bool,
}

impl ArbQos {
    fn qos(&self) -> Qos {
        Qos {
            history: self.history % 5,
            depth: self.depth,
            reliability: self.reliability % 5,
            durability: self.durability % 5,
            deadline: self.deadline,
            lifespan: self.lifespan,
            liveliness: self.liveliness % 5,
            liveliness_lease_duration: self.lease,
            avoid_ros_namespace_conventions: self.avoid_ros_namespace_conventions,
        }
    }
}

#[derive(Arbitrary, Debug)]
struct ArbEndpoint {
    kind: u8,
    name: String,
    type_name: String,
    type_hash: String,
    gid: [u8; 16],
    qos: ArbQos,
}

#[derive(Arbitrary, Debug)]
struct ArbNode {
    id: u64,
    name: String,
    namespace: String,
    enclave: String,
    endpoints: Vec<ArbEndpoint>,
}

#[derive(Arbitrary, Debug)]
struct ArbParticipant {
    key: [u8; 16],
    version: u64,
    pid: u32,
    nodes: Vec<ArbNode>,
    dds_prefix: Option<[u8; 12]>,
}

impl ArbParticipant {
    fn build(&self) -> Participant {
        let kinds = [
            EndpointKind::Publisher,
            EndpointKind::Subscription,
            EndpointKind::Service,
            EndpointKind::Client,
        ];
        Participant {
            key: self.key,
            version: self.version,
            pid: self.pid,
            dds_prefix: self.dds_prefix,
            nodes: self
                .nodes
                .iter()
                .map(|n| NodeEntry {
                    id: n.id,
                    name: n.name.clone(),
                    namespace: n.namespace.clone(),
                    enclave: n.enclave.clone(),
                    endpoints: n
                        .endpoints
                        .iter()
                        .map(|e| Endpoint {
                            kind: kinds[usize::from(e.kind) % kinds.len()],
                            name: e.name.clone(),
                            type_name: e.type_name.clone(),
                            type_hash: e.type_hash.clone(),
                            gid: e.gid,
                            qos: e.qos.qos(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Announcement {
    Bytes(Vec<u8>),
    Built {
        participant: ArbParticipant,
        edits: Vec<(u16, u8)>,
        cut: Option<u16>,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    announcements: Vec<Announcement>,
    requested: ArbQos,
}

/// Decodes `bytes` under the allocation check.
fn decode(bytes: &[u8]) -> Option<Participant> {
    let (p, stats) = alloc::measure(|| Participant::decode(bytes));
    alloc::check(
        "Participant::decode",
        stats,
        bytes.len(),
        FACTOR,
        PEAK_FACTOR,
        SLACK,
    );
    p
}

fn receive(a: &Announcement) -> Option<Participant> {
    match a {
        Announcement::Bytes(bytes) => decode(bytes),
        Announcement::Built {
            participant,
            edits,
            cut,
        } => {
            let original = participant.build();
            let mut bytes = original.encode();
            for &(at, value) in edits {
                if !bytes.is_empty() {
                    let i = usize::from(at) % bytes.len();
                    bytes[i] = value;
                }
            }
            if let Some(cut) = cut {
                bytes.truncate(usize::from(*cut));
            }
            let decoded = decode(&bytes);
            if edits.is_empty() && cut.is_none() {
                assert_eq!(
                    decoded.as_ref(),
                    Some(&original),
                    "an announcement does not round-trip"
                );
            }
            decoded
        }
    }
}

/// Every graph question rcl can ask, over the announcements received.
fn query(view: &GraphView, requested: &QosProfile) {
    let _ = view.node_names();
    let _ = view.topic_names_and_types();
    let _ = view.service_names_and_types();
    let _ = view.remote_prefixes();
    let mut publishers = Vec::new();
    for p in &view.participants {
        for n in &p.nodes {
            for kind in [
                EndpointKind::Publisher,
                EndpointKind::Subscription,
                EndpointKind::Service,
                EndpointKind::Client,
            ] {
                let _ = view.by_node(&n.name, &n.namespace, kind);
            }
            for e in &n.endpoints {
                let _ = view.count(e.kind, &e.name);
                let _ = view.endpoints_on(e.kind, &e.name);
                let q = QosProfile::from(&e.qos);
                let _ = qos::finite_ns(&q.deadline);
                let _ = qos::finite_ns(&q.lifespan);
                let _ = qos::finite_ns(&q.liveliness_lease_duration);
                let _ = qos::queue_depth(&q);
                let _ = qos::resolve_publisher(&q);
                let matching = qos::for_matching(&q);
                let _ = qos::check_compatible(&matching, requested);
                let _ = qos::check_compatible(requested, &matching);
                let _ = qos::first_incompatible_policy(&matching, requested);
                if e.kind == EndpointKind::Publisher {
                    publishers.push(q);
                }
            }
        }
    }
    let sub = qos::resolve_subscription(requested, &publishers);
    for p in &publishers {
        let _ = qos::check_compatible(&qos::for_matching(p), &qos::for_matching(&sub));
    }
}

fuzz_target!(|input: Input| {
    let participants: Vec<Participant> = input.announcements.iter().filter_map(receive).collect();
    let requested = QosProfile::from(&input.requested.qos());
    query(&GraphView { participants }, &requested);
});
