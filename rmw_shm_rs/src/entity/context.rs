//! The rmw context: one per `rmw_init`, owning the shared-memory node.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::path::IntraRegistry;
use crate::transport::shm::ShmContext;
use crate::wait::dispatch::Dispatcher;

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
}

impl Context {
    /// Initializes the middleware for `domain_id`.
    pub fn new(domain_id: usize, enclave: String) -> Result<Self> {
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

    /// Marks the context shut down (`rmw_shutdown`): no new entities.
    pub fn shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
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
