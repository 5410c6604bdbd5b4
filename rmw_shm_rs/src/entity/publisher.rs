//! Publishers: serialize once into a loaned shared-memory sample and send.

use std::ffi::CString;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use super::event::EndpointStatus;
use super::qos::{self, QosProfile};
use super::{now_ns, Gid, Node};
use crate::error::{Error, Result};
use crate::graph::model::{Endpoint, EndpointKind};
use crate::graph::query::GraphView;
use crate::graph::{EndpointRegistration, GraphObserver};
use crate::transport::shm::{SampleHeader, ShmPublisher};
use crate::typesupport::{MessageRef, MessageType};

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
    /// Its QoS events.
    pub status: Arc<EndpointStatus>,
    lifespan: u64,
    _registration: EndpointRegistration,
    sequence: AtomicU64,
    matched: AtomicUsize,
    shm: ShmPublisher,
}

impl Publisher {
    /// Creates a publisher of `ty` on `topic` and registers it in the graph.
    pub fn new(
        node: Arc<Node>,
        topic: &str,
        ty: Arc<MessageType>,
        requested: &QosProfile,
    ) -> Result<Arc<Self>> {
        node.context.check_alive()?;
        let qos = qos::resolve_publisher(requested);
        let ctx = node.context.shm();
        let service = ctx.topic_service_name(topic, ty.type_name(), ty.type_hash());
        let shm = ShmPublisher::new(ctx, &service, qos.durability == qos::TRANSIENT_LOCAL)?;
        tracing::debug!(target: "rmw_shm_rs::path", topic, service, "publisher uses shared memory");
        let gid = Gid::new();
        let registration = node.registration.add_endpoint(Endpoint::of_topic(
            EndpointKind::Publisher,
            topic,
            &ty,
            gid.0,
            &qos,
        ));
        let status = Arc::new(EndpointStatus::new(true, &qos, &node.context)?);
        let publisher = Arc::new(Self {
            topic: CString::new(topic).map_err(|_| Error::invalid("topic name contains NUL"))?,
            lifespan: qos::finite_ns(&qos.lifespan).unwrap_or(0),
            status,
            node,
            ty,
            qos,
            gid,
            _registration: registration,
            sequence: AtomicU64::new(0),
            matched: AtomicUsize::new(0),
            shm,
        });
        let observer: Arc<dyn GraphObserver> = publisher.clone();
        publisher
            .node
            .context
            .graph()
            .observe(Arc::downgrade(&observer));
        Ok(publisher)
    }

    fn next_header(&self) -> SampleHeader {
        SampleHeader {
            publisher_gid: self.gid.0,
            sequence: self.sequence.fetch_add(1, Ordering::Relaxed) + 1,
            source_timestamp: now_ns(),
            lifespan: self.lifespan,
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
        })?;
        self.status.activity();
        Ok(())
    }

    /// Number of subscriptions on the same topic and type whose QoS is compatible, in every
    /// process (from the graph).
    pub fn matched_subscriptions(&self) -> usize {
        self.matched.load(Ordering::SeqCst)
    }
}

impl GraphObserver for Publisher {
    fn topic(&self) -> &str {
        self.topic.to_str().unwrap_or_default()
    }

    fn graph_changed(&self, graph: &GraphView) {
        // A RELIABLE KEEP_ALL subscription lives in the keep-all lane: serve it before it
        // counts as matched, so nothing published after matching misses it.
        if self.qos.reliability == qos::RELIABLE
            && graph
                .endpoints_on(EndpointKind::Subscription, self.topic())
                .iter()
                .any(|(_, e)| {
                    e.same_type(&self.ty)
                        && e.qos.history == qos::KEEP_ALL
                        && e.qos.reliability == qos::RELIABLE
                })
        {
            if let Err(e) = self.shm.serve_keep_all(self.node.context.shm()) {
                tracing::warn!(target: "rmw_shm_rs::path", topic = self.topic(), "cannot serve KEEP_ALL subscriptions: {e}");
            }
        }
        let (matched, _) = self
            .status
            .update_from_graph(graph, self.topic(), &self.ty, &self.qos);
        self.matched.store(matched, Ordering::SeqCst);
        self.shm.refresh();
    }
}
