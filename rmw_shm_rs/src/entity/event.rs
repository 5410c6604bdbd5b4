//! QoS events of publishers and subscriptions (rmw/event.h): what happened since the
//! application last looked, per event kind, and a wake-up for wait sets.
//!
//! Every publisher and subscription owns one [`EndpointStatus`]. Its counters are updated by
//! the graph (matched, incompatible QoS, incompatible type, liveliness of matched publishers),
//! by takes (message lost: gaps in a publisher's sequence numbers) and by time (deadline
//! missed, liveliness lost: checked whenever a wait or take looks, and a wait sleeps no longer
//! than the next deadline). A change triggers the status's guard condition, which wakes every
//! wait set holding one of the endpoint's events. The counters follow the DDS 1.4 §2.2.4.1
//! communication statuses that rmw mirrors: `total_count` accumulates, `*_change` counts since
//! the last take, and taking an event resets the changes.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::qos::{self, Compatibility, QosProfile};
use super::GuardCondition;
use crate::error::Result;
use crate::graph::model::{Endpoint, EndpointKind};
use crate::graph::query::GraphView;
use crate::typesupport::MessageType;

/// The event kinds rmw_shm_rs raises (`rmw_event_type_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Subscription: the number of alive matched publishers changed.
    LivelinessChanged,
    /// Subscription: no message within the deadline period.
    RequestedDeadlineMissed,
    /// Subscription: a publisher with incompatible QoS was found.
    RequestedQosIncompatible,
    /// Subscription: messages were lost (KEEP_LAST overflow, expired lifespan).
    MessageLost,
    /// Subscription: an endpoint of another type uses the topic.
    SubscriptionIncompatibleType,
    /// Subscription: matched publishers changed.
    SubscriptionMatched,
    /// Publisher (MANUAL_BY_TOPIC): liveliness not asserted within the lease duration.
    LivelinessLost,
    /// Publisher: no publish within the deadline period.
    OfferedDeadlineMissed,
    /// Publisher: a subscription with incompatible QoS was found.
    OfferedQosIncompatible,
    /// Publisher: an endpoint of another type uses the topic.
    PublisherIncompatibleType,
    /// Publisher: matched subscriptions changed.
    PublicationMatched,
}

impl EventKind {
    /// Whether the kind belongs to publishers (else to subscriptions).
    pub fn is_publisher_event(self) -> bool {
        matches!(
            self,
            EventKind::LivelinessLost
                | EventKind::OfferedDeadlineMissed
                | EventKind::OfferedQosIncompatible
                | EventKind::PublisherIncompatibleType
                | EventKind::PublicationMatched
        )
    }
}

/// A `total_count` / `total_count_change` pair.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    /// Since the endpoint was created.
    pub total: u64,
    /// Since the last take.
    pub change: u64,
}

impl Count {
    /// Adds `n`, saturating: `n` may come from another process (a publisher's sequence numbers
    /// jumping by up to 2^64 count as that many lost messages).
    fn add(&mut self, n: u64) {
        self.total = self.total.saturating_add(n);
        self.change = self.change.saturating_add(n);
    }
}

/// Matched endpoints (`rmw_matched_status_t`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Matched {
    /// Endpoints ever matched, and since the last take.
    pub total: Count,
    /// Endpoints matched now.
    pub current: u64,
    /// Change of `current` since the last take.
    pub current_change: i64,
}

/// Liveliness of matched publishers (`rmw_liveliness_changed_status_t`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Liveliness {
    /// Matched publishers alive now.
    pub alive: i64,
    /// Matched publishers no longer alive.
    pub not_alive: i64,
    /// Change of `alive` since the last take.
    pub alive_change: i64,
    /// Change of `not_alive` since the last take.
    pub not_alive_change: i64,
}

/// Incompatible QoS (`rmw_qos_incompatible_event_status_t`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Incompatible {
    /// Incompatible endpoints found.
    pub count: Count,
    /// `rmw_qos_policy_kind_t` of the last incompatibility.
    pub last_policy: u32,
}

/// A snapshot of one event kind's status, as `rmw_take_event` hands it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    /// Matched-endpoint status.
    Matched(Matched),
    /// A count (deadline missed, message lost, incompatible type, liveliness lost).
    Count(Count),
    /// Incompatible QoS.
    Incompatible(Incompatible),
    /// Liveliness changed.
    Liveliness(Liveliness),
}

#[derive(Default)]
struct Counters {
    matched: Matched,
    matched_gids: HashSet<[u8; 16]>,
    incompatible: Incompatible,
    incompatible_gids: HashSet<[u8; 16]>,
    incompatible_type: Count,
    incompatible_type_gids: HashSet<[u8; 16]>,
    liveliness: Liveliness,
    message_lost: Count,
    deadline_missed: Count,
    liveliness_lost: Count,
    /// Last publish or received message (deadline), last assertion (liveliness lease).
    last_activity: Option<Instant>,
    last_assertion: Option<Instant>,
    /// Whether the liveliness lease has already been reported lost since the last assertion.
    lease_reported: bool,
}

/// The event state of one publisher or subscription.
pub struct EndpointStatus {
    publisher: bool,
    deadline: Option<Duration>,
    lease: Option<Duration>,
    counters: Mutex<Counters>,
    wake: Arc<GuardCondition>,
    generation: std::sync::atomic::AtomicU64,
    context: std::sync::Weak<super::Context>,
}

fn duration(t: &crate::sys::rmw_time_t) -> Option<Duration> {
    qos::finite_ns(t).map(Duration::from_nanos)
}

impl EndpointStatus {
    /// The status of a publisher (`publisher`) or subscription with QoS `qos` in `context`.
    pub fn new(publisher: bool, qos: &QosProfile, context: &Arc<super::Context>) -> Result<Self> {
        let manual = qos.liveliness
            == crate::sys::rmw_qos_liveliness_policy_e_RMW_QOS_POLICY_LIVELINESS_MANUAL_BY_TOPIC;
        let now = Instant::now();
        Ok(Self {
            publisher,
            deadline: duration(&qos.deadline),
            lease: if publisher && manual {
                duration(&qos.liveliness_lease_duration)
            } else {
                None
            },
            counters: Mutex::new(Counters {
                last_activity: Some(now),
                last_assertion: Some(now),
                ..Counters::default()
            }),
            wake: Arc::new(GuardCondition::new()?),
            generation: std::sync::atomic::AtomicU64::new(0),
            context: Arc::downgrade(context),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The guard condition triggered on every change.
    pub fn wake(&self) -> &GuardCondition {
        &self.wake
    }

    /// Counts changes: it increases with each one (listener callbacks call once per change).
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The context of the endpoint, while it exists.
    pub fn context(&self) -> Option<Arc<super::Context>> {
        self.context.upgrade()
    }

    fn notify(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.wake.trigger();
    }

    /// Records a publish (publisher) or a received message (subscription): restarts the
    /// deadline period; for a publisher also asserts liveliness.
    pub fn activity(&self) {
        let now = Instant::now();
        let mut c = self.lock();
        c.last_activity = Some(now);
        if self.publisher {
            c.last_assertion = Some(now);
            c.lease_reported = false;
        }
    }

    /// `rmw_publisher_assert_liveliness`.
    pub fn assert_liveliness(&self) {
        let mut c = self.lock();
        c.last_assertion = Some(Instant::now());
        c.lease_reported = false;
    }

    /// Adds `n` lost messages.
    pub fn lost(&self, n: u64) {
        if n > 0 {
            self.lock().message_lost.add(n);
            self.notify();
        }
    }

    /// Counts the deadline periods and lease durations that passed without activity; returns
    /// the next instant at which one would pass (for the wait's timeout).
    pub fn check_time(&self) -> Option<Instant> {
        let now = Instant::now();
        let mut c = self.lock();
        let mut changed = false;
        let mut next = None;
        if let (Some(d), Some(last)) = (self.deadline, c.last_activity) {
            if !d.is_zero() {
                let elapsed = now.saturating_duration_since(last);
                let missed = (elapsed.as_nanos() / d.as_nanos()) as u64;
                if missed > 0 {
                    c.deadline_missed.add(missed);
                    c.last_activity = Some(last + d * missed as u32);
                    changed = true;
                }
                next = c.last_activity.map(|l| l + d);
            }
        }
        if let (Some(lease), Some(last)) = (self.lease, c.last_assertion) {
            if !c.lease_reported {
                if now >= last + lease {
                    c.liveliness_lost.add(1);
                    c.lease_reported = true;
                    changed = true;
                } else {
                    next = Some(next.map_or(last + lease, |n: Instant| n.min(last + lease)));
                }
            }
        }
        drop(c);
        if changed {
            self.notify();
        }
        next
    }

    /// GIDs of the matched peers (compatible QoS, same type), from the last graph update.
    pub fn matched_gids(&self) -> HashSet<[u8; 16]> {
        self.lock().matched_gids.clone()
    }

    /// Updates matched, incompatible-QoS, incompatible-type and liveliness counters from the
    /// endpoints of the other side on `topic`; returns the number of matched endpoints and the
    /// GIDs of those with incompatible QoS.
    pub fn update_from_graph(
        &self,
        graph: &GraphView,
        topic: &str,
        ty: &MessageType,
        my_qos: &QosProfile,
    ) -> (usize, HashSet<[u8; 16]>) {
        let other = if self.publisher {
            EndpointKind::Subscription
        } else {
            EndpointKind::Publisher
        };
        let endpoints: Vec<Endpoint> = graph
            .endpoints_on(other, topic)
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        let mut matched = HashSet::new();
        let mut incompatible = Vec::new();
        let mut wrong_type = HashSet::new();
        for e in &endpoints {
            if !e.same_type(ty) {
                wrong_type.insert(e.gid);
                continue;
            }
            let theirs: QosProfile = (&e.qos).into();
            let (p, s) = if self.publisher {
                (my_qos, &theirs)
            } else {
                (&theirs, my_qos)
            };
            let verdict = qos::check_compatible(&qos::for_matching(p), &qos::for_matching(s));
            tracing::trace!(target: "rmw_shm_rs::graph", topic, gid = ?e.gid, ?theirs, verdict = %verdict.1, "matching");
            match verdict.0 {
                Compatibility::Error => incompatible.push((
                    e.gid,
                    qos::first_incompatible_policy(&qos::for_matching(p), &qos::for_matching(s)),
                )),
                _ => {
                    matched.insert(e.gid);
                }
            }
        }
        let result = (
            matched.len(),
            incompatible.iter().map(|(g, _)| *g).collect(),
        );
        let mut c = self.lock();
        let mut changed = false;
        let new_matches = matched.difference(&c.matched_gids).count() as u64;
        let current = matched.len() as u64;
        if new_matches > 0 || current != c.matched.current {
            c.matched.total.add(new_matches);
            c.matched.current_change += current as i64 - c.matched.current as i64;
            if !self.publisher {
                let gone = c.matched_gids.difference(&matched).count() as i64;
                c.liveliness.alive += new_matches as i64 - gone;
                c.liveliness.alive_change += new_matches as i64 - gone;
            }
            c.matched.current = current;
            c.matched_gids = matched;
            changed = true;
        }
        for (gid, policy) in incompatible {
            if c.incompatible_gids.insert(gid) {
                c.incompatible.count.add(1);
                c.incompatible.last_policy = policy;
                changed = true;
            }
        }
        for gid in wrong_type {
            if c.incompatible_type_gids.insert(gid) {
                c.incompatible_type.add(1);
                changed = true;
            }
        }
        drop(c);
        if changed {
            self.notify();
        }
        result
    }

    /// Whether `kind` has changes the application has not taken.
    pub fn pending(&self, kind: EventKind) -> bool {
        let c = self.lock();
        match kind {
            EventKind::SubscriptionMatched | EventKind::PublicationMatched => {
                c.matched.total.change != 0 || c.matched.current_change != 0
            }
            EventKind::RequestedQosIncompatible | EventKind::OfferedQosIncompatible => {
                c.incompatible.count.change != 0
            }
            EventKind::SubscriptionIncompatibleType | EventKind::PublisherIncompatibleType => {
                c.incompatible_type.change != 0
            }
            EventKind::MessageLost => c.message_lost.change != 0,
            EventKind::RequestedDeadlineMissed | EventKind::OfferedDeadlineMissed => {
                c.deadline_missed.change != 0
            }
            EventKind::LivelinessLost => c.liveliness_lost.change != 0,
            EventKind::LivelinessChanged => {
                c.liveliness.alive_change != 0 || c.liveliness.not_alive_change != 0
            }
        }
    }

    /// The status of `kind`, resetting its changes (`rmw_take_event`).
    pub fn take(&self, kind: EventKind) -> EventStatus {
        self.check_time();
        let mut c = self.lock();
        match kind {
            EventKind::SubscriptionMatched | EventKind::PublicationMatched => {
                let s = c.matched;
                c.matched.total.change = 0;
                c.matched.current_change = 0;
                EventStatus::Matched(s)
            }
            EventKind::RequestedQosIncompatible | EventKind::OfferedQosIncompatible => {
                let s = c.incompatible;
                c.incompatible.count.change = 0;
                EventStatus::Incompatible(s)
            }
            EventKind::SubscriptionIncompatibleType | EventKind::PublisherIncompatibleType => {
                take_count(&mut c.incompatible_type)
            }
            EventKind::MessageLost => take_count(&mut c.message_lost),
            EventKind::RequestedDeadlineMissed | EventKind::OfferedDeadlineMissed => {
                take_count(&mut c.deadline_missed)
            }
            EventKind::LivelinessLost => take_count(&mut c.liveliness_lost),
            EventKind::LivelinessChanged => {
                let s = c.liveliness;
                c.liveliness.alive_change = 0;
                c.liveliness.not_alive_change = 0;
                EventStatus::Liveliness(s)
            }
        }
    }
}

fn take_count(c: &mut Count) -> EventStatus {
    let s = *c;
    c.change = 0;
    EventStatus::Count(s)
}

#[cfg(test)]
mod tests {
    use super::Count;

    #[test]
    fn counts_saturate_instead_of_overflowing() {
        // A peer's sequence numbers can jump by almost 2^64 (fuzz/fuzz_targets/peer_samples.rs).
        let mut c = Count::default();
        c.add(u64::MAX - 1);
        c.add(5);
        assert_eq!(
            c,
            Count {
                total: u64::MAX,
                change: u64::MAX
            }
        );
    }
}
