//! The ROS graph of a domain: which nodes exist and which publishers, subscriptions, services
//! and clients they have, in every process on the host.
//!
//! Each rmw context announces its own part (a [`model::Participant`]) on the domain's
//! discovery channel whenever it changes, and keeps the latest announcement of every other
//! live context. A worker thread per context receives announcements, answers newcomers with
//! its own, and every 500 ms runs iceoryx2's dead-node cleanup and drops the participants whose
//! announcer is gone, so a killed process leaves the graph within about a second. Every change,
//! local or remote, triggers the graph guard conditions of the context's nodes.

pub mod model;
pub mod query;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use model::{key_hex, Endpoint, NodeEntry, Participant};

use crate::entity::{Gid, GuardCondition};
use crate::error::{Error, Result};
use crate::finished::{Finished, SetOnDrop};
use crate::transport::shm::{cleanup_dead_nodes, DiscoveryChannel, Doorbell, ShmContext};

/// How often the worker checks which participants are still alive.
const LIVENESS_PERIOD: Duration = Duration::from_millis(500);
/// Longest a worker sleeps before looking at its stop flag again.
const WAIT_SLICE: Duration = Duration::from_millis(100);
/// How long the names of a dead participant's nodes are remembered ([`Graph::departed_nodes`]):
/// longer than a DDS participant lease (Fast DDS: 20 s by default).
const DEPARTED_TTL: Duration = Duration::from_secs(60);

/// How long [`stop_all_workers`] waits for a worker to end before leaving it be.
const STOP_TIMEOUT: Duration = Duration::from_secs(2);

/// The graph workers of this process (weakly), for [`stop_all_workers`].
static WORKERS: Mutex<Vec<Weak<Shared>>> = Mutex::new(Vec::new());

/// Stops every graph worker of the process and waits (at most [`STOP_TIMEOUT`] each) until it
/// has ended. Called at process exit before Fast DDS's static destructors run
/// (`delegate/context.rs`): a worker can hold the last reference to an entity and destroy its
/// delegate endpoint, which must not overlap the delegate's teardown.
pub(crate) fn stop_all_workers() {
    let all: Vec<Arc<Shared>> = lock(&WORKERS)
        .drain(..)
        .filter_map(|w| w.upgrade())
        .collect();
    stop_workers(&all);
}

fn stop_workers(all: &[Arc<Shared>]) {
    for s in all {
        s.request_stop();
    }
    for s in all {
        if !s.finished.wait(STOP_TIMEOUT) {
            tracing::warn!(target: "rmw_shm_rs::graph", "a graph worker did not stop within {STOP_TIMEOUT:?} at exit");
        }
    }
}

/// Something that reacts to graph changes (a transient-local publisher delivering history to
/// new subscriptions, a subscription recomputing which publishers are incompatible, ...).
/// Called on the thread that noticed the change, with no graph lock held.
pub trait GraphObserver: Send + Sync {
    /// The topic or service name whose endpoints it cares about.
    fn topic(&self) -> &str;
    /// Endpoints on [`topic`](Self::topic) changed; `graph` is the new view.
    fn graph_changed(&self, graph: &query::GraphView);
}

/// Names of every endpoint of a participant.
fn endpoint_names(p: &Participant) -> impl Iterator<Item = String> + '_ {
    p.nodes
        .iter()
        .flat_map(|n| n.endpoints.iter().map(|e| e.name.clone()))
}

/// Each endpoint's GID and name.
fn endpoint_gids(p: &Participant) -> HashMap<[u8; 16], String> {
    p.nodes
        .iter()
        .flat_map(|n| n.endpoints.iter().map(|e| (e.gid, e.name.clone())))
        .collect()
}

/// Which topic and service names a change touched.
#[derive(Default)]
struct Touched(std::collections::HashSet<String>);

impl Touched {
    fn add(&mut self, p: &Participant) {
        self.0.extend(endpoint_names(p));
    }
}

struct Shared {
    key: [u8; 16],
    observers: Mutex<Vec<Weak<dyn GraphObserver>>>,
    channel: DiscoveryChannel,
    /// The context's doorbell: pruned of dead peers after each dead-node cleanup.
    doorbell: Arc<Doorbell>,
    local: Mutex<Participant>,
    peers: RwLock<HashMap<[u8; 16], Participant>>,
    guards: Mutex<Vec<Weak<GuardCondition>>>,
    stop: AtomicBool,
    /// Set when the worker thread has ended.
    finished: Arc<Finished>,
    next_node_id: AtomicU64,
    /// DDS participant prefixes of this host's delegates, with a generation that changes with
    /// them (recomputed on every graph change).
    dds_prefixes: RwLock<(u64, Arc<HashSet<[u8; 12]>>)>,
    /// (name, namespace) of the nodes of participants that died, and when they were dropped.
    departed: Mutex<HashMap<(String, String), Instant>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// Announces the local participant after a change made by `edit`, then wakes local waiters.
    fn update_local(&self, edit: impl FnOnce(&mut Participant)) {
        let mut touched = Touched::default();
        {
            let mut local = lock(&self.local);
            let before = endpoint_gids(&local);
            edit(&mut local);
            let after = endpoint_gids(&local);
            for (gid, name) in before.iter().chain(after.iter()) {
                if before.get(gid) != after.get(gid) {
                    touched.0.insert(name.clone());
                }
            }
            local.version += 1;
            if let Err(e) = self.channel.announce(&local.encode()) {
                tracing::warn!(target: "rmw_shm_rs::graph", "cannot announce the local graph: {e}");
            }
        }
        self.changed(&touched);
    }

    /// Recomputes the DDS prefixes of this host's delegates.
    /// Prefixes are kept after their process leaves: DDS keeps a killed process's endpoints
    /// until its participant lease runs out (seconds), and they must not count as another
    /// host's meanwhile.
    fn refresh_prefixes(&self) {
        let seen = self.view().remote_prefixes();
        let mut p = self.dds_prefixes.write().unwrap_or_else(|e| e.into_inner());
        if !seen.is_subset(&p.1) {
            let all: HashSet<[u8; 12]> = p.1.union(&seen).copied().collect();
            *p = (p.0 + 1, Arc::new(all));
        }
    }

    /// Tells observers and wakes graph guard conditions.
    fn changed(&self, touched: &Touched) {
        self.refresh_prefixes();
        let live: Vec<Arc<dyn GraphObserver>> = {
            let mut list = lock(&self.observers);
            list.retain(|o| o.strong_count() > 0);
            list.iter().filter_map(Weak::upgrade).collect()
        };
        // Filtered after the lock is released: an upgraded observer whose entity was destroyed
        // meanwhile is dropped here, and its drop changes the graph, which comes back to this
        // function (under the lock, that was a self-deadlock at exit).
        let observers: Vec<Arc<dyn GraphObserver>> = live
            .into_iter()
            .filter(|o| touched.0.contains(o.topic()))
            .collect();
        if !observers.is_empty() {
            let view = self.view();
            for o in observers {
                o.graph_changed(&view);
            }
        }
        self.trigger_guards();
    }

    fn view(&self) -> query::GraphView {
        let mut participants = vec![lock(&self.local).clone()];
        participants.extend(
            self.peers
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .values()
                .cloned(),
        );
        query::GraphView { participants }
    }

    fn reannounce(&self) {
        let local = lock(&self.local);
        let _ = self.channel.announce(&local.encode());
    }

    fn trigger_guards(&self) {
        let mut guards = lock(&self.guards);
        guards.retain(|g| match g.upgrade() {
            Some(g) => {
                g.trigger();
                true
            }
            None => false,
        });
    }

    /// Takes in received announcements; returns (changed, a newcomer appeared).
    fn receive(&self, touched: &mut Touched) -> (bool, bool) {
        let (mut changed, mut newcomer) = (false, false);
        self.channel.receive_all(|bytes| {
            let Some(p) = Participant::decode(bytes) else {
                tracing::debug!(target: "rmw_shm_rs::graph", "dropped a malformed announcement");
                return;
            };
            if p.key == self.key {
                return;
            }
            let mut peers = self.peers.write().unwrap_or_else(|e| e.into_inner());
            match peers.get(&p.key) {
                None => {
                    newcomer = true;
                    changed = true;
                    touched.add(&p);
                    peers.insert(p.key, p);
                }
                Some(old) if p.version > old.version => {
                    if old.nodes != p.nodes || old.dds_prefix != p.dds_prefix {
                        changed = true;
                        touched.add(old);
                        touched.add(&p);
                    }
                    peers.insert(p.key, p);
                }
                Some(_) => {}
            }
        });
        (changed, newcomer)
    }

    /// Removes participants whose announcer is gone; returns whether any was.
    fn drop_dead(&self, touched: &mut Touched) -> bool {
        cleanup_dead_nodes();
        self.doorbell.prune();
        let live: std::collections::HashSet<String> =
            self.channel.live_keys().into_iter().collect();
        let mut peers = self.peers.write().unwrap_or_else(|e| e.into_inner());
        let before = peers.len();
        let mut departed = lock(&self.departed);
        let now = Instant::now();
        departed.retain(|_, at| now.duration_since(*at) < DEPARTED_TTL);
        peers.retain(|k, p| {
            let alive = live.contains(&key_hex(k));
            if !alive {
                touched.add(p);
                for n in &p.nodes {
                    departed.insert((n.name.clone(), n.namespace.clone()), now);
                }
            }
            alive
        });
        drop(departed);
        let gone = peers.len() != before;
        drop(peers);
        self.channel.refresh();
        // A process that died may have left Fast DDS files of its delegate.
        crate::delegate::shm_files::on_graph_round(gone);
        gone
    }

    /// Tells the worker to end after its current wait, and ends that wait.
    fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.channel.wake();
    }

    fn run(self: Arc<Self>) {
        let mut last_liveness = Instant::now();
        while !self.stop.load(Ordering::SeqCst) {
            self.channel.wait(WAIT_SLICE);
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            let mut touched = Touched::default();
            let (mut changed, newcomer) = self.receive(&mut touched);
            if newcomer {
                self.reannounce();
            }
            if last_liveness.elapsed() >= LIVENESS_PERIOD {
                changed |= self.drop_dead(&mut touched);
                last_liveness = Instant::now();
            }
            if changed {
                tracing::debug!(target: "rmw_shm_rs::graph", "graph changed");
                self.changed(&touched);
            }
        }
    }
}

/// A context's view of the graph and its part in it.
pub struct Graph {
    shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Graph {
    /// Joins the domain's graph: announces an empty participant and starts the worker.
    pub fn new(shm: &ShmContext) -> Result<Self> {
        let key = Gid::new().0;
        let channel = DiscoveryChannel::new(shm, &key_hex(&key))?;
        let shared = Arc::new(Shared {
            key,
            observers: Mutex::new(Vec::new()),
            channel,
            doorbell: shm.doorbell().clone(),
            local: Mutex::new(Participant {
                key,
                version: 0,
                pid: std::process::id(),
                nodes: Vec::new(),
                dds_prefix: None,
            }),
            peers: RwLock::new(HashMap::new()),
            guards: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            finished: Arc::new(Finished::default()),
            next_node_id: AtomicU64::new(1),
            dds_prefixes: RwLock::new((0, Arc::new(HashSet::new()))),
            departed: Mutex::new(HashMap::new()),
        });
        shared.update_local(|_| {});
        let worker_shared = shared.clone();
        let on_exit = SetOnDrop(shared.finished.clone());
        let worker = std::thread::Builder::new()
            .name("rmw_shm_rs-graph".into())
            .spawn(move || {
                let _on_exit = on_exit;
                worker_shared.run()
            })
            .map_err(|e| Error::Other(format!("cannot start the graph thread: {e}")))?;
        {
            let mut workers = lock(&WORKERS);
            workers.retain(|w| w.strong_count() > 0);
            workers.push(Arc::downgrade(&shared));
        }
        Ok(Self {
            shared,
            worker: Mutex::new(Some(worker)),
        })
    }

    /// Adds a node; it leaves the graph when the returned registration is dropped. `guard`
    /// is triggered on every graph change.
    pub fn add_node(
        &self,
        name: &str,
        namespace: &str,
        enclave: &str,
        guard: &Arc<GuardCondition>,
    ) -> NodeRegistration {
        let id = self.shared.next_node_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.shared.guards).push(Arc::downgrade(guard));
        self.shared.update_local(|p| {
            p.nodes.push(NodeEntry {
                id,
                name: name.to_owned(),
                namespace: namespace.to_owned(),
                enclave: enclave.to_owned(),
                endpoints: Vec::new(),
            })
        });
        NodeRegistration {
            shared: Arc::downgrade(&self.shared),
            id,
        }
    }

    /// The DDS participant prefixes of this host's delegates (this process's included) and
    /// their generation, which changes whenever the set does.
    pub fn dds_prefixes(&self) -> (u64, Arc<HashSet<[u8; 12]>>) {
        let p = self
            .shared
            .dds_prefixes
            .read()
            .unwrap_or_else(|e| e.into_inner());
        (p.0, p.1.clone())
    }

    /// (name, namespace) of the nodes of this host's processes that died during the last
    /// minute: their DDS participants outlive them until their lease ends, and a node of
    /// theirs that DDS still lists must not count as another host's (`delegate/graph.rs`).
    pub fn departed_nodes(&self) -> HashSet<(String, String)> {
        let departed = lock(&self.shared.departed);
        let now = Instant::now();
        departed
            .iter()
            .filter(|(_, at)| now.duration_since(**at) < DEPARTED_TTL)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Announces this process's delegate participant prefix (once known).
    pub fn set_dds_prefix(&self, prefix: [u8; 12]) {
        self.shared.update_local(|p| p.dds_prefix = Some(prefix));
    }

    /// A function for changes the graph learns of elsewhere (the DDS side): tells every
    /// observer and triggers the graph guard conditions of this context's nodes. Holds the
    /// graph weakly.
    pub fn external_change_notifier(&self) -> impl Fn() + Send + Sync + 'static {
        let shared = Arc::downgrade(&self.shared);
        move || {
            if let Some(s) = shared.upgrade() {
                let observers: Vec<Arc<dyn GraphObserver>> = lock(&s.observers)
                    .iter()
                    .filter_map(Weak::upgrade)
                    .collect();
                if !observers.is_empty() {
                    let view = s.view();
                    for o in observers {
                        o.graph_changed(&view);
                    }
                }
                s.trigger_guards();
            }
        }
    }

    /// A consistent copy of the whole graph: this context first, then its peers.
    pub fn view(&self) -> query::GraphView {
        self.shared.view()
    }

    /// Registers `observer` for changes of the endpoints on its topic (dropped observers are
    /// forgotten) and calls it once with the current graph.
    pub fn observe(&self, observer: Weak<dyn GraphObserver>) {
        if let Some(o) = observer.upgrade() {
            o.graph_changed(&self.view());
        }
        lock(&self.shared.observers).push(observer);
    }
}

impl Drop for Graph {
    fn drop(&mut self) {
        self.shared.request_stop();
        if let Some(w) = lock(&self.worker).take() {
            // The last reference may be dropped on the worker itself (it briefly holds
            // entities): then it exits on its own after seeing `stop`.
            if w.thread().id() != std::thread::current().id() {
                let _ = w.join();
            }
        }
    }
}

/// A node's entry in the graph; removes it when dropped.
pub struct NodeRegistration {
    shared: Weak<Shared>,
    id: u64,
}

impl NodeRegistration {
    /// Adds an endpoint of this node; it leaves the graph when the registration is dropped.
    pub fn add_endpoint(&self, endpoint: Endpoint) -> EndpointRegistration {
        let gid = endpoint.gid;
        if let Some(shared) = self.shared.upgrade() {
            shared.update_local(|p| {
                if let Some(n) = p.nodes.iter_mut().find(|n| n.id == self.id) {
                    n.endpoints.push(endpoint);
                }
            });
        }
        EndpointRegistration {
            shared: self.shared.clone(),
            node: self.id,
            gid,
        }
    }
}

impl Drop for NodeRegistration {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            shared.update_local(|p| p.nodes.retain(|n| n.id != self.id));
        }
    }
}

/// An endpoint's entry in the graph; removes it when dropped.
pub struct EndpointRegistration {
    shared: Weak<Shared>,
    node: u64,
    gid: [u8; 16],
}

impl Drop for EndpointRegistration {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            shared.update_local(|p| {
                if let Some(n) = p.nodes.iter_mut().find(|n| n.id == self.node) {
                    n.endpoints.retain(|e| e.gid != self.gid);
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::model::{EndpointKind, Qos};
    use super::*;

    /// An observer whose entity is destroyed (its owner lets go) while the graph holds it: the
    /// graph's copy is then the last, and dropping it removes the observer's endpoint.
    struct Vanishing {
        owner: Mutex<Option<Arc<dyn GraphObserver>>>,
        _endpoint: EndpointRegistration,
    }

    impl GraphObserver for Vanishing {
        fn topic(&self) -> &str {
            drop(lock(&self.owner).take());
            "/vanishing"
        }
        fn graph_changed(&self, _: &query::GraphView) {}
    }

    fn endpoint(name: &str, gid: u8) -> Endpoint {
        Endpoint {
            kind: EndpointKind::Publisher,
            name: name.into(),
            type_name: "std_msgs/msg/String".into(),
            type_hash: String::new(),
            gid: [gid; 16],
            qos: Qos::default(),
        }
    }

    #[test]
    fn an_observer_dropped_by_a_graph_change_does_not_deadlock_it() {
        let (done_tx, done) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let shm = ShmContext::new(231).unwrap();
            let graph = Graph::new(&shm).unwrap();
            let guard = Arc::new(GuardCondition::new().unwrap());
            let node = graph.add_node("n", "/", "/", &guard);
            let vanishing = Arc::new(Vanishing {
                owner: Mutex::new(None),
                _endpoint: node.add_endpoint(endpoint("/vanishing", 1)),
            });
            let observer: Arc<dyn GraphObserver> = vanishing.clone();
            graph.observe(Arc::downgrade(&observer));
            *lock(&vanishing.owner) = Some(observer);
            drop(vanishing);
            // A change on another topic: the graph upgrades the observer, asks its topic (the
            // owner lets go), and drops the last reference, which changes the graph again.
            let _other = node.add_endpoint(endpoint("/other", 2));
            done_tx.send(()).unwrap();
        });
        assert!(
            done.recv_timeout(Duration::from_secs(20)).is_ok(),
            "the graph deadlocked on an observer dropped during a change"
        );
    }

    #[test]
    fn a_worker_is_registered_and_ends_when_stopped_as_at_exit() {
        let shm = ShmContext::new(230).unwrap();
        let graph = Graph::new(&shm).unwrap();
        let registered = lock(&WORKERS)
            .iter()
            .filter_map(Weak::upgrade)
            .any(|w| Arc::ptr_eq(&w, &graph.shared));
        assert!(registered, "the worker is not in the process's registry");
        assert!(!graph.shared.finished.wait(Duration::ZERO));
        // What stop_all_workers does to every registered worker (the others belong to the
        // tests running beside this one).
        stop_workers(std::slice::from_ref(&graph.shared));
        assert!(
            graph.shared.finished.wait(Duration::ZERO),
            "the worker still runs"
        );
    }
}
