//! Intra-process transport: publishers and subscriptions of one rmw context exchange C messages
//! directly, without CDR.
//!
//! A publish deep-copies the caller's message once into a [`Delivery`] (the caller keeps
//! ownership of its message, so one copy is unavoidable) and hands an `Arc` of it to every
//! [`Inbox`] the publisher serves: several subscriptions share one stored message. A take
//! deep-copies it into the caller's message, or lends it read-only (loaned take), so no
//! subscription can change what another sees. Which pairs use this path is decided in
//! [`crate::path`]; this module is only the mechanics.
//!
//! Thread-safety: everything here may be used from any thread. An inbox is a mutex-protected
//! queue plus an eventfd ([`Wake`]) that is readable while wake-ups are pending, polled by wait
//! sets and the callback thread; shared-memory deliveries ring it too (through the context's
//! doorbell).

use std::collections::{HashSet, VecDeque};
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use super::shm::{Ring, SampleHeader, Wake};
use crate::error::Result;
use crate::typesupport::OwnedMessage;

/// One published message on the intra-process path: the publisher's metadata and the stored
/// C message, shared by every subscription it went to.
#[derive(Clone)]
pub struct Delivery {
    /// GID, sequence number, source timestamp and lifespan, as on the shared-memory path.
    pub header: SampleHeader,
    /// The stored message (read-only once shared).
    pub message: Arc<OwnedMessage>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A subscription's intra-process queue: KEEP_LAST `depth` (the oldest message is dropped when
/// it is full, as on the shared-memory path).
pub struct Inbox {
    depth: usize,
    transient: bool,
    queue: Mutex<VecDeque<Delivery>>,
    wake: Wake,
    /// Publishers that deliver here: their shared-memory copies are not delivered again.
    sources: RwLock<HashSet<[u8; 16]>>,
    has_sources: AtomicBool,
}

/// Shared-memory deliveries ring the inbox's eventfd too: one descriptor per subscription.
impl Ring for Inbox {
    fn ring(&self, count: u64) {
        self.wake.ring(count);
    }
}

impl Inbox {
    /// An empty inbox keeping at most `depth` (at least 1) messages; `transient` for a
    /// TRANSIENT_LOCAL subscription (whose shared-memory port is in the transient-local lane).
    pub fn new(depth: usize, transient: bool) -> Result<Self> {
        Ok(Self {
            depth: depth.max(1),
            transient,
            queue: Mutex::new(VecDeque::new()),
            wake: Wake::new()?,
            sources: RwLock::new(HashSet::new()),
            has_sources: AtomicBool::new(false),
        })
    }

    /// Queues a message and wakes waiters.
    pub fn push(&self, delivery: Delivery) {
        {
            let mut q = lock(&self.queue);
            if q.len() >= self.depth {
                q.pop_front();
            }
            q.push_back(delivery);
        }
        self.wake.ring(1);
    }

    /// Wakes waiters without queueing anything (another path has data for this subscription).
    pub fn wake(&self) {
        self.wake.ring(1);
    }

    /// The oldest queued message.
    pub fn pop(&self) -> Option<Delivery> {
        lock(&self.queue).pop_front()
    }

    /// Whether a message is queued.
    pub fn has_data(&self) -> bool {
        !lock(&self.queue).is_empty()
    }

    /// Consumes pending wake-ups; returns how many messages were pushed since the last drain.
    pub fn drain_wakeups(&self) -> u64 {
        self.wake.drain()
    }

    /// Readable while wake-ups are pending.
    pub fn wakeup_fd(&self) -> BorrowedFd<'_> {
        self.wake.fd()
    }

    /// Records that publisher `gid` delivers here.
    pub fn add_source(&self, gid: [u8; 16]) {
        self.sources
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(gid);
        self.has_sources.store(true, Ordering::SeqCst);
    }

    /// Whether any publisher delivers here.
    pub fn has_sources(&self) -> bool {
        self.has_sources.load(Ordering::SeqCst)
    }

    /// Whether publisher `gid` delivers here (so its shared-memory samples are duplicates).
    pub fn serves(&self, gid: &[u8; 16]) -> bool {
        self.has_sources()
            && self
                .sources
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .contains(gid)
    }
}

/// A publisher's intra-process side: the inboxes it delivers to and, for TRANSIENT_LOCAL, its
/// last `history` messages for subscriptions that join later.
pub struct Outbox {
    gid: [u8; 16],
    history: usize,
    targets: RwLock<Vec<Arc<Inbox>>>,
    kept: Mutex<VecDeque<Delivery>>,
}

impl Outbox {
    /// An outbox of publisher `gid` keeping `history` messages for late joiners (0: volatile).
    pub fn new(gid: [u8; 16], history: usize) -> Self {
        Self {
            gid,
            history,
            targets: RwLock::new(Vec::new()),
            kept: Mutex::new(VecDeque::new()),
        }
    }

    /// The publisher's GID.
    pub fn gid(&self) -> [u8; 16] {
        self.gid
    }

    /// Starts delivering to `inbox`; hands it the kept history first (oldest first).
    pub fn connect(&self, inbox: Arc<Inbox>) {
        inbox.add_source(self.gid);
        let mut targets = self.targets.write().unwrap_or_else(|e| e.into_inner());
        for d in lock(&self.kept).iter() {
            inbox.push(d.clone());
        }
        targets.push(inbox);
    }

    /// Stops delivering to `inbox`.
    pub fn disconnect(&self, inbox: &Arc<Inbox>) {
        self.targets
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|t| !Arc::ptr_eq(t, inbox));
    }

    /// Number of inboxes served.
    pub fn target_count(&self) -> usize {
        self.targets.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Number of VOLATILE subscriptions served (their shared-memory ports are in the volatile
    /// lane, where the publisher need not send for them).
    pub fn volatile_target_count(&self) -> usize {
        self.targets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|t| !t.transient)
            .count()
    }

    /// Whether a publish needs a stored message: some inbox is served or history is kept.
    pub fn wants_messages(&self) -> bool {
        self.history > 0 || self.target_count() > 0
    }

    /// Delivers one stored message to every served inbox (and keeps it for late joiners).
    pub fn deliver(&self, header: SampleHeader, message: OwnedMessage) {
        let delivery = Delivery {
            header,
            message: Arc::new(message),
        };
        let targets = self.targets.read().unwrap_or_else(|e| e.into_inner());
        if self.history > 0 {
            let mut kept = lock(&self.kept);
            if kept.len() >= self.history {
                kept.pop_front();
            }
            kept.push_back(delivery.clone());
        }
        for t in targets.iter() {
            t.push(delivery.clone());
        }
    }
}
