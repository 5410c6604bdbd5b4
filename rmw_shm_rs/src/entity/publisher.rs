//! Publishers: hand a deep copy to the subscriptions of the same context (intra-process, no
//! CDR); serialize once into a loaned shared-memory sample for the others; or, for a
//! fixed-size type, lend the sample itself to the caller (loaned messages, zero copies).

use std::collections::HashMap;
use std::ffi::{c_void, CString};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::event::EndpointStatus;
use super::qos::{self, QosProfile};
use super::{now_ns, Gid, Node};
use crate::delegate::{DdsPublisher, TypeSupportHandle};
use crate::error::{Error, Result};
use crate::graph::model::{Endpoint, EndpointKind};
use crate::graph::query::GraphView;
use crate::graph::{EndpointRegistration, GraphObserver};
use crate::path::Paths;
use crate::transport::intra::Outbox;
use crate::transport::shm::{PublisherLoan, SampleHeader, ShmPublisher, TopicLimits};
use crate::typesupport::{MessageRef, MessageType, OwnedMessage};

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
    /// Loaned messages not yet published or returned, keyed by their address.
    loans: Mutex<HashMap<usize, PublisherLoan>>,
    /// The topic's shared-memory service name: the key of the intra-process registry.
    key: String,
    paths: Paths,
    outbox: Arc<Outbox>,
    /// The delegate publisher carrying the topic to other hosts.
    remote: Option<DdsPublisher>,
    shm: ShmPublisher,
}

impl Publisher {
    /// Creates a publisher of `ty` on `topic` and registers it in the graph.
    pub fn new(
        node: Arc<Node>,
        topic: &str,
        ty: Arc<MessageType>,
        ts: TypeSupportHandle,
        requested: &QosProfile,
    ) -> Result<Arc<Self>> {
        node.context.check_alive()?;
        let qos = qos::resolve_publisher(requested);
        let ctx = node.context.shm();
        let service = ctx.topic_service_name(topic, ty.type_name(), ty.type_hash());
        let transient = qos.durability == qos::TRANSIENT_LOCAL;
        let shm = ShmPublisher::new(ctx, &service, transient)?;
        let gid = Gid::new();
        let history = if transient {
            qos::queue_depth(&qos).clamp(1, TopicLimits::get().max_depth)
        } else {
            0
        };
        let outbox = Arc::new(Outbox::new(gid.0, history));
        let paths = Paths::get();
        // Paired before the graph shows the publisher, so that a subscription of this context
        // never sees it matched without its intra-process delivery in place.
        if paths.intra {
            node.context
                .intra()
                .add_publisher(&service, topic, &outbox, qos);
        }
        let topic_c = CString::new(topic).map_err(|_| Error::invalid("topic name contains NUL"))?;
        let remote = node.remote().and_then(|n| {
            DdsPublisher::new(&n, ts, &topic_c, &qos)
                .map_err(|e| tracing::warn!(target: "rmw_shm_rs::delegate", topic, "no remote publisher: {e}"))
                .ok()
        });
        node.context.announce_dds_prefix();
        let registration = node.registration.add_endpoint(Endpoint::of_topic(
            EndpointKind::Publisher,
            topic,
            &ty,
            gid.0,
            &qos,
        ));
        let status = Arc::new(EndpointStatus::new(true, &qos, &node.context)?);
        let publisher = Arc::new(Self {
            topic: topic_c,
            lifespan: qos::finite_ns(&qos.lifespan).unwrap_or(0),
            status,
            node,
            ty,
            qos,
            gid,
            _registration: registration,
            sequence: AtomicU64::new(0),
            matched: AtomicUsize::new(0),
            loans: Mutex::new(HashMap::new()),
            key: service,
            paths,
            outbox,
            remote,
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
            ..SampleHeader::default()
        }
    }

    /// The delegate publisher, when a subscription other than this host's mirrors is on the
    /// topic.
    /// A TRANSIENT_LOCAL publisher always writes to the delegate: its DDS writer keeps the
    /// history for remote late joiners.
    fn remote_target(&self) -> Option<&DdsPublisher> {
        let r = self.remote.as_ref()?;
        if self.qos.durability == qos::TRANSIENT_LOCAL {
            return Some(r);
        }
        r.remote_needed(&self.node.context.graph().dds_prefixes())
            .then_some(r)
    }

    /// Sends CDR bytes through the shared-memory lanes that need them and, when remote
    /// subscriptions exist, the delegate: serialized once for both (`fill` writes straight into
    /// the sample; with no lane to serve, `to_vec` makes the bytes for the delegate alone).
    fn send_cdr<'b>(
        &self,
        header: SampleHeader,
        len: impl FnOnce() -> Result<usize>,
        fill: impl Fn(&mut [std::mem::MaybeUninit<u8>]) -> Result<usize>,
        to_vec: impl FnOnce() -> Result<std::borrow::Cow<'b, [u8]>>,
    ) -> Result<()> {
        let remote = self.remote_target();
        let mut remote_done = remote.is_none();
        if self.paths.shm {
            self.shm.publish(
                header,
                self.outbox.volatile_target_count(),
                len,
                fill,
                |bytes| {
                    if let Some(r) = remote {
                        r.publish(bytes)?;
                    }
                    remote_done = true;
                    Ok(())
                },
            )?;
        }
        if let (false, Some(r)) = (remote_done, remote) {
            r.publish(&to_vec()?)?;
        }
        Ok(())
    }

    /// Publishes a C message: one deep copy for the subscriptions of this context, one
    /// serialization straight into shared memory when others listen (the same bytes go to
    /// the delegate when remote subscriptions exist).
    pub fn publish(&self, msg: &MessageRef<'_>) -> Result<()> {
        let header = self.next_header();
        if self.outbox.wants_messages() {
            self.outbox
                .deliver(header, OwnedMessage::copy_of(self.ty.clone(), msg)?);
        }
        self.send_cdr(
            header,
            || msg.serialized_size(),
            |buf| msg.serialize(buf),
            || Ok(msg.to_cdr()?.into()),
        )
    }

    /// Publishes already serialized CDR bytes (with encapsulation header) as they are; the
    /// subscriptions of this context get them decoded once.
    pub fn publish_serialized(&self, cdr: &[u8]) -> Result<()> {
        if cdr.len() < 4 {
            return Err(Error::invalid(
                "serialized message shorter than its encapsulation header",
            ));
        }
        let header = self.next_header();
        if self.outbox.wants_messages() {
            let mut owned = OwnedMessage::new(self.ty.clone())?;
            owned.deserialize(cdr)?;
            self.outbox.deliver(header, owned);
        }
        self.send_cdr(
            header,
            || Ok(cdr.len()),
            |buf| {
                crate::transport::shm::write_bytes(buf, cdr);
                crate::counters::record_copy(cdr.len());
                Ok(cdr.len())
            },
            || Ok(cdr.into()),
        )?;
        self.status.activity();
        Ok(())
    }

    /// Whether this publisher lends messages: exactly when its type is fixed-size.
    pub fn can_loan(&self) -> bool {
        self.ty.is_plain()
    }

    fn loans(&self) -> std::sync::MutexGuard<'_, HashMap<usize, PublisherLoan>> {
        self.loans.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lends a message: a shared-memory sample holding the C struct, the type's init function
    /// run over the sample's previous contents (zeroes on its first use; fields without a
    /// default keep what the last message in that sample held, as with rmw_fastrtps_cpp's
    /// uninitialized loans: write every field), valid until [`publish_loan`](Self::publish_loan) or
    /// [`return_loan`](Self::return_loan). At most `RMW_SHM_RS_MAX_LOANS` at a time.
    pub fn borrow_loan(&self, ty: &MessageType) -> Result<*mut c_void> {
        if !self.can_loan() {
            return Err(Error::Unsupported(format!(
                "rmw_borrow_loaned_message: {} is not a fixed-size type (can_loan_messages is false)",
                self.ty.type_name()
            )));
        }
        if ty.type_name() != self.ty.type_name() || ty.type_hash() != self.ty.type_hash() {
            return Err(Error::invalid(format!(
                "type support of {} for a publisher of {}",
                ty.type_name(),
                self.ty.type_name()
            )));
        }
        let mut loans = self.loans();
        let max = TopicLimits::get().max_loans;
        if loans.len() >= max {
            return Err(Error::BadAlloc(format!(
                "rmw_borrow_loaned_message: the publisher on '{}' already holds {max} loaned \
                 messages (RMW_SHM_RS_MAX_LOANS); publish or return one first",
                self.topic()
            )));
        }
        let mut loan = self.shm.loan(self.ty.c_size())?;
        let ptr = self.ty.init_raw(loan.payload_mut())?;
        loans.insert(loan.addr(), loan);
        Ok(ptr)
    }

    fn remove_loan(&self, ptr: *mut c_void, what: &str) -> Result<PublisherLoan> {
        self.loans().remove(&(ptr as usize)).ok_or_else(|| {
            Error::invalid(format!(
                "{what}: not a message loaned by this publisher (or already published / returned)"
            ))
        })
    }

    /// Publishes a loaned message: the sample itself is sent, zero copies; the subscriptions
    /// of this context get one copy of the struct (the sample goes back to the pool).
    pub fn publish_loan(&self, ptr: *mut c_void) -> Result<()> {
        let loan = self.remove_loan(ptr, "rmw_publish_loaned_message")?;
        let header = self.next_header();
        if self.outbox.wants_messages() {
            let owned = OwnedMessage::copy_of_raw(self.ty.clone(), loan.payload())?;
            self.outbox.deliver(header, owned);
        }
        if let Some(r) = self.remote_target() {
            r.publish(&self.ty.raw_to_cdr(loan.payload())?)?;
        }
        let intra_served = self.outbox.volatile_target_count();
        if self.paths.shm {
            self.shm.publish_loan(loan, header, intra_served)?;
        }
        self.status.activity();
        Ok(())
    }

    /// Gives a loaned message back unsent.
    pub fn return_loan(&self, ptr: *mut c_void) -> Result<()> {
        drop(self.remove_loan(ptr, "rmw_return_loaned_message_from_publisher")?);
        Ok(())
    }

    /// Number of loaned messages held now.
    pub fn loan_count(&self) -> usize {
        self.loans().len()
    }

    /// Number of subscriptions on the same topic and type whose QoS is compatible: on this
    /// host (from the shared-memory graph) and on other hosts (the delegate's graph, minus this
    /// host's delegates).
    pub fn matched_subscriptions(&self) -> usize {
        self.matched.load(Ordering::SeqCst)
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        if self.paths.intra {
            self.node
                .context
                .intra()
                .remove_publisher(&self.key, &self.outbox);
        }
    }
}

impl GraphObserver for Publisher {
    fn topic(&self) -> &str {
        self.topic.to_str().unwrap_or_default()
    }

    fn graph_changed(&self, local: &GraphView) {
        // With a delegate, matching and QoS events also cover the endpoints of other hosts.
        let merged;
        let graph = if self.remote.is_some() {
            merged = self.node.graph_view();
            &merged
        } else {
            local
        };
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
