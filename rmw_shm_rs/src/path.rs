//! Path selection: which transport carries the messages of each publisher/subscription pair.
//!
//! | the pair is in                | subscription QoS           | path                           |
//! |-------------------------------|----------------------------|--------------------------------|
//! | the same rmw context          | KEEP_LAST, or BEST_EFFORT  | intra-process (no CDR)         |
//! | the same rmw context          | RELIABLE + KEEP_ALL        | shared memory (see below)      |
//! | other contexts, same host     | any                        | shared memory (iceoryx2)       |
//! | other hosts                   | any                        | DDS (issue 5; not yet)         |
//!
//! A RELIABLE KEEP_ALL subscription must make its publisher wait for room instead of dropping;
//! the shared-memory keep-all lane does that (with a bounded wait), the intra-process queue
//! cannot without risking a publisher and subscription on one thread waiting for each other,
//! so that pair selects shared memory. Every other QoS is honoured on both paths the same way
//! (depth, durability with the publisher's history, lifespan, deadline, liveliness).
//!
//! Exactly once: a subscription remembers which publishers serve it intra-process and drops
//! their shared-memory samples (which other processes' subscriptions still need). A VOLATILE
//! publisher whose matched subscriptions are all served intra-process does not send on shared
//! memory at all (no serialization); a TRANSIENT_LOCAL one always does, for late joiners in
//! other processes.
//!
//! `RMW_SHM_RS_PATHS` (comma-separated `intra`, `shm`; default both) restricts the paths for
//! diagnosis: without `intra` every pair uses shared memory; without `shm` only same-context
//! pairs communicate. The chosen path of each pair is logged with `tracing` under the target
//! `rmw_shm_rs::path` (`RMW_SHM_RS_LOG=rmw_shm_rs::path=debug`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use crate::entity::qos::{self, QosProfile};
use crate::transport::intra::{Inbox, Outbox};

/// A transport a pair can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// Same context: C messages handed over in memory.
    IntraProcess,
    /// Same host: iceoryx2 shared memory, CDR or a raw plain struct.
    SharedMemory,
}

/// The paths enabled for this process (`RMW_SHM_RS_PATHS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paths {
    /// Intra-process delivery between endpoints of one context.
    pub intra: bool,
    /// Shared memory between contexts and processes.
    pub shm: bool,
}

impl Paths {
    /// Parses a `RMW_SHM_RS_PATHS` value; unknown names are ignored with a warning. An empty
    /// value enables every path.
    pub fn parse(value: &str) -> Paths {
        let mut p = Paths {
            intra: false,
            shm: false,
        };
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "intra" => p.intra = true,
                "shm" => p.shm = true,
                other => {
                    tracing::warn!(target: "rmw_shm_rs::path", "RMW_SHM_RS_PATHS: unknown path '{other}' ignored (known: intra, shm)")
                }
            }
        }
        if !p.intra && !p.shm {
            return Paths {
                intra: true,
                shm: true,
            };
        }
        p
    }

    /// The paths in force, read once per process.
    pub fn get() -> Paths {
        static PATHS: std::sync::OnceLock<Paths> = std::sync::OnceLock::new();
        *PATHS.get_or_init(|| Paths::parse(&std::env::var("RMW_SHM_RS_PATHS").unwrap_or_default()))
    }
}

/// The path of a publisher and a subscription of the same context with compatible QoS.
pub fn select_same_context(paths: Paths, subscription: &QosProfile) -> Path {
    let keep_all_reliable =
        subscription.history == qos::KEEP_ALL && subscription.reliability == qos::RELIABLE;
    if paths.intra && !keep_all_reliable {
        Path::IntraProcess
    } else {
        Path::SharedMemory
    }
}

struct Pub {
    outbox: Weak<Outbox>,
    qos: QosProfile,
}

struct Sub {
    inbox: Weak<Inbox>,
    gid: [u8; 16],
    qos: QosProfile,
}

#[derive(Default)]
struct Topic {
    publishers: Vec<Pub>,
    subscriptions: Vec<Sub>,
}

/// The endpoints of one context by topic (keyed by the topic's shared-memory service name,
/// which also names the type and its hash): pairs them up as they are created.
#[derive(Default)]
pub struct IntraRegistry {
    topics: Mutex<HashMap<String, Topic>>,
}

fn pair(outbox: &Outbox, pub_qos: &QosProfile, sub: &Sub, inbox: Arc<Inbox>, topic: &str) {
    if matches!(
        qos::check_compatible(pub_qos, &sub.qos).0,
        qos::Compatibility::Error
    ) {
        return;
    }
    let path = select_same_context(Paths::get(), &sub.qos);
    tracing::debug!(target: "rmw_shm_rs::path", topic, publisher = ?outbox.gid(), subscription = ?sub.gid, ?path, "pair in one context");
    if path == Path::IntraProcess {
        outbox.connect(inbox);
    }
}

impl IntraRegistry {
    fn topics(&self) -> std::sync::MutexGuard<'_, HashMap<String, Topic>> {
        self.topics.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a publisher on `key` and connects it to the subscriptions already there.
    pub fn add_publisher(&self, key: &str, topic: &str, outbox: &Arc<Outbox>, qos: QosProfile) {
        let mut topics = self.topics();
        let t = topics.entry(key.to_owned()).or_default();
        t.subscriptions.retain(|s| s.inbox.strong_count() > 0);
        for s in &t.subscriptions {
            if let Some(inbox) = s.inbox.upgrade() {
                pair(outbox, &qos, s, inbox, topic);
            }
        }
        t.publishers.push(Pub {
            outbox: Arc::downgrade(outbox),
            qos,
        });
    }

    /// Adds a subscription on `key` and connects the publishers already there to it.
    pub fn add_subscription(
        &self,
        key: &str,
        topic: &str,
        inbox: &Arc<Inbox>,
        gid: [u8; 16],
        qos: QosProfile,
    ) {
        let mut topics = self.topics();
        let t = topics.entry(key.to_owned()).or_default();
        t.publishers.retain(|p| p.outbox.strong_count() > 0);
        let sub = Sub {
            inbox: Arc::downgrade(inbox),
            gid,
            qos,
        };
        for p in &t.publishers {
            if let Some(outbox) = p.outbox.upgrade() {
                pair(&outbox, &p.qos, &sub, inbox.clone(), topic);
            }
        }
        t.subscriptions.push(sub);
    }

    /// Removes a subscription: no publisher delivers to it any more.
    pub fn remove_subscription(&self, key: &str, inbox: &Arc<Inbox>) {
        let mut topics = self.topics();
        if let Some(t) = topics.get_mut(key) {
            for p in &t.publishers {
                if let Some(outbox) = p.outbox.upgrade() {
                    outbox.disconnect(inbox);
                }
            }
            t.subscriptions.retain(|s| {
                s.inbox.strong_count() > 0 && !Weak::ptr_eq(&s.inbox, &Arc::downgrade(inbox))
            });
            if t.publishers.is_empty() && t.subscriptions.is_empty() {
                topics.remove(key);
            }
        }
    }

    /// Removes a publisher.
    pub fn remove_publisher(&self, key: &str, outbox: &Arc<Outbox>) {
        let mut topics = self.topics();
        if let Some(t) = topics.get_mut(key) {
            t.publishers.retain(|p| {
                p.outbox.strong_count() > 0 && !Weak::ptr_eq(&p.outbox, &Arc::downgrade(outbox))
            });
            if t.publishers.is_empty() && t.subscriptions.is_empty() {
                topics.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse() {
        let both = Paths {
            intra: true,
            shm: true,
        };
        assert_eq!(Paths::parse(""), both);
        assert_eq!(Paths::parse("intra,shm"), both);
        assert_eq!(Paths::parse("bogus"), both);
        assert_eq!(
            Paths::parse(" shm "),
            Paths {
                intra: false,
                shm: true
            }
        );
        assert_eq!(
            Paths::parse("intra"),
            Paths {
                intra: true,
                shm: false
            }
        );
    }

    #[test]
    fn keep_all_reliable_uses_shared_memory() {
        let both = Paths::parse("");
        let mut q = qos::resolve(&crate::entity::qos::services_default());
        q.history = qos::KEEP_LAST;
        assert_eq!(select_same_context(both, &q), Path::IntraProcess);
        q.history = qos::KEEP_ALL;
        q.reliability = qos::RELIABLE;
        assert_eq!(select_same_context(both, &q), Path::SharedMemory);
        q.reliability = qos::BEST_EFFORT;
        assert_eq!(select_same_context(both, &q), Path::IntraProcess);
        let shm_only = Paths::parse("shm");
        q.history = qos::KEEP_LAST;
        assert_eq!(select_same_context(shm_only, &q), Path::SharedMemory);
    }
}
