//! Publishers: serialize once into a loaned shared-memory sample and send.

use std::ffi::CString;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::qos::{self, QosProfile};
use super::{now_ns, Gid, Node};
use crate::error::{Error, Result};
use crate::transport::shm::{SampleHeader, ShmPublisher};
use crate::typesupport::MessageRef;
use crate::typesupport::MessageType;

/// What `rmw_publisher_t::data` points to.
pub struct Publisher {
    /// The node that created it.
    pub node: Arc<Node>,
    /// Fully qualified topic name.
    pub topic: CString,
    /// The message type and its cached CDR plan.
    pub ty: Arc<MessageType>,
    /// The QoS profile in force (SYSTEM_DEFAULT and BEST_AVAILABLE resolved).
    pub qos: QosProfile,
    /// This publisher's GID.
    pub gid: Gid,
    sequence: AtomicU64,
    shm: ShmPublisher,
}

impl Publisher {
    /// Creates a publisher of `ty` on `topic`.
    pub fn new(
        node: Arc<Node>,
        topic: &str,
        ty: Arc<MessageType>,
        requested: &QosProfile,
    ) -> Result<Self> {
        node.context.check_alive()?;
        let ctx = node.context.shm();
        let service = ctx.topic_service_name(topic, ty.type_name(), ty.type_hash());
        let shm = ShmPublisher::new(ctx, &service)?;
        tracing::debug!(target: "rmw_shm_rs::path", topic, service, "publisher uses shared memory");
        Ok(Self {
            node,
            topic: CString::new(topic).map_err(|_| Error::invalid("topic name contains NUL"))?,
            ty,
            qos: qos::resolve(requested),
            gid: Gid::new(),
            sequence: AtomicU64::new(0),
            shm,
        })
    }

    fn next_header(&self) -> SampleHeader {
        SampleHeader {
            publisher_gid: self.gid.0,
            sequence: self.sequence.fetch_add(1, Ordering::Relaxed) + 1,
            source_timestamp: now_ns(),
        }
    }

    /// Publishes a C message: one serialization, straight into shared memory.
    pub fn publish(&self, msg: &MessageRef<'_>) -> Result<()> {
        let len = msg.serialized_size()?;
        self.shm
            .publish(len, self.next_header(), |buf| msg.serialize(buf))
    }

    /// Publishes already serialized CDR bytes (with encapsulation header) as they are.
    pub fn publish_serialized(&self, cdr: &[u8]) -> Result<()> {
        if cdr.len() < 4 {
            return Err(Error::invalid(
                "serialized message shorter than its encapsulation header",
            ));
        }
        self.shm.publish(cdr.len(), self.next_header(), |buf| {
            for (d, s) in buf.iter_mut().zip(cdr) {
                d.write(*s);
            }
            Ok(cdr.len())
        })
    }

    /// Number of subscriptions matched on the same topic and type.
    pub fn matched_subscriptions(&self) -> usize {
        self.shm.matched_subscriptions()
    }
}
