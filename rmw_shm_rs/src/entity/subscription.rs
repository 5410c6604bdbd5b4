//! Subscriptions: deserialize straight out of the received shared-memory sample; copy a raw
//! C struct (loaned publish) as it is; or lend the sample itself (loaned takes).

use std::collections::{HashMap, HashSet};
use std::ffi::{c_void, CString};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::event::EndpointStatus;
use super::qos::{self, QosProfile};
use super::{now_ns, Gid, Node};
use crate::error::{Error, Result};
use crate::graph::model::{Endpoint, EndpointKind};
use crate::graph::query::GraphView;
use crate::graph::{EndpointRegistration, GraphObserver};
use crate::transport::shm::{
    Lane, SampleHeader, ShmSubscriber, SubscriberSample, TopicLimits, WakeupFd,
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
}

/// A message lent by a loaned take.
enum Loan {
    /// A raw C struct inside the received sample: zero copies.
    Sample(SubscriberSample),
    /// A CDR sample, deserialized into memory of our own.
    Owned(OwnedMessage),
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
    /// The last sequence number taken from each publisher (message-lost detection).
    last_sequence: Mutex<HashMap<[u8; 16], u64>>,
    _registration: EndpointRegistration,
    received: AtomicU64,
    matched: AtomicUsize,
    /// Publishers whose QoS does not match ours: their samples are dropped, never delivered.
    incompatible: RwLock<HashSet<[u8; 16]>>,
    /// Messages lent by loaned takes and not yet returned, keyed by their address.
    loans: Mutex<HashMap<usize, Loan>>,
    shm: ShmSubscriber,
}

impl Subscription {
    /// Creates a subscription of `ty` on `topic` and registers it in the graph.
    pub fn new(
        node: Arc<Node>,
        topic: &str,
        ty: Arc<MessageType>,
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
        let shm = ShmSubscriber::new(ctx, &service, qos::queue_depth(&qos), lane)?;
        tracing::debug!(target: "rmw_shm_rs::path", topic, service, ?lane, "subscription uses shared memory");
        let gid = Gid::new();
        let registration = node.registration.add_endpoint(Endpoint::of_topic(
            EndpointKind::Subscription,
            topic,
            &ty,
            gid.0,
            &qos,
        ));
        let status = Arc::new(EndpointStatus::new(false, &qos, &node.context)?);
        let sub = Arc::new(Self {
            topic: CString::new(topic).map_err(|_| Error::invalid("topic name contains NUL"))?,
            node,
            ty,
            qos,
            gid,
            status,
            last_sequence: Mutex::new(HashMap::new()),
            _registration: registration,
            received: AtomicU64::new(0),
            matched: AtomicUsize::new(0),
            incompatible: RwLock::new(HashSet::new()),
            loans: Mutex::new(HashMap::new()),
            shm,
        });
        let observer: Arc<dyn GraphObserver> = sub.clone();
        sub.node.context.graph().observe(Arc::downgrade(&observer));
        Ok(sub)
    }

    /// Whether a sample may be delivered: its publisher's QoS matches ours and it has not
    /// outlived the publisher's lifespan. Counts the messages of that publisher that never
    /// arrived (gaps in its sequence numbers) as lost.
    fn deliverable(&self, header: &SampleHeader, now: i64) -> bool {
        {
            let incompatible = self.incompatible.read().unwrap_or_else(|e| e.into_inner());
            if !incompatible.is_empty() && incompatible.contains(&header.publisher_gid) {
                return false;
            }
        }
        let previous = self
            .last_sequence
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(header.publisher_gid, header.sequence);
        if let Some(prev) = previous {
            self.status.lost(header.sequence.saturating_sub(prev + 1));
        }
        header.lifespan == 0
            || now.saturating_sub(header.source_timestamp) <= header.lifespan as i64
    }

    /// Takes the oldest deliverable sample and hands it to `read`; `Ok(None)` when nothing is
    /// waiting. Samples that may not be delivered are dropped on the way.
    fn take_sample<R>(
        &self,
        read: impl FnOnce(SubscriberSample) -> Result<R>,
    ) -> Result<Option<(R, TakenInfo)>> {
        let mut read = Some(read);
        self.shm.take(|sample| {
            let header = *sample.header();
            let now = now_ns();
            if !self.deliverable(&header, now) {
                return Ok(None);
            }
            let read = read
                .take()
                .ok_or_else(|| Error::Other("take: reader used twice".into()))?;
            let value = read(sample)?;
            let info = TakenInfo {
                publisher_gid: header.publisher_gid,
                publication_sequence: header.sequence,
                reception_sequence: self.received.fetch_add(1, Ordering::Relaxed) + 1,
                source_timestamp: header.source_timestamp,
                received_timestamp: now,
            };
            self.status.activity();
            Ok(Some((value, info)))
        })
    }

    /// Takes the oldest deliverable message and hands its CDR bytes to `read`; `Ok(None)`
    /// when nothing is waiting. A raw C struct (loaned publish) is serialized first.
    pub fn take_with<R>(
        &self,
        read: impl FnOnce(&[u8]) -> Result<R>,
    ) -> Result<Option<(R, TakenInfo)>> {
        self.take_sample(|sample| {
            if sample.header().is_raw() {
                read(&self.ty.raw_to_cdr(sample.payload())?)
            } else {
                read(sample.payload())
            }
        })
    }

    /// Takes the oldest deliverable message into `msg`: decodes CDR, or copies a raw C struct
    /// as it is (one memcpy of the struct's size).
    pub fn take(&self, msg: &mut MessageMut<'_>) -> Result<Option<TakenInfo>> {
        Ok(self
            .take_sample(|sample| {
                if sample.header().is_raw() {
                    msg.copy_raw(sample.payload())
                } else {
                    msg.deserialize(sample.payload())
                }
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
        let taken = self.take_sample(|sample| {
            if sample.header().is_raw() {
                let payload = sample.payload();
                self.ty.check_raw(payload.as_ptr(), payload.len())?;
                Ok(Loan::Sample(sample))
            } else {
                let mut owned = OwnedMessage::new(self.ty.clone())?;
                owned.deserialize(sample.payload())?;
                Ok(Loan::Owned(owned))
            }
        })?;
        Ok(taken.map(|(loan, info)| {
            let ptr: *mut c_void = match &loan {
                Loan::Sample(s) => s.payload().as_ptr().cast_mut().cast(),
                Loan::Owned(m) => m.as_ptr(),
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

    /// Whether a message is waiting.
    pub fn has_data(&self) -> bool {
        self.shm.has_data()
    }

    /// Consumes pending wake-ups (see [`ShmSubscriber::drain_wakeups`]).
    pub fn drain_wakeups(&self) -> u64 {
        self.shm.drain_wakeups()
    }

    /// Readable while a wake-up is pending; `None` once released at process exit.
    pub fn wakeup_fd(&self) -> Option<WakeupFd<'_>> {
        self.shm.wakeup_fd()
    }

    /// Number of publishers on the same topic and type whose QoS is compatible, in every
    /// process (from the graph).
    pub fn matched_publishers(&self) -> usize {
        self.matched.load(Ordering::SeqCst)
    }
}

impl GraphObserver for Subscription {
    fn topic(&self) -> &str {
        self.topic.to_str().unwrap_or_default()
    }

    fn graph_changed(&self, graph: &GraphView) {
        let (matched, incompatible) =
            self.status
                .update_from_graph(graph, self.topic(), &self.ty, &self.qos);
        self.matched.store(matched, Ordering::SeqCst);
        *self.incompatible.write().unwrap_or_else(|e| e.into_inner()) = incompatible;
    }
}
