//! Nodes: a name and namespace in a context, with the graph guard condition.

use std::ffi::CString;
use std::sync::Arc;

use super::{Context, GuardCondition};
use crate::error::{Error, Result};

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
}

impl Node {
    /// Creates a node in `context`.
    pub fn new(context: Arc<Context>, name: &str, namespace: &str) -> Result<Self> {
        context.check_alive()?;
        let c = |s: &str| CString::new(s).map_err(|_| Error::invalid("name contains NUL"));
        Ok(Self {
            context,
            name: c(name)?,
            namespace: c(namespace)?,
            graph_guard: Arc::new(GuardCondition::new()?),
        })
    }
}
