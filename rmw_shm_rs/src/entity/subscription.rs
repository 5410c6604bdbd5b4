//! Subscriptions: deserialize straight out of the received shared-memory sample.

use std::ffi::CString;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::qos::{self, QosProfile};
use super::{now_ns, Gid, Node};
use crate::error::{Error, Result};
use crate::transport::shm::{ShmSubscriber, WakeupFd};
use crate::typesupport::MessageMut;
use crate::typesupport::MessageType;

/// What `rmw_message_info_t` reports about a taken message.
#[derive(Debug, Clone, Copy)]
pub struct TakenInfo {
    /// GID of the publisher that sent it.
    pub publisher_gid: [u8; 16],
    /// The publisher's sequence number of the message.
    pub publication_sequence: u64,
    /// This subscription's count of messages taken, starting at 1.
    pub reception_sequence: u64,
    /// Publication time, ns since the Unix epoch.
    pub source_timestamp: i64,
    /// Time of the take, ns since the Unix epoch.
    pub received_timestamp: i64,
}

/// What `rmw_subscription_t::data` points to.
pub struct Subscription {
    /// The node that created it.
    pub node: Arc<Node>,
    /// Fully qualified topic name.
    pub topic: CString,
    /// The message type and its cached CDR plan.
    pub ty: Arc<MessageType>,
    /// The QoS profile in force.
    pub qos: QosProfile,
    /// This subscription's GID.
    pub gid: Gid,
    received: AtomicU64,
    shm: ShmSubscriber,
}

impl Subscription {
    /// Creates a subscription of `ty` on `topic`.
    pub fn new(
        node: Arc<Node>,
        topic: &str,
        ty: Arc<MessageType>,
        requested: &QosProfile,
    ) -> Result<Self> {
        node.context.check_alive()?;
        let qos = qos::resolve(requested);
        let ctx = node.context.shm();
        let service = ctx.topic_service_name(topic, ty.type_name(), ty.type_hash());
        let shm = ShmSubscriber::new(ctx, &service, qos::queue_depth(&qos))?;
        tracing::debug!(target: "rmw_shm_rs::path", topic, service, "subscription uses shared memory");
        Ok(Self {
            node,
            topic: CString::new(topic).map_err(|_| Error::invalid("topic name contains NUL"))?,
            ty,
            qos,
            gid: Gid::new(),
            received: AtomicU64::new(0),
            shm,
        })
    }

    /// Takes the oldest waiting message and hands its CDR bytes to `read`; `Ok(None)` when
    /// nothing is waiting.
    pub fn take_with<R>(
        &self,
        read: impl FnOnce(&[u8]) -> Result<R>,
    ) -> Result<Option<(R, TakenInfo)>> {
        self.shm.take(|bytes, header| {
            let value = read(bytes)?;
            let info = TakenInfo {
                publisher_gid: header.publisher_gid,
                publication_sequence: header.sequence,
                reception_sequence: self.received.fetch_add(1, Ordering::Relaxed) + 1,
                source_timestamp: header.source_timestamp,
                received_timestamp: now_ns(),
            };
            Ok((value, info))
        })
    }

    /// Takes the oldest waiting message into `msg`.
    pub fn take(&self, msg: &mut MessageMut<'_>) -> Result<Option<TakenInfo>> {
        Ok(self
            .take_with(|bytes| msg.deserialize(bytes))?
            .map(|((), info)| info))
    }

    /// Whether a message is waiting.
    pub fn has_data(&self) -> bool {
        self.shm.has_data()
    }

    /// Consumes pending wake-ups (see [`ShmSubscriber::drain_wakeups`]).
    pub fn drain_wakeups(&self) {
        self.shm.drain_wakeups()
    }

    /// Readable while a wake-up is pending; `None` once released at process exit.
    pub fn wakeup_fd(&self) -> Option<WakeupFd<'_>> {
        self.shm.wakeup_fd()
    }

    /// Number of publishers matched on the same topic and type.
    pub fn matched_publishers(&self) -> usize {
        self.shm.matched_publishers()
    }
}
