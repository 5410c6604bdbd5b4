//! The delegate's rmw context and nodes: one delegate context per rmw_shm_rs context, created on
//! first need, with the same domain, enclave and discovery options (so ROS_DOMAIN_ID,
//! ROS_AUTOMATIC_DISCOVERY_RANGE and ROS_STATIC_PEERS behave as with rmw_fastrtps_cpp), and one
//! delegate node per node, with the same name and namespace, so remote graphs show our names.

use std::collections::HashSet;
use std::ffi::{c_char, CString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use super::api::{self, check};
use super::Delegate;
use crate::error::{Error, Result};
use crate::graph::model::Participant;
use crate::graph::query::GraphView;
use crate::sys::*;

/// What rcl put in `rmw_init_options_t::discovery_options` (from ROS_AUTOMATIC_DISCOVERY_RANGE and
/// ROS_STATIC_PEERS), kept to configure the delegate the same way.
#[derive(Debug, Clone, Default)]
pub struct DiscoveryOptions {
    /// `rmw_automatic_discovery_range_t`.
    pub range: u32,
    /// Static peers, as given.
    pub static_peers: Vec<CString>,
}

/// The delegate's init options and context. Dropping it shuts the context down.
pub struct DdsContext {
    pub(super) delegate: &'static Delegate,
    options: Box<rmw_init_options_t>,
    pub(super) context: Box<rmw_context_t>,
    /// The delegate nodes of this context (the graph watcher waits on one of them).
    pub(super) nodes: Mutex<Vec<Weak<DdsNode>>>,
    /// The last remote graph snapshot and when it was taken.
    pub(super) graph_cache: Mutex<Option<(Instant, Participant)>>,
    watching: AtomicBool,
    /// The DDS participant prefix (first 12 bytes of the GIDs) of this delegate, learned from
    /// its first publisher, client or subscription.
    prefix: std::sync::OnceLock<[u8; 12]>,
}

/// How long a remote graph snapshot answers queries before it is rebuilt (the watcher also
/// drops it on every DDS graph change).
const REMOTE_GRAPH_TTL: Duration = Duration::from_millis(500);

// SAFETY: the delegate's context is used only through its rmw functions, which are thread-safe
// for a context (rmw.h: creating entities from several threads), and freed once, in Drop.
unsafe impl Send for DdsContext {}
// SAFETY: as above; shared access only passes the context pointer to thread-safe functions.
unsafe impl Sync for DdsContext {}

fn strdup_with(s: &str, alloc: &rcutils_allocator_t) -> Result<*mut c_char> {
    let c = CString::new(s).map_err(|_| Error::invalid("NUL in the enclave"))?;
    let bytes = c.as_bytes_with_nul();
    let allocate = alloc
        .allocate
        .ok_or_else(|| Error::BadAlloc("allocator without allocate".into()))?;
    // SAFETY: the rcutils allocator contract; `bytes.len()` bytes are written below.
    let p = unsafe { allocate(bytes.len(), alloc.state) }.cast::<c_char>();
    if p.is_null() {
        return Err(Error::BadAlloc("cannot allocate the enclave".into()));
    }
    // SAFETY: `p` has room for `bytes.len()` bytes.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr().cast(), p, bytes.len()) };
    Ok(p)
}

impl DdsContext {
    /// Creates the delegate context for `domain_id`, `enclave` and `discovery`. Before the
    /// first one, Fast DDS's own shared-memory transport is switched off
    /// (`FASTDDS_BUILTIN_TRANSPORTS=UDPv4` unless already set): same-host traffic goes through
    /// iceoryx2 only. rmw_fastrtps adds that transport back under LOCALHOST discovery; the files
    /// it leaves when a process is killed are swept ([`super::shm_files`]).
    pub fn new(domain_id: usize, enclave: &str, discovery: &DiscoveryOptions) -> Result<Arc<Self>> {
        let delegate = Delegate::get()?;
        // Fast DDS files of killed processes can stall a new participant (shm_files.rs).
        super::shm_files::on_delegate_start();
        // No XTypes type propagation (profile.rs: a Fast DDS 3.2 TypeLookup crash).
        super::profile::before_first_participant();
        if std::env::var_os("FASTDDS_BUILTIN_TRANSPORTS").is_none() {
            // SAFETY: setenv before the delegate's first participant, which reads it; rcl does
            // not read this variable. Other threads reading the environment concurrently is
            // the usual setenv caveat, accepted (it happens once, at first remote endpoint).
            unsafe { libc::setenv(c"FASTDDS_BUILTIN_TRANSPORTS".as_ptr(), c"UDPv4".as_ptr(), 0) };
        }
        // SAFETY: zero-initialized structs as the rmw API wants them.
        let mut options = Box::new(unsafe { rmw_get_zero_initialized_init_options() });
        // SAFETY: as above.
        let context = Box::new(unsafe { rmw_get_zero_initialized_context() });
        // SAFETY: returns the default allocator by value.
        let alloc = unsafe { rcutils_get_default_allocator() };
        check(
            // SAFETY: zero-initialized options and a valid allocator.
            unsafe { api::rmw_init_options_init(delegate)?(&mut *options, alloc) },
            "rmw_init_options_init",
        )?;
        let mut this = Self {
            delegate,
            options,
            context,
            nodes: Mutex::new(Vec::new()),
            graph_cache: Mutex::new(None),
            watching: AtomicBool::new(false),
            prefix: std::sync::OnceLock::new(),
        };
        this.configure(domain_id, enclave, discovery, &alloc)?;
        check(
            // SAFETY: initialized options and a zero-initialized context.
            unsafe { api::rmw_init(delegate)?(&*this.options, &mut *this.context) },
            "rmw_init",
        )?;
        tracing::info!(target: "rmw_shm_rs::delegate", domain_id, "delegate context initialized");
        Ok(Arc::new(this))
    }

    fn configure(
        &mut self,
        domain_id: usize,
        enclave: &str,
        discovery: &DiscoveryOptions,
        alloc: &rcutils_allocator_t,
    ) -> Result<()> {
        self.options.domain_id = domain_id;
        self.options.enclave = strdup_with(enclave, alloc)?;
        let d = &mut self.options.discovery_options;
        // SAFETY: the options' discovery options were initialized by rmw_init_options_init; fini
        // then init with the number of static peers, then fill them.
        unsafe {
            check(rmw_discovery_options_fini(d), "discovery options fini")?;
            let mut a = *alloc;
            check(
                rmw_discovery_options_init(d, discovery.static_peers.len(), &mut a),
                "discovery options init",
            )?;
            d.automatic_discovery_range = discovery.range;
            for (i, peer) in discovery.static_peers.iter().enumerate() {
                let slot = &mut (*d.static_peers.add(i)).peer_address;
                let bytes = peer.as_bytes_with_nul();
                let n = bytes.len().min(slot.len());
                std::ptr::copy_nonoverlapping(
                    bytes.as_ptr().cast::<c_char>(),
                    slot.as_mut_ptr(),
                    n,
                );
                slot[slot.len() - 1] = 0;
            }
        }
        Ok(())
    }

    /// This delegate's DDS participant prefix, once learned.
    pub fn prefix(&self) -> Option<[u8; 12]> {
        self.prefix.get().copied()
    }

    /// Records the participant prefix from the GID of one of this delegate's endpoints.
    pub(super) fn learn_prefix(&self, gid: &[u8; 16]) {
        let mut p = [0u8; 12];
        p.copy_from_slice(&gid[..12]);
        let _ = self.prefix.set(p);
    }

    /// Creates a delegate node named like ours.
    pub fn create_node(
        self: &Arc<Self>,
        name: &std::ffi::CStr,
        namespace: &std::ffi::CStr,
    ) -> Result<Arc<DdsNode>> {
        let create = api::rmw_create_node(self.delegate)?;
        let ctx: *const rmw_context_t = &*self.context;
        // SAFETY: an initialized delegate context (rmw functions take it mutably but do not
        // move it); valid C strings.
        let node = unsafe { create(ctx.cast_mut(), name.as_ptr(), namespace.as_ptr()) };
        if node.is_null() {
            check(crate::error::RET_ERROR, "rmw_create_node")?;
        }
        // rmw_fastrtps creates the participant with the context's first node.
        super::profile::after_first_participant();
        exit_guard();
        let node = Arc::new(DdsNode {
            context: self.clone(),
            node,
            name: name.to_owned(),
            namespace: namespace.to_owned(),
        });
        let mut nodes = self.nodes.lock().unwrap_or_else(|e| e.into_inner());
        nodes.retain(|n| n.strong_count() > 0);
        nodes.push(Arc::downgrade(&node));
        Ok(node)
    }

    /// The nodes and endpoints of other hosts (see [`super::graph::remote_participant`]),
    /// cached until the DDS graph changes or for at most 500 ms.
    pub fn remote_graph(
        &self,
        node: &DdsNode,
        local: &GraphView,
        known: &HashSet<[u8; 12]>,
        departed: &HashSet<(String, String)>,
    ) -> Result<Participant> {
        let mut cache = self.graph_cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, p)) = cache.as_ref() {
            if at.elapsed() < REMOTE_GRAPH_TTL {
                return Ok(p.clone());
            }
        }
        let p = super::graph::remote_participant(node, local, known, departed)?;
        tracing::debug!(target: "rmw_shm_rs::delegate", nodes = p.nodes.len(), endpoints = p.nodes.iter().map(|n| n.endpoints.len()).sum::<usize>(), "remote graph snapshot");
        *cache = Some((Instant::now(), p.clone()));
        Ok(p)
    }

    /// Starts (once) the thread that waits on the delegate's graph guard condition and calls
    /// `on_change` whenever the DDS graph changes (remote nodes or endpoints come or go).
    pub fn watch_graph(self: &Arc<Self>, on_change: Box<dyn Fn() + Send + Sync>) {
        if !self.watching.swap(true, Ordering::SeqCst) {
            super::watch::start(self, on_change);
        }
    }

    /// Stops and joins the graph watcher (at our context's shutdown and finalization), so that
    /// no thread of ours uses the delegate after it. Idempotent.
    pub fn stop_watching(&self) {
        super::watch::stop(self);
    }
}

/// Set at process exit by an `atexit` handler registered after the first delegate node exists,
/// so that it runs before Fast DDS's static destructors. A delegate node or context dropped after
/// that (by the graph watcher, which can hold the last reference while the process exits) is
/// leaked instead of destroyed through a half torn-down Fast DDS (Jazzy's Fast DDS 2.14 aborts
/// with a double free in `DomainParticipantFactory::get_instance`).
static EXITING: AtomicBool = AtomicBool::new(false);

extern "C" fn mark_exiting() {
    // Registered with atexit: a panic must not unwind into libc.
    let _ = std::panic::catch_unwind(stop_at_exit);
}

fn stop_at_exit() {
    EXITING.store(true, Ordering::SeqCst);
    // The graph workers first: they can destroy delegate endpoints (see stop_all_workers).
    crate::graph::stop_all_workers();
    super::watch::stop_all();
}

fn exit_guard() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: registers a handler that catches its own panics and only stops our threads.
    ONCE.call_once(|| unsafe {
        libc::atexit(mark_exiting);
    });
}

impl Drop for DdsContext {
    fn drop(&mut self) {
        super::watch::stop(self);
        if EXITING.load(Ordering::SeqCst) {
            return;
        }
        let d = self.delegate;
        // SAFETY: the context and options initialized in `new`, each finalized once.
        unsafe {
            if let Ok(f) = api::rmw_shutdown(d) {
                let _ = f(&mut *self.context);
            }
            if let Ok(f) = api::rmw_context_fini(d) {
                let _ = f(&mut *self.context);
            }
            if let Ok(f) = api::rmw_init_options_fini(d) {
                let _ = f(&mut *self.options);
            }
            rcutils_reset_error();
        }
    }
}

/// A delegate node. Keeps its context alive; destroyed on drop.
pub struct DdsNode {
    pub(super) context: Arc<DdsContext>,
    pub(super) node: *mut rmw_node_t,
    pub(super) name: CString,
    pub(super) namespace: CString,
}

// SAFETY: the node is used only through the delegate's rmw functions, which accept it from any
// thread, and destroyed once, in Drop.
unsafe impl Send for DdsNode {}
// SAFETY: as above.
unsafe impl Sync for DdsNode {}

impl DdsNode {
    /// The delegate.
    pub fn delegate(&self) -> &'static Delegate {
        self.context.delegate
    }

    /// The delegate context it belongs to.
    pub fn context(&self) -> &Arc<DdsContext> {
        &self.context
    }
}

impl Drop for DdsNode {
    fn drop(&mut self) {
        if EXITING.load(Ordering::SeqCst) {
            return;
        }
        // SAFETY: created by the delegate's rmw_create_node; endpoints hold an Arc of the node,
        // so none is left.
        unsafe {
            if let Ok(f) = api::rmw_destroy_node(self.context.delegate) {
                let _ = f(self.node);
            }
            rcutils_reset_error();
        }
    }
}
