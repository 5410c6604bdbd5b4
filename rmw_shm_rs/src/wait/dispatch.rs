//! Listener callbacks (`rmw_subscription_set_on_new_message_callback`, the service and client
//! equivalents, `rmw_event_set_callback`) for executors that do not call `rmw_wait`, such as
//! rclcpp's events executor.
//!
//! One thread per context, started with the first callback, polls the wake-up descriptors of
//! the entities that have a callback (the same ones `rmw_wait` polls) and calls each callback
//! with the number of new messages, requests or responses (iceoryx2 notifications: one per
//! send), or with 1 when an event's status changed. Setting a callback calls it at once for
//! what is already waiting. Unsetting (a null callback) waits for a call in progress, so after
//! it returns the callback is never called again. An entity whose callback is set should not
//! also be waited on with `rmw_wait`: both consume the same wake-ups.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};

use crate::entity::event::{EndpointStatus, EventKind};
use crate::entity::{Client, GuardCondition, Service, Subscription};
use crate::error::{Error, Result};
use crate::transport::shm::{collect_doorbell, Doorbell};

/// A callback: called with the number of new events.
pub type Callback = Box<dyn Fn(usize) + Send + Sync>;

/// A live entity with its callback slot and the last event generation reported.
type Armed = (Live, Arc<Mutex<Option<Callback>>>, Arc<AtomicU64>);

/// What a callback is attached to.
pub enum Source {
    /// New messages of a subscription.
    Subscription(Weak<Subscription>),
    /// New requests of a service server.
    Service(Weak<Service>),
    /// New responses of a client.
    Client(Weak<Client>),
    /// Status changes of one event kind of an endpoint.
    Event(Weak<EndpointStatus>, EventKind),
}

enum Live {
    Subscription(Arc<Subscription>),
    Service(Arc<Service>),
    Client(Arc<Client>),
    Event(Arc<EndpointStatus>, EventKind),
}

impl Source {
    fn upgrade(&self) -> Option<Live> {
        Some(match self {
            Source::Subscription(w) => Live::Subscription(w.upgrade()?),
            Source::Service(w) => Live::Service(w.upgrade()?),
            Source::Client(w) => Live::Client(w.upgrade()?),
            Source::Event(w, k) => Live::Event(w.upgrade()?, *k),
        })
    }
}

impl Live {
    /// The doorbell of the entity's context (events have none).
    fn doorbell(&self) -> Option<&Doorbell> {
        match self {
            Live::Subscription(s) => Some(s.doorbell()),
            Live::Service(s) => Some(s.doorbell()),
            Live::Client(c) => Some(c.doorbell()),
            Live::Event(..) => None,
        }
    }

    /// New events since the last look (consumes the wake-ups).
    fn take_count(&self, reported: &AtomicU64) -> usize {
        match self {
            Live::Subscription(s) => s.drain_wakeups() as usize,
            Live::Service(s) => s.drain_wakeups() as usize,
            Live::Client(c) => c.drain_wakeups() as usize,
            Live::Event(s, k) => {
                s.wake().drain_wakeups();
                s.check_time();
                // One call per change of the status while the event has something pending.
                let generation = s.generation();
                let last = reported.swap(generation, Ordering::SeqCst);
                usize::from(generation != last && s.pending(*k))
            }
        }
    }

    /// Events already waiting when the callback is set.
    fn waiting(&self) -> usize {
        if let Some(d) = self.doorbell() {
            d.drain();
        }
        match self {
            Live::Subscription(s) => (s.drain_wakeups() as usize).max(usize::from(s.has_data())),
            Live::Service(s) => (s.drain_wakeups() as usize).max(usize::from(s.has_requests())),
            Live::Client(c) => (c.drain_wakeups() as usize).max(usize::from(c.has_response())),
            Live::Event(s, k) => usize::from(s.pending(*k)),
        }
    }
}

struct Entry {
    source: Source,
    callback: Arc<Mutex<Option<Callback>>>,
    reported: Arc<AtomicU64>,
}

struct Shared {
    entries: Mutex<HashMap<usize, Entry>>,
    wake: GuardCondition,
    stop: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The callback thread of a context.
pub struct Dispatcher {
    shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Dispatcher {
    /// A dispatcher whose thread starts with the first callback.
    pub fn new() -> Result<Self> {
        Ok(Self {
            shared: Arc::new(Shared {
                entries: Mutex::new(HashMap::new()),
                wake: GuardCondition::new()?,
                stop: AtomicBool::new(false),
            }),
            worker: Mutex::new(None),
        })
    }

    /// Sets (`Some`) or unsets (`None`) the callback of the entity identified by `key`.
    pub fn set(&self, key: usize, source: Source, callback: Option<Callback>) -> Result<()> {
        match callback {
            None => {
                let old = lock(&self.shared.entries).remove(&key);
                if let Some(old) = old {
                    // Waits for a call in progress, so none happens after we return.
                    *lock(&old.callback) = None;
                }
            }
            Some(cb) => {
                if let Some(live) = source.upgrade() {
                    let n = live.waiting();
                    if n > 0 {
                        cb(n);
                    }
                }
                let entry = Entry {
                    source,
                    callback: Arc::new(Mutex::new(Some(cb))),
                    reported: Arc::new(AtomicU64::new(0)),
                };
                if let Some(old) = lock(&self.shared.entries).insert(key, entry) {
                    *lock(&old.callback) = None;
                }
                self.start()?;
            }
        }
        self.shared.wake.trigger();
        Ok(())
    }

    fn start(&self) -> Result<()> {
        let mut worker = lock(&self.worker);
        if worker.is_none() {
            let shared = self.shared.clone();
            *worker = Some(
                std::thread::Builder::new()
                    .name("rmw_shm_rs-callbacks".into())
                    .spawn(move || run(&shared))
                    .map_err(|e| Error::Other(format!("cannot start the callback thread: {e}")))?,
            );
        }
        Ok(())
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.wake.trigger();
        if let Some(w) = lock(&self.worker).take() {
            // The last reference may be dropped on the worker itself (it briefly holds
            // entities): then it exits on its own after seeing `stop`.
            if w.thread().id() != std::thread::current().id() {
                let _ = w.join();
            }
        }
    }
}

fn run(shared: &Shared) {
    while !shared.stop.load(Ordering::SeqCst) {
        let live: Vec<Armed> = lock(&shared.entries)
            .values()
            .filter_map(|e| Some((e.source.upgrade()?, e.callback.clone(), e.reported.clone())))
            .collect();
        let mut next: Option<Instant> = None;
        for (l, _, _) in &live {
            if let Live::Event(s, _) = l {
                if let Some(t) = s.check_time() {
                    next = Some(next.map_or(t, |n| n.min(t)));
                }
            }
        }
        sleep(shared, &live, next);
        shared.wake.drain_wakeups();
        // Doorbells first: they ring the entities' eventfds, drained next.
        for d in doorbells(&live) {
            d.drain();
        }
        for (l, cb, reported) in &live {
            let n = l.take_count(reported);
            if n > 0 {
                if let Some(cb) = lock(cb).as_ref() {
                    cb(n);
                }
            }
        }
    }
}

/// The distinct doorbells of the live entities' contexts.
fn doorbells(live: &[Armed]) -> Vec<&Doorbell> {
    let mut d = Vec::with_capacity(1);
    for (l, _, _) in live {
        if let Some(b) = l.doorbell() {
            collect_doorbell(&mut d, b);
        }
    }
    d
}

fn sleep(shared: &Shared, live: &[Armed], next: Option<Instant>) {
    let doorbells = doorbells(live);
    let bells: Vec<_> = doorbells.iter().filter_map(|d| d.fd()).collect();
    let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(live.len() + bells.len() + 1);
    fds.push(PollFd::from_borrowed_fd(
        shared.wake.wakeup_fd(),
        PollFlags::IN,
    ));
    fds.extend(bells.iter().map(|f| PollFd::new(f, PollFlags::IN)));
    for (l, _, _) in live {
        let fd = match l {
            Live::Subscription(s) => s.wakeup_fd(),
            Live::Service(s) => s.wakeup_fd(),
            Live::Client(c) => c.wakeup_fd(),
            Live::Event(s, _) => s.wake().wakeup_fd(),
        };
        fds.push(PollFd::from_borrowed_fd(fd, PollFlags::IN));
    }
    // Short slices keep exit (which releases shared memory) from waiting on this thread.
    let mut timeout = Duration::from_millis(200);
    if let Some(n) = next {
        timeout = timeout.min(n.saturating_duration_since(Instant::now()));
    }
    let ts = Timespec {
        tv_sec: timeout.as_secs() as i64,
        tv_nsec: timeout.subsec_nanos() as i64,
    };
    let _ = poll(&mut fds, Some(&ts));
}
