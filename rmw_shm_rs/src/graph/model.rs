//! What one process announces about itself to the graph: its nodes and their endpoints.
//!
//! Encoded with postcard; decoding input from other processes never panics and never
//! preallocates from a count the input claims: vectors grow as their elements decode (serde's
//! own cap would still preallocate up to 1 MiB for a few bytes; fuzz/ checks this).

use serde::{Deserialize, Deserializer, Serialize};

use crate::entity::qos::QosProfile;
use crate::sys::rmw_time_t;
use crate::typesupport::MessageType;

/// Publisher, subscription, service server or client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndpointKind {
    /// A topic publisher.
    Publisher,
    /// A topic subscription.
    Subscription,
    /// A service server.
    Service,
    /// A service client.
    Client,
}

/// A QoS profile in a form that travels between processes (`rmw_qos_profile_t` fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Qos {
    pub history: u32,
    pub depth: u64,
    pub reliability: u32,
    pub durability: u32,
    pub deadline: (u64, u64),
    pub lifespan: (u64, u64),
    pub liveliness: u32,
    pub liveliness_lease_duration: (u64, u64),
    pub avoid_ros_namespace_conventions: bool,
}

fn t(v: rmw_time_t) -> (u64, u64) {
    (v.sec, v.nsec)
}

fn rt((sec, nsec): (u64, u64)) -> rmw_time_t {
    rmw_time_t { sec, nsec }
}

impl From<&QosProfile> for Qos {
    fn from(q: &QosProfile) -> Self {
        Qos {
            history: q.history,
            depth: q.depth as u64,
            reliability: q.reliability,
            durability: q.durability,
            deadline: t(q.deadline),
            lifespan: t(q.lifespan),
            liveliness: q.liveliness,
            liveliness_lease_duration: t(q.liveliness_lease_duration),
            avoid_ros_namespace_conventions: q.avoid_ros_namespace_conventions,
        }
    }
}

impl From<&Qos> for QosProfile {
    fn from(q: &Qos) -> Self {
        QosProfile {
            history: q.history as _,
            depth: q.depth as usize,
            reliability: q.reliability as _,
            durability: q.durability as _,
            deadline: rt(q.deadline),
            lifespan: rt(q.lifespan),
            liveliness: q.liveliness as _,
            liveliness_lease_duration: rt(q.liveliness_lease_duration),
            avoid_ros_namespace_conventions: q.avoid_ros_namespace_conventions,
        }
    }
}

/// One endpoint of a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// What it is.
    pub kind: EndpointKind,
    /// Fully qualified topic or service name.
    pub name: String,
    /// ROS type name, e.g. `std_msgs/msg/String` (services: `test_msgs/srv/BasicTypes`).
    pub type_name: String,
    /// RIHS01 type hash string, empty when unknown.
    pub type_hash: String,
    /// The endpoint's GID.
    pub gid: [u8; 16],
    /// QoS in force.
    pub qos: Qos,
}

impl Endpoint {
    /// The entry of a service server or client named `name` of service type `type_name`.
    pub fn of_service(
        kind: EndpointKind,
        name: &str,
        type_name: &str,
        gid: [u8; 16],
        qos: &QosProfile,
    ) -> Self {
        Endpoint {
            kind,
            name: name.to_owned(),
            type_name: type_name.to_owned(),
            type_hash: String::new(),
            gid,
            qos: qos.into(),
        }
    }

    /// The entry of a publisher or subscription of `ty` on `topic`.
    pub fn of_topic(
        kind: EndpointKind,
        topic: &str,
        ty: &MessageType,
        gid: [u8; 16],
        qos: &QosProfile,
    ) -> Self {
        Endpoint {
            kind,
            name: topic.to_owned(),
            type_name: ty.type_name().to_owned(),
            type_hash: ty.type_hash().unwrap_or_default().to_owned(),
            gid,
            qos: qos.into(),
        }
    }
}

impl Endpoint {
    /// Whether the endpoint carries messages of `ty` (same name; same hash when both are known).
    pub fn same_type(&self, ty: &MessageType) -> bool {
        self.type_name == ty.type_name()
            && match ty.type_hash() {
                Some(h) if !self.type_hash.is_empty() => self.type_hash == h,
                _ => true,
            }
    }
}

/// One node and its endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeEntry {
    /// Key unique within the participant (assigned at creation).
    pub id: u64,
    /// Node name.
    pub name: String,
    /// Node namespace (absolute).
    pub namespace: String,
    /// Security enclave of the node's context.
    pub enclave: String,
    /// Its endpoints.
    #[serde(deserialize_with = "grow_only")]
    pub endpoints: Vec<Endpoint>,
}

/// Everything one rmw context (a "participant") announces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Participant {
    /// Unique key of the context.
    pub key: [u8; 16],
    /// Increases with every change; a newer announcement replaces an older one.
    pub version: u64,
    /// Process id (diagnostics).
    pub pid: u32,
    /// The context's nodes.
    #[serde(deserialize_with = "grow_only")]
    pub nodes: Vec<NodeEntry>,
    /// The DDS participant prefix (first 12 bytes of its GIDs) of this process's delegate, once
    /// known: DDS endpoints with it are served by shared memory.
    pub dds_prefix: Option<[u8; 12]>,
}

impl Participant {
    /// Postcard encoding.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).unwrap_or_default()
    }

    /// Decodes an announcement; `None` for malformed bytes.
    pub fn decode(bytes: &[u8]) -> Option<Participant> {
        postcard::from_bytes(bytes).ok()
    }
}

/// Deserializes a vector without trusting the element count on the wire for its capacity:
/// it grows as elements actually decode, so memory stays proportional to the input's size.
fn grow_only<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Grow<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Grow<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a sequence")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut v = Vec::new();
            while let Some(x) = seq.next_element()? {
                v.push(x);
            }
            Ok(v)
        }
    }
    d.deserialize_seq(Grow(std::marker::PhantomData))
}

/// Hex form of a participant key (the iceoryx2 port name of its announcer).
pub fn key_hex(key: &[u8; 16]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}
