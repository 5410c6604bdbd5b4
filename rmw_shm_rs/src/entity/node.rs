//! Nodes: a name and namespace in a context, with the graph guard condition.

use std::ffi::CString;
use std::sync::Arc;

use super::{Context, GuardCondition};
use crate::error::{Error, Result};
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
        })
    }
}
