//! Same-host transport over iceoryx2 (0.10) shared memory: no daemon, no broker.
//!
//! One iceoryx2 node per rmw context. Each ROS topic and type is one iceoryx2
//! publish-subscribe service whose payload is the CDR bytes (a `[u8]` slice) with a
//! [`SampleHeader`] as user header. Wake-ups go through one event service per context (its
//! [`Doorbell`]): a publisher rings the subscriptions it delivered to after each send, and the
//! wait set polls the doorbell's file descriptor. Service names carry the ROS domain, the topic, the type name and the type hash,
//! so different domains and different types never share a service: a subscription never
//! receives bytes of a type it cannot decode.
//!
//! Loaned messages of fixed-size types travel as the raw C struct instead of CDR (see
//! [`SampleHeader::format`]); both formats share the same services and every subscription
//! accepts both.

mod backing;
mod cleanup;
mod config;
mod discovery;
mod doorbell;
mod lifecycle;
mod publisher;
mod request_response;
mod subscriber;

pub use cleanup::{cleanup_dead_nodes, remove_unfinished_tags};
pub use config::{Lane, TopicLimits};
pub use discovery::DiscoveryChannel;
pub use doorbell::{collect as collect_doorbell, Doorbell, DoorbellFd, Ring, Wake};
pub use lifecycle::release_all;
pub use publisher::{PublisherLoan, ShmPublisher};
pub use request_response::{
    service_name_of, RequestHeader, ResponseHeader, ServiceLimits, ShmClient, ShmServer,
};
pub use subscriber::{ShmSubscriber, SubscriberSample};

use iceoryx2::prelude::*;

use crate::error::{Error, Result};

/// The iceoryx2 service flavour: inter-process, with ports that may move between threads
/// (rcl calls publish, take and wait from any thread).
pub type Svc = ipc_threadsafe::Service;

/// Metadata in front of every sample; read by the subscription into `rmw_message_info_t`.
///
/// A sample's payload is in one of two formats, told apart by [`format`](Self::format):
/// CDR bytes with the encapsulation header ([`SampleHeader::CDR`], what `rmw_publish`
/// writes), or the C struct of a fixed-size ("plain") message type as it is in memory
/// ([`SampleHeader::RAW`], what `rmw_publish_loaned_message` sends; exactly `c_size` bytes,
/// aligned to [`MAX_C_ALIGN`](crate::typesupport::MAX_C_ALIGN)). A raw struct is only
/// meaningful to processes with the same ABI (same host, same build of the message package);
/// the service name carries the type hash, and a subscription checks the size.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, ZeroCopySend)]
#[type_name("rmw_shm_rs::SampleHeader.v3")]
pub struct SampleHeader {
    /// GID of the publisher that wrote the sample (`rmw_gid_t::data`).
    pub publisher_gid: [u8; 16],
    /// The publisher's sequence number, starting at 1.
    pub sequence: u64,
    /// Nanoseconds since the Unix epoch when the sample was published.
    pub source_timestamp: i64,
    /// The publisher's lifespan in nanoseconds (0: infinite): a subscription drops the sample
    /// once it is older than that.
    pub lifespan: u64,
    /// The payload format: [`SampleHeader::CDR`] or [`SampleHeader::RAW`].
    pub format: u32,
    /// Zero; keeps the header free of implicit padding.
    pub reserved: u32,
}

impl SampleHeader {
    /// Payload format: CDR bytes, encapsulation header included.
    pub const CDR: u32 = 0;
    /// Payload format: the raw C struct of a plain message type.
    pub const RAW: u32 = 1;

    /// Whether the payload is a raw C struct (else CDR).
    pub fn is_raw(&self) -> bool {
        self.format == Self::RAW
    }
}

/// The shared-memory side of an rmw context: one iceoryx2 node and its doorbell.
pub struct ShmContext {
    node: std::sync::Arc<lifecycle::Slot<Node<Svc>>>,
    doorbell: std::sync::Arc<Doorbell>,
    domain_id: usize,
}

impl ShmContext {
    /// Creates the context's iceoryx2 node for `domain_id`, after removing what dead processes
    /// left behind (their nodes' shared-memory files and port registrations).
    pub fn new(domain_id: usize) -> Result<Self> {
        init_logging();
        cleanup_dead_nodes();
        let node = NodeBuilder::new()
            // rclpy and rclcpp handle SIGINT themselves: iceoryx2 must not install handlers.
            .signal_handling_mode(SignalHandlingMode::Disabled)
            .create::<Svc>()
            .map_err(|e| Error::transport("cannot create the iceoryx2 node", e))?;
        let node = lifecycle::Slot::new(node, lifecycle::Kind::Node);
        Ok(Self {
            doorbell: Doorbell::new(node.clone())?,
            node,
            domain_id,
        })
    }

    /// The context's wake-up channel.
    pub fn doorbell(&self) -> &std::sync::Arc<Doorbell> {
        &self.doorbell
    }

    /// The iceoryx2 node (an error once released at process exit).
    pub fn node(&self) -> Result<parking_lot::MappedRwLockReadGuard<'_, Node<Svc>>> {
        self.node.get()
    }

    /// The ROS domain this context lives in.
    pub fn domain_id(&self) -> usize {
        self.domain_id
    }

    /// The iceoryx2 service name of a topic: `rmw_shm_rs/<domain>/<topic>/<type>/<hash prefix>`,
    /// or a fixed-length digest of it when that exceeds iceoryx2's 255-byte limit.
    pub fn topic_service_name(
        &self,
        topic: &str,
        type_name: &str,
        type_hash: Option<&str>,
    ) -> String {
        let hash = type_hash
            .map(|h| h.trim_start_matches("RIHS01_"))
            .unwrap_or("nohash");
        let hash = &hash[..hash.len().min(16)];
        let name = format!(
            "rmw_shm_rs/d{}/t{}/{}/{}",
            self.domain_id, topic, type_name, hash
        );
        if name.len() <= 240 {
            name
        } else {
            format!("rmw_shm_rs/d{}/h{}", self.domain_id, digest(&name))
        }
    }
}

fn init_logging() {
    use std::sync::Once;
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // iceoryx2 logs to stderr; keep it quiet unless asked (IOX2_LOG_LEVEL).
        set_log_level_from_env_or(LogLevel::Fatal);
    });
}

/// 128-bit FNV-1a as hex: stable across processes, builds and platforms.
fn digest(s: &str) -> String {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in s.bytes() {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    format!("{h:032x}")
}

fn service_name(name: &str) -> Result<ServiceName> {
    ServiceName::new(name)
        .map_err(|e| Error::transport(&format!("invalid service name '{name}'"), e))
}

fn event_service_name(name: &str) -> Result<ServiceName> {
    service_name(&format!("{name}#ev"))
}

/// Copies `src` into the start of a sample's uninitialized payload `dst` (a plain `memcpy`).
///
/// # Panics
/// When `dst` is shorter than `src`.
pub fn write_bytes(dst: &mut [std::mem::MaybeUninit<u8>], src: &[u8]) {
    // SAFETY: `MaybeUninit<u8>` has the layout of `u8` and every `u8` is a valid
    // `MaybeUninit<u8>`; the new slice borrows `src` for no longer than `src` lives.
    let src = unsafe { std::slice::from_raw_parts(src.as_ptr().cast(), src.len()) };
    dst[..src.len()].copy_from_slice(src);
}
