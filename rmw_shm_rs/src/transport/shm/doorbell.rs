//! One wake-up channel per rmw context (its "doorbell"), instead of one event service per
//! topic and ROS service: iceoryx2 keeps about five file descriptors open per event service and
//! listener (static config, dynamic config, event state, socket, port tag), which dominated the
//! descriptors of a process with many endpoints.
//!
//! Every context owns an iceoryx2 event service `rmw_shm_rs/wake/<iceoryx2 node id>` and one
//! listener on it. Each waitable endpoint (subscription, server, client) registers a wake-up
//! target ([`Ring`]: its own eventfd) and gets an index; its iceoryx2 port is *named* after the
//! index (`w<index>`). A writer (publisher, client, server) that delivered data lists the ports
//! of the service it wrote to (iceoryx2's dynamic config: node id and port name) and rings each
//! one: directly (no iceoryx2 at all) when the port belongs to its own context, else through the
//! doorbell of the port's node with event id `index % EVENT_IDS`. Draining the doorbell passes
//! every event to the targets whose index has that remainder; their eventfds are what the wait
//! sets poll.
//!
//! No lost wake-up: a context's listener exists before any of its ports, and an endpoint
//! registers its target before creating its port; a port is listed in the service's dynamic
//! config before any writer can connect to it, so a writer that delivered to it also finds it
//! there afterwards. Every wait set and the callback thread poll the doorbell of each context
//! they wait in and drain it before checking state; whoever drains it writes the eventfds of the
//! targets, which wakes the thread waiting on that target. Index reuse, and targets sharing an
//! event id (more than [`EVENT_IDS`] endpoints in a context), only cause extra wake-ups: state is
//! always checked (a callback may be told of a message that a take then does not find).

use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use iceoryx2::identifiers::UniqueNodeId;
use iceoryx2::port::listener::Listener;
use iceoryx2::port::notifier::Notifier;
use iceoryx2::prelude::*;
use parking_lot::{MappedRwLockReadGuard, Mutex, RwLock};
use rustix::event::{eventfd, EventfdFlags};

use super::config::EventFactory;
use super::lifecycle::{Kind, Slot};
use super::Svc;
use crate::error::{Error, Result};

/// Event ids of a doorbell. Every drain swaps each id's counter (iceoryx2's counting bit set),
/// which costs CPU on every wait, so the space stays small; endpoints beyond it share ids
/// (extra wake-ups from other processes, nothing lost).
pub const EVENT_IDS: usize = 64;
/// Processes that may ring one doorbell.
const MAX_PEERS: usize = 1024;
/// How long a peer whose doorbell could not be opened is not tried again.
const RETRY_OPEN: Duration = Duration::from_secs(1);
/// Prefix of the port names carrying an event id.
const PORT_PREFIX: &str = "w";

/// A wake-up target: something a wait set polls.
pub trait Ring: Send + Sync {
    /// Records `count` new notifications and makes the target readable.
    fn ring(&self, count: u64);
}

/// An eventfd counting notifications: the wake-up target of servers and clients.
pub struct Wake(OwnedFd);

impl Wake {
    /// A new eventfd, not readable.
    pub fn new() -> Result<Self> {
        eventfd(0, EventfdFlags::NONBLOCK | EventfdFlags::CLOEXEC)
            .map(Self)
            .map_err(|e| Error::BadAlloc(format!("cannot create an eventfd: {e}")))
    }

    /// Consumes the notifications; returns how many there were.
    pub fn drain(&self) -> u64 {
        let mut buf = [0u8; 8];
        match rustix::io::read(&self.0, &mut buf) {
            Ok(8) => u64::from_ne_bytes(buf),
            _ => 0,
        }
    }

    /// Readable while notifications are pending.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl Ring for Wake {
    fn ring(&self, count: u64) {
        let _ = rustix::io::write(&self.0, &count.to_ne_bytes());
    }
}

struct Bell {
    listener: Listener<Svc>,
    _event: EventFactory,
}

struct Peer {
    notifier: Notifier<Svc>,
    event: EventFactory,
}

enum PeerState {
    Open(Box<Peer>),
    /// Could not be opened (an older build, or a process on its way out) at that time.
    Missing(Instant),
}

#[derive(Default)]
struct Targets {
    slots: Vec<Option<Weak<dyn Ring>>>,
    free: Vec<usize>,
}

/// The doorbell of one context, with the notifiers to the doorbells of other processes.
pub struct Doorbell {
    node: Arc<Slot<Node<Svc>>>,
    own: UniqueNodeId,
    bell: Arc<Slot<Bell>>,
    peers: Arc<Slot<Mutex<HashMap<UniqueNodeId, PeerState>>>>,
    targets: RwLock<Targets>,
}

fn bell_name(node: &UniqueNodeId) -> Result<ServiceName> {
    super::service_name(&format!("rmw_shm_rs/wake/{node}"))
}

/// The registration index a port name carries, if it is one of ours.
fn index_of(name: &PortName) -> Option<usize> {
    name.as_str().strip_prefix(PORT_PREFIX)?.parse().ok()
}

impl Doorbell {
    /// Creates the doorbell of the context whose iceoryx2 node is `node`, with its listener.
    pub fn new(node: Arc<Slot<Node<Svc>>>) -> Result<Arc<Self>> {
        let (own, event) = {
            let n = node.get()?;
            let own = *n.id();
            let event = n
                .service_builder(&bell_name(&own)?)
                .event()
                .event_id_max_value(EVENT_IDS - 1)
                .max_notifiers(MAX_PEERS)
                .max_listeners(1)
                .max_nodes(MAX_PEERS + 1)
                .create()
                .map_err(|e| Error::transport("cannot create the context's wake-up service", e))?;
            (own, event)
        };
        let listener = event
            .listener_builder()
            .create()
            .map_err(|e| Error::transport("cannot create the context's wake-up listener", e))?;
        Ok(Arc::new(Self {
            node,
            own,
            bell: Slot::new(
                Bell {
                    listener,
                    _event: event,
                },
                Kind::Ports,
            ),
            peers: Slot::new(Mutex::new(HashMap::new()), Kind::Ports),
            targets: RwLock::new(Targets::default()),
        }))
    }

    /// Registers `target`: rings for the returned registration's port name reach it.
    pub fn register(self: &Arc<Self>, target: Weak<dyn Ring>) -> Registration {
        let mut t = self.targets.write();
        let index = match t.free.pop() {
            Some(i) => {
                t.slots[i] = Some(target);
                i
            }
            None => {
                t.slots.push(Some(target));
                t.slots.len() - 1
            }
        };
        Registration {
            doorbell: self.clone(),
            index,
        }
    }

    /// Rings the target registered at `index` in this context.
    fn ring_index(&self, index: usize) {
        let target = self
            .targets
            .read()
            .slots
            .get(index)
            .and_then(|s| s.as_ref()?.upgrade());
        if let Some(target) = target {
            target.ring(1);
        }
    }

    /// Rings the targets of event id `id` in this context.
    fn ring_event(&self, id: usize, count: u64) {
        let t = self.targets.read();
        for slot in t.slots.iter().skip(id).step_by(EVENT_IDS) {
            if let Some(target) = slot.as_ref().and_then(Weak::upgrade) {
                target.ring(count);
            }
        }
    }

    /// Rings the port named `name` of the iceoryx2 node `node` (ports without an index in
    /// their name are not ours and skipped).
    pub fn ring(&self, node: &UniqueNodeId, name: &PortName) {
        let Some(index) = index_of(name) else {
            return;
        };
        if *node == self.own {
            self.ring_index(index);
        } else {
            self.ring_peer(node, index % EVENT_IDS);
        }
    }

    fn ring_peer(&self, peer: &UniqueNodeId, id: usize) {
        let Ok(peers) = self.peers.get() else {
            return;
        };
        let mut peers = peers.lock();
        let retry = match peers.get(peer) {
            Some(PeerState::Open(_)) => false,
            Some(PeerState::Missing(at)) if at.elapsed() < RETRY_OPEN => return,
            _ => true,
        };
        if retry {
            if peers.len() >= 4 * MAX_PEERS {
                peers.retain(|_, s| matches!(s, PeerState::Open(_)));
            }
            let state = self.open_peer(peer).map_or_else(
                |e| {
                    tracing::debug!(target: "rmw_shm_rs::wake", %peer, "no doorbell: {e}");
                    PeerState::Missing(Instant::now())
                },
                |p| PeerState::Open(Box::new(p)),
            );
            peers.insert(*peer, state);
        }
        if let Some(PeerState::Open(p)) = peers.get(peer) {
            // No listener left (the process is gone): let go of its doorbell, and do not open
            // it again at once (a dead subscriber stays listed until the dead-node cleanup).
            if !matches!(
                p.notifier.notify_with_custom_event_id(EventId::new(id)),
                Ok(n) if n > 0
            ) {
                peers.insert(*peer, PeerState::Missing(Instant::now()));
            }
        }
    }

    /// Lets go of the doorbells of processes that are gone (no listener left after the dead-node
    /// cleanup): a notifier keeps the service and its files alive. Called by the graph worker
    /// after each cleanup.
    pub fn prune(&self) {
        if let Ok(peers) = self.peers.get() {
            peers.lock().retain(|_, s| match s {
                PeerState::Open(p) => p.event.dynamic_config().number_of_listeners() > 0,
                PeerState::Missing(at) => at.elapsed() < RETRY_OPEN,
            });
        }
    }

    fn open_peer(&self, peer: &UniqueNodeId) -> Result<Peer> {
        let node = self.node.get()?;
        let event = node
            .service_builder(&bell_name(peer)?)
            .event()
            .open()
            .map_err(|e| Error::transport("cannot open a wake-up service", e))?;
        let notifier = event
            .notifier_builder()
            .create()
            .map_err(|e| Error::transport("cannot create a wake-up notifier", e))?;
        Ok(Peer { notifier, event })
    }

    /// Consumes the notifications that reached this context and rings their targets. Returns
    /// how many there were.
    pub fn drain(&self) -> u64 {
        let Ok(bell) = self.bell.get() else {
            return 0;
        };
        bell.listener
            .try_wait(|a| self.ring_event(a.id.as_value(), a.count))
            .unwrap_or(0)
    }

    /// The listener's file descriptor, or `None` once released at process exit.
    pub fn fd(&self) -> Option<DoorbellFd<'_>> {
        self.bell.get().ok().map(DoorbellFd)
    }
}

/// The doorbell's file descriptor, borrowed for one `poll`: readable while notifications are
/// pending.
pub struct DoorbellFd<'a>(MappedRwLockReadGuard<'a, Bell>);

impl AsFd for DoorbellFd<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the descriptor is owned by the listener, which the guard keeps alive, and
        // iceoryx2 never changes or closes it during the listener's lifetime.
        unsafe { BorrowedFd::borrow_raw(self.0.listener.file_descriptor().native_handle()) }
    }
}

/// An endpoint's place in its context's doorbell; dropping it unregisters the target.
pub struct Registration {
    doorbell: Arc<Doorbell>,
    index: usize,
}

impl Registration {
    /// The name the endpoint's iceoryx2 port must carry so that writers ring it.
    pub fn port_name(&self) -> Result<PortName> {
        let name = format!("{PORT_PREFIX}{}", self.index);
        PortName::new(&name).map_err(|e| Error::transport("invalid port name", e))
    }

    /// The context's doorbell.
    pub fn doorbell(&self) -> &Arc<Doorbell> {
        &self.doorbell
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut t = self.doorbell.targets.write();
        t.slots[self.index] = None;
        t.free.push(self.index);
    }
}

/// Collects distinct doorbells (by address) into `into`.
pub fn collect<'a>(into: &mut Vec<&'a Doorbell>, d: &'a Doorbell) {
    if !into.iter().any(|x| std::ptr::eq(*x, d)) {
        into.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::shm::ShmContext;

    fn target(w: &Arc<Wake>) -> Weak<dyn Ring> {
        let t: Arc<dyn Ring> = w.clone();
        Arc::downgrade(&t)
    }

    #[test]
    fn rings_reach_the_registered_target_locally_and_across_contexts() {
        let (a, b) = (ShmContext::new(232).unwrap(), ShmContext::new(232).unwrap());
        let (w1, w2) = (
            Arc::new(Wake::new().unwrap()),
            Arc::new(Wake::new().unwrap()),
        );
        let r1 = b.doorbell().register(target(&w1));
        let r2 = b.doorbell().register(target(&w2));
        let b_id = *b.node().unwrap().id();
        // Another context rings through b's doorbell: nothing reaches the target before b
        // drains it.
        a.doorbell().ring(&b_id, &r2.port_name().unwrap());
        a.doorbell().ring(&b_id, &r2.port_name().unwrap());
        assert_eq!(w2.drain(), 0);
        assert_eq!(b.doorbell().drain(), 2);
        assert_eq!((w1.drain(), w2.drain()), (0, 2));
        // Its own context rings the target directly.
        b.doorbell().ring(&b_id, &r1.port_name().unwrap());
        assert_eq!((w1.drain(), b.doorbell().drain()), (1, 0));
        // Ports not named by us are skipped; a dropped registration is not rung.
        a.doorbell().ring(&b_id, &PortName::new("other").unwrap());
        let name = r2.port_name().unwrap();
        drop(r2);
        b.doorbell().ring(&b_id, &name);
        assert_eq!((b.doorbell().drain(), w1.drain(), w2.drain()), (0, 0, 0));
    }
}
