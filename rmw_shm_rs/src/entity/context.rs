//! The rmw context: one per `rmw_init`, owning the shared-memory node.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::delegate::{DdsContext, DdsNode, DiscoveryOptions};
use crate::error::{Error, Result};
use crate::graph::model::Participant;
use crate::graph::query::GraphView;
use crate::graph::Graph;
use crate::path::IntraRegistry;
use crate::transport::shm::ShmContext;
use crate::wait::dispatch::Dispatcher;

/// The largest domain id DDS can use with the default RTPS port mapping.
pub const MAX_DDS_DOMAIN_ID: usize = 232;

/// What `rmw_context_t::impl` points to.
pub struct Context {
    /// ROS domain (`ROS_DOMAIN_ID`); isolates graphs and topics.
    pub domain_id: usize,
    /// Security enclave name passed by rcl (informational).
    pub enclave: String,
    graph: Graph,
    shm: ShmContext,
    intra: IntraRegistry,
    dispatcher: std::sync::OnceLock<Dispatcher>,
    shutdown: AtomicBool,
    discovery: DiscoveryOptions,
    /// The delegate's context, created on first need; `None` when the remote path is off or
    /// the delegate could not be loaded (logged once).
    remote: std::sync::OnceLock<Option<Arc<DdsContext>>>,
    prefix_announced: AtomicBool,
}

impl Context {
    /// Initializes the middleware for `domain_id`.
    pub fn new(domain_id: usize, enclave: String, discovery: DiscoveryOptions) -> Result<Self> {
        let shm = ShmContext::new(domain_id)?;
        let graph = Graph::new(&shm)?;
        Ok(Self {
            domain_id,
            enclave,
            graph,
            shm,
            intra: IntraRegistry::default(),
            dispatcher: std::sync::OnceLock::new(),
            shutdown: AtomicBool::new(false),
            discovery,
            remote: std::sync::OnceLock::new(),
            prefix_announced: AtomicBool::new(false),
        })
    }

    /// The shared-memory transport of this context.
    pub fn shm(&self) -> &ShmContext {
        &self.shm
    }

    /// The publishers and subscriptions of this context, paired for intra-process delivery.
    pub fn intra(&self) -> &IntraRegistry {
        &self.intra
    }

    /// The domain's graph as this context sees it, and its own part in it.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The listener-callback thread of this context (created on first use).
    pub fn dispatcher(&self) -> Result<&Dispatcher> {
        if let Some(d) = self.dispatcher.get() {
            return Ok(d);
        }
        let d = Dispatcher::new()?;
        Ok(self.dispatcher.get_or_init(|| d))
    }

    /// The delegate's context for the remote path, created on first call (lazily: no DDS
    /// participant until an endpoint needs one). `None` when the remote path is off
    /// (`RMW_SHM_RS_REMOTE=0`) or the delegate failed to load or initialize (logged once).
    pub fn remote(&self) -> Option<Arc<DdsContext>> {
        self.remote
            .get_or_init(|| {
                if !crate::delegate::loader::remote_enabled() {
                    return None;
                }
                // The RTPS port formula (7400 + 250 * domain + offsets) leaves the UDP port
                // range above domain 232: Fast DDS refuses those (and exits). Shared memory has
                // no such limit, so such a domain simply has no remote path.
                if self.domain_id > MAX_DDS_DOMAIN_ID {
                    tracing::warn!(target: "rmw_shm_rs::delegate", domain_id = self.domain_id, "remote path unavailable: DDS domain ids end at {MAX_DDS_DOMAIN_ID}");
                    return None;
                }
                match DdsContext::new(self.domain_id, &self.enclave, &self.discovery) {
                    Ok(c) => {
                        c.watch_graph(Box::new(self.graph.external_change_notifier()));
                        Some(c)
                    }
                    Err(e) => {
                        tracing::warn!(target: "rmw_shm_rs::delegate", "remote path unavailable: {e}");
                        None
                    }
                }
            })
            .clone()
    }

    /// Announces this process's delegate participant prefix through the shared-memory graph
    /// once the delegate knows it (after its first endpoint), so same-host peers recognize
    /// this process's DDS endpoints.
    pub fn announce_dds_prefix(&self) {
        let Some(ctx) = self.remote.get().cloned().flatten() else {
            return;
        };
        if let Some(p) = ctx.prefix() {
            if !self.prefix_announced.swap(true, Ordering::SeqCst) {
                self.graph.set_dds_prefix(p);
            }
        }
    }

    /// The nodes and endpoints of other hosts as the delegate sees them (without this host's
    /// rmw_shm_rs processes, which `local` has).
    pub fn remote_graph(&self, node: &DdsNode, local: &GraphView) -> Option<Participant> {
        let ctx = self.remote.get().cloned().flatten()?;
        let graph = &self.graph;
        ctx.remote_graph(
            node,
            local,
            &graph.dds_prefixes().1,
            &graph.departed_nodes(),
        )
        .map_err(
            |e| tracing::debug!(target: "rmw_shm_rs::delegate", "remote graph unavailable: {e}"),
        )
        .ok()
    }

    /// Marks the context shut down (`rmw_shutdown`): no new entities.
    pub fn shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        self.stop_remote_watcher();
    }

    /// Joins the delegate's graph watcher thread, so none of our threads outlives the context.
    fn stop_remote_watcher(&self) {
        if let Some(Some(remote)) = self.remote.get() {
            remote.stop_watching();
        }
    }

    /// Whether `rmw_shutdown` was called.
    pub fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// Fails when the context was shut down.
    pub fn check_alive(&self) -> Result<()> {
        if self.is_shutdown() {
            Err(Error::invalid("the context has been shut down"))
        } else {
            Ok(())
        }
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        self.stop_remote_watcher();
    }
}
