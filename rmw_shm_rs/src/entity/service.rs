//! Service servers. Creation, names and QoS work so that every rclpy node (7 services each)
//! starts; request/response transport arrives with the services work (docs/capabilities.md).

use std::ffi::CString;
use std::sync::Arc;

use super::qos::{self, QosProfile};
use super::Node;
use crate::error::{Error, Result};
use crate::typesupport::ServiceType;

/// What `rmw_service_t::data` points to.
pub struct Service {
    /// The node that created it.
    pub node: Arc<Node>,
    /// Fully qualified service name.
    pub name: CString,
    /// Request and response types.
    pub ty: Arc<ServiceType>,
    /// The QoS profile in force (both request subscription and response publisher).
    pub qos: QosProfile,
}

impl Service {
    /// Creates a service server.
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
        })
    }
}
