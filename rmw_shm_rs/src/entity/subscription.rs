//! Subscriptions: deep-copy a message of a publisher of the same context (intra-process);
//! deserialize straight out of the received shared-memory sample; copy a raw C struct (loaned
//! publish) as it is; or lend the message itself (loaned takes).

use std::collections::{HashMap, HashSet};
use std::ffi::{c_void, CString};
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::event::EndpointStatus;
use super::qos::{self, QosProfile};
use super::sequence::{Arrival, SequenceTracker};
use super::{now_ns, Gid, Node};
use crate::delegate::{DdsSubscription, RemoteSample, TypeSupportHandle};
use crate::error::{Error, Result};
use crate::graph::model::{Endpoint, EndpointKind};
use crate::graph::query::GraphView;
use crate::graph::{EndpointRegistration, GraphObserver};
use crate::path::{Path, Paths};
use crate::transport::intra::{Delivery, Inbox};
use crate::transport::shm::{
    Doorbell, Lane, Ring, SampleHeader, ShmSubscriber, SubscriberSample, TopicLimits,
};
use crate::typesupport::{MessageMut, MessageType, OwnedMessage};

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
    /// Whether it came from a publisher of the same context (intra-process path).
    pub from_intra_process: bool,
}

/// A message about to be taken, from any path.
enum Received<'a> {
    Intra(Delivery),
    Shm(SubscriberSample),
    Remote(RemoteSample<'a>),
}

impl Received<'_> {
    fn header(&self) -> SampleHeader {
        match self {
            Received::Intra(d) => d.header,
            Received::Shm(s) => *s.header(),
            Received::Remote(r) => SampleHeader {
                publisher_gid: r.publisher_gid(),
                sequence: r.info.publication_sequence_number,
                source_timestamp: r.info.source_timestamp,
                ..SampleHeader::default()
            },
        }
    }
}

/// A message lent by a loaned take.
enum Loan {
    /// A raw C struct inside the received sample: zero copies.
    Sample(SubscriberSample),
    /// A CDR sample, deserialized into memory of our own.
    Owned(OwnedMessage),
    /// A message of a publisher of this context, shared with the other subscriptions.
    Intra(Arc<OwnedMessage>),
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
    /// Its QoS events.
    pub status: Arc<EndpointStatus>,
    /// The sequence numbers taken from each publisher (message-lost and duplicate detection).
    sequences: Mutex<SequenceTracker>,
    _registration: EndpointRegistration,
    received: AtomicU64,
    matched: AtomicUsize,
    /// Publishers whose QoS does not match ours: their samples are dropped, never delivered.
    incompatible: RwLock<HashSet<[u8; 16]>>,
    /// Messages lent by loaned takes and not yet returned, keyed by their address.
    loans: Mutex<HashMap<usize, Loan>>,
    /// The topic's shared-memory service name: the key of the intra-process registry.
    key: String,
    paths: Paths,
    inbox: Arc<Inbox>,
    /// A shared-memory sample received by `has_data` while filtering out duplicates of
    /// intra-process deliveries, kept for the next take.
    held: Mutex<Option<SubscriberSample>>,
    /// Publishers whose path was logged (`rmw_shm_rs::path` at debug level).
    logged_pairs: Mutex<HashSet<[u8; 16]>>,
    /// The delegate subscription bringing the topic from other hosts.
    remote: Option<DdsSubscription>,
    shm: ShmSubscriber,
}

impl Subscription {
    /// Creates a subscription of `ty` on `topic` and registers it in the graph.
    pub fn new(
        node: Arc<Node>,
        topic: &str,
        ty: Arc<MessageType>,
        ts: TypeSupportHandle,
        requested: &QosProfile,
    ) -> Result<Arc<Self>> {
        node.context.check_alive()?;
        let publishers: Vec<QosProfile> = node
            .context
            .graph()
            .view()
            .endpoints_on(EndpointKind::Publisher, topic)
            .iter()
            .filter(|(_, e)| e.same_type(&ty))
            .map(|(_, e)| (&e.qos).into())
            .collect();
        let qos = qos::resolve_subscription(requested, &publishers);
        let ctx = node.context.shm();
        let service = ctx.topic_service_name(topic, ty.type_name(), ty.type_hash());
        let lane = if qos.durability == qos::TRANSIENT_LOCAL {
            Lane::TransientLocal
        } else if qos.history == qos::KEEP_ALL && qos.reliability == qos::RELIABLE {
            Lane::KeepAll
        } else {
            Lane::Volatile
        };
        let depth = qos::queue_depth(&qos).clamp(1, TopicLimits::get().max_depth);
        let inbox = Arc::new(Inbox::new(depth, lane == Lane::TransientLocal)?);
        // Publishers of every path wake the inbox's eventfd.
        let target: Arc<dyn Ring> = inbox.clone();
        let shm = ShmSubscriber::new(ctx, &service, depth, lane, Arc::downgrade(&target))?;
        tracing::debug!(target: "rmw_shm_rs::path", topic, service, ?lane, "subscription's shared-memory lane");
        let gid = Gid::new();
        let topic_c = CString::new(topic).map_err(|_| Error::invalid("topic name contains NUL"))?;
        let remote = node.remote().and_then(|n| {
            let wake = inbox.clone();
            DdsSubscription::new(&n, ts, &topic_c, &qos, Box::new(move || wake.wake()))
                .map_err(|e| tracing::warn!(target: "rmw_shm_rs::delegate", topic, "no remote subscription: {e}"))
                .ok()
        });
        node.context.announce_dds_prefix();
        let registration = node.registration.add_endpoint(Endpoint::of_topic(
            EndpointKind::Subscription,
            topic,
            &ty,
            gid.0,
            &qos,
        ));
        let status = Arc::new(EndpointStatus::new(false, &qos, &node.context)?);
        let sub = Arc::new(Self {
            topic: topic_c,
            node,
            ty,
            qos,
            gid,
            status,
            sequences: Mutex::new(SequenceTracker::default()),
            _registration: registration,
            received: AtomicU64::new(0),
            matched: AtomicUsize::new(0),
            incompatible: RwLock::new(HashSet::new()),
            loans: Mutex::new(HashMap::new()),
            key: service,
            paths: Paths::get(),
            inbox,
            held: Mutex::new(None),
            logged_pairs: Mutex::new(HashSet::new()),
            remote,
            shm,
        });
        if sub.paths.intra {
            sub.node
                .context
                .intra()
                .add_subscription(&sub.key, topic, &sub.inbox, sub.gid.0, sub.qos);
        }
        let observer: Arc<dyn GraphObserver> = sub.clone();
        sub.node.context.graph().observe(Arc::downgrade(&observer));
        Ok(sub)
    }

    /// Whether a sample may be delivered: its publisher's QoS matches ours, it is not a
    /// duplicate and it has not outlived the publisher's lifespan. Counts the messages of that publisher that never
    /// arrived (gaps in its sequence numbers) as lost.
    fn deliverable(&self, header: &SampleHeader, now: i64) -> bool {
        {
            let incompatible = self.incompatible.read().unwrap_or_else(|e| e.into_inner());
            if !incompatible.is_empty() && incompatible.contains(&header.publisher_gid) {
                return false;
            }
        }
        let arrival = self
            .sequences
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .arrive(header.publisher_gid, header.sequence);
        match arrival {
            Arrival::Duplicate => return false,
            Arrival::New { lost } if lost > 0 => self.status.lost(lost),
            Arrival::New { .. } => {}
        }
        super::qos::within_lifespan(now, header.source_timestamp, header.lifespan)
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Option<SubscriberSample>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next shared-memory sample that is not a duplicate of an intra-process delivery.
    fn receive_shm(&self) -> Result<Option<SubscriberSample>> {
        if !self.paths.shm {
            return Ok(None);
        }
        loop {
            match self.shm.receive()? {
                Some(s) if self.inbox.serves(&s.header().publisher_gid) => continue,
                other => return Ok(other),
            }
        }
    }

    /// The next sample from another host (samples of this host's mirrors are dropped).
    fn receive_remote(&self) -> Result<Option<RemoteSample<'_>>> {
        let Some(remote) = &self.remote else {
            return Ok(None);
        };
        loop {
            let Some(sample) = remote.take()? else {
                return Ok(None);
            };
            let (_, local) = self.node.context.graph().dds_prefixes();
            let gid = sample.publisher_gid();
            if !local.iter().any(|p| gid.starts_with(p)) {
                return Ok(Some(sample));
            }
        }
    }

    /// The next message of any path: intra-process, shared memory, then other hosts.
    fn receive(&self) -> Result<Option<Received<'_>>> {
        if let Some(d) = self.inbox.pop() {
            return Ok(Some(Received::Intra(d)));
        }
        if let Some(s) = self.held().take() {
            return Ok(Some(Received::Shm(s)));
        }
        if let Some(s) = self.receive_shm()? {
            return Ok(Some(Received::Shm(s)));
        }
        Ok(self.receive_remote()?.map(Received::Remote))
    }

    /// Takes the oldest deliverable message and hands it to `read`; `Ok(None)` when nothing is
    /// waiting. Messages that may not be delivered are dropped on the way.
    fn take_received<R>(
        &self,
        read: impl FnOnce(Received<'_>) -> Result<R>,
    ) -> Result<Option<(R, TakenInfo)>> {
        loop {
            let Some(received) = self.receive()? else {
                return Ok(None);
            };
            let header = received.header();
            let now = now_ns();
            if !self.deliverable(&header, now) {
                continue;
            }
            let from_intra_process = matches!(received, Received::Intra(_));
            let value = read(received)?;
            let info = TakenInfo {
                publisher_gid: header.publisher_gid,
                publication_sequence: header.sequence,
                reception_sequence: self.received.fetch_add(1, Ordering::Relaxed) + 1,
                source_timestamp: header.source_timestamp,
                received_timestamp: now,
                from_intra_process,
            };
            self.status.activity();
            return Ok(Some((value, info)));
        }
    }

    /// Takes the oldest deliverable message and hands its CDR bytes to `read`; `Ok(None)`
    /// when nothing is waiting. A raw C struct (loaned publish) or an intra-process message
    /// is serialized first.
    pub fn take_with<R>(
        &self,
        read: impl FnOnce(&[u8]) -> Result<R>,
    ) -> Result<Option<(R, TakenInfo)>> {
        self.take_received(|received| match received {
            Received::Intra(d) => read(&d.message.to_cdr()?),
            Received::Shm(sample) if sample.header().is_raw() => {
                read(&self.ty.raw_to_cdr(sample.payload())?)
            }
            Received::Shm(sample) => read(sample.payload()),
            Received::Remote(r) => read(r.bytes()),
        })
    }

    /// Takes the oldest deliverable message into `msg`: deep-copies an intra-process message,
    /// decodes CDR, or copies a raw C struct as it is (one memcpy of the struct's size).
    pub fn take(&self, msg: &mut MessageMut<'_>) -> Result<Option<TakenInfo>> {
        Ok(self
            .take_received(|received| match received {
                Received::Intra(d) => msg.copy_from(&d.message),
                Received::Shm(sample) if sample.header().is_raw() => msg.copy_raw(sample.payload()),
                Received::Shm(sample) => msg.deserialize(sample.payload()),
                Received::Remote(r) => msg.deserialize(r.bytes()),
            })?
            .map(|((), info)| info))
    }

    /// Whether this subscription lends messages: exactly when its type is fixed-size.
    pub fn can_loan(&self) -> bool {
        self.ty.is_plain()
    }

    fn loans(&self) -> std::sync::MutexGuard<'_, HashMap<usize, Loan>> {
        self.loans.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the oldest deliverable message as a loan: a pointer to the C struct inside the
    /// shared-memory sample (zero copies) when it was published loaned, else to a message of
    /// our own decoded from its CDR. Valid (and read-only) until
    /// [`return_loan`](Self::return_loan). At most `RMW_SHM_RS_MAX_LOANS` at a time.
    pub fn take_loan(&self) -> Result<Option<(*mut c_void, TakenInfo)>> {
        if !self.can_loan() {
            return Err(Error::Unsupported(format!(
                "rmw_take_loaned_message: {} is not a fixed-size type (can_loan_messages is false)",
                self.ty.type_name()
            )));
        }
        let mut loans = self.loans();
        let max = TopicLimits::get().max_loans;
        if loans.len() >= max {
            return Err(Error::BadAlloc(format!(
                "rmw_take_loaned_message: the subscription on '{}' already holds {max} loaned \
                 messages (RMW_SHM_RS_MAX_LOANS); return one first",
                self.topic()
            )));
        }
        let taken = self.take_received(|received| match received {
            Received::Intra(d) => Ok(Loan::Intra(d.message)),
            Received::Shm(sample) if sample.header().is_raw() => {
                let payload = sample.payload();
                self.ty.check_raw(payload.as_ptr(), payload.len())?;
                Ok(Loan::Sample(sample))
            }
            Received::Shm(sample) => {
                let mut owned = OwnedMessage::new(self.ty.clone())?;
                owned.deserialize(sample.payload())?;
                Ok(Loan::Owned(owned))
            }
            Received::Remote(r) => {
                let mut owned = OwnedMessage::new(self.ty.clone())?;
                owned.deserialize(r.bytes())?;
                Ok(Loan::Owned(owned))
            }
        })?;
        Ok(taken.map(|(loan, info)| {
            let ptr: *mut c_void = match &loan {
                Loan::Sample(s) => s.payload().as_ptr().cast_mut().cast(),
                Loan::Owned(m) => m.as_ptr(),
                Loan::Intra(m) => m.as_ptr(),
            };
            loans.insert(ptr as usize, loan);
            (ptr, info)
        }))
    }

    /// Gives a loaned message back (its sample returns to the publisher).
    pub fn return_loan(&self, ptr: *mut c_void) -> Result<()> {
        let loan = self.loans().remove(&(ptr as usize)).ok_or_else(|| {
            Error::invalid(
                "rmw_return_loaned_message_from_subscription: not a message loaned by this \
                 subscription (or already returned)",
            )
        })?;
        drop(loan);
        Ok(())
    }

    /// Number of loaned messages held now.
    pub fn loan_count(&self) -> usize {
        self.loans().len()
    }

    /// Whether a message is waiting. Shared-memory duplicates of intra-process deliveries do
    /// not count: they are dropped here (the first other sample is held for the next take).
    pub fn has_data(&self) -> bool {
        if self.inbox.has_data() || self.remote.as_ref().is_some_and(|r| r.may_have_data()) {
            return true;
        }
        if !self.inbox.has_sources() {
            return self.paths.shm && self.shm.has_data();
        }
        let mut held = self.held();
        if held.is_none() {
            *held = self.receive_shm().ok().flatten();
        }
        held.is_some()
    }

    /// Consumes pending wake-ups of every path; returns how many were pending. Shared-memory
    /// wake-ups reach them once the context's [`doorbell`](Self::doorbell) is drained.
    pub fn drain_wakeups(&self) -> u64 {
        self.inbox.drain_wakeups()
    }

    /// The doorbell of this subscription's context: drained (by wait sets) before the
    /// subscription's own wake-ups.
    pub fn doorbell(&self) -> &Doorbell {
        self.shm.doorbell()
    }

    /// Readable while a wake-up of any path is pending.
    pub fn wakeup_fd(&self) -> BorrowedFd<'_> {
        self.inbox.wakeup_fd()
    }

    /// Number of publishers on the same topic and type whose QoS is compatible, in every
    /// process (from the graph).
    pub fn matched_publishers(&self) -> usize {
        self.matched.load(Ordering::SeqCst)
    }
}

impl Subscription {
    /// Logs the path of each publisher matched since the last call (diagnostics only).
    fn log_new_pairs(&self) {
        let matched = self.status.matched_gids();
        let mut logged = self.logged_pairs.lock().unwrap_or_else(|e| e.into_inner());
        for gid in matched.difference(&logged) {
            let path = if self.inbox.serves(gid) {
                Path::IntraProcess
            } else {
                Path::SharedMemory
            };
            tracing::debug!(target: "rmw_shm_rs::path", topic = self.topic(), publisher = ?gid, subscription = ?self.gid.0, ?path, "pair matched");
        }
        *logged = matched;
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if self.paths.intra {
            self.node
                .context
                .intra()
                .remove_subscription(&self.key, &self.inbox);
        }
    }
}

impl GraphObserver for Subscription {
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
        let (matched, incompatible) =
            self.status
                .update_from_graph(graph, self.topic(), &self.ty, &self.qos);
        self.matched.store(matched, Ordering::SeqCst);
        *self.incompatible.write().unwrap_or_else(|e| e.into_inner()) = incompatible;
        if tracing::enabled!(target: "rmw_shm_rs::path", tracing::Level::DEBUG) {
            self.log_new_pairs();
        }
    }
}
