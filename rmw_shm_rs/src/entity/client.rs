//! Service clients. Creation, names, GID and QoS work; request/response transport arrives with
//! the services work (docs/capabilities.md).

use std::ffi::CString;
use std::sync::Arc;

use super::qos::{self, QosProfile};
use super::{Gid, Node};
use crate::error::{Error, Result};
use crate::typesupport::ServiceType;

/// What `rmw_client_t::data` points to.
pub struct Client {
    /// The node that created it.
    pub node: Arc<Node>,
    /// Fully qualified service name.
    pub name: CString,
    /// Request and response types.
    pub ty: Arc<ServiceType>,
    /// The QoS profile in force.
    pub qos: QosProfile,
    /// The client's GID (`rmw_get_gid_for_client`).
    pub gid: Gid,
}

impl Client {
    /// Creates a client.
    pub fn new(
        node: Arc<Node>,
        name: &str,
        ty: Arc<ServiceType>,
        requested: &QosProfile,
    ) -> Result<Self> {
        node.context.check_alive()?;
        Ok(Self {
            node,
            name: CString::new(name).map_err(|_| Error::invalid("service name contains NUL"))?,
            ty,
            qos: qos::resolve(requested),
            gid: Gid::new(),
        })
    }
}
