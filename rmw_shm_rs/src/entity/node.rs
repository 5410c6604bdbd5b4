//! Nodes: a name and namespace in a context, with the graph guard condition.

use std::ffi::CString;
use std::sync::Arc;

use super::{Context, GuardCondition};
use crate::delegate::DdsNode;
use crate::error::{Error, Result};
use crate::graph::query::GraphView;
use crate::graph::NodeRegistration;

/// What `rmw_node_t::data` points to.
pub struct Node {
    /// The context the node lives in.
    pub context: Arc<Context>,
    /// Node name (validated by the C layer).
    pub name: CString,
    /// Node namespace, absolute.
    pub namespace: CString,
    /// Triggered whenever the ROS graph changes (`rmw_node_get_graph_guard_condition`).
    pub graph_guard: Arc<GuardCondition>,
    /// The node's entry in the graph (removed when the node is dropped).
    pub registration: NodeRegistration,
    /// Its mirror on the delegate (same name and namespace), created with its first endpoint.
    remote: std::sync::OnceLock<Option<Arc<DdsNode>>>,
}

impl Node {
    /// Creates a node in `context`.
    pub fn new(context: Arc<Context>, name: &str, namespace: &str) -> Result<Self> {
        context.check_alive()?;
        let c = |s: &str| CString::new(s).map_err(|_| Error::invalid("name contains NUL"));
        let graph_guard = Arc::new(GuardCondition::new()?);
        let registration =
            context
                .graph()
                .add_node(name, namespace, &context.enclave, &graph_guard);
        Ok(Self {
            name: c(name)?,
            namespace: c(namespace)?,
            graph_guard,
            registration,
            context,
            remote: std::sync::OnceLock::new(),
        })
    }

    /// The graph as this node sees it: the shared-memory view plus, once the node has a
    /// delegate mirror, the nodes and endpoints of other hosts (cached briefly per context).
    pub fn graph_view(&self) -> GraphView {
        let mut view = self.context.graph().view();
        if let Some(remote) = self.remote.get().cloned().flatten() {
            if let Some(p) = self.context.remote_graph(&remote, &view) {
                view.participants.push(p);
            }
        }
        view
    }

    /// The node's delegate mirror, created on first call; `None` without a remote path.
    pub fn remote(&self) -> Option<Arc<DdsNode>> {
        self.remote
            .get_or_init(|| {
                let ctx = self.context.remote()?;
                match ctx.create_node(&self.name, &self.namespace) {
                    Ok(n) => Some(n),
                    Err(e) => {
                        tracing::warn!(target: "rmw_shm_rs::delegate", node = ?self.name, "no delegate node: {e}");
                        None
                    }
                }
            })
            .clone()
    }
}
