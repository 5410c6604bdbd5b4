//! What a service server and a service client share: node, name, types, QoS, GID and their
//! entry in the graph.

use std::ffi::CString;
use std::sync::Arc;

use super::qos::{self, QosProfile};
use super::{Gid, Node};
use crate::error::{Error, Result};
use crate::graph::model::{Endpoint, EndpointKind};
use crate::graph::EndpointRegistration;
use crate::transport::shm::service_name_of;
use crate::typesupport::ServiceType;

/// The identity of a server or client.
pub struct ServiceEndpoint {
    /// The node that created it.
    pub node: Arc<Node>,
    /// Fully qualified service name.
    pub name: CString,
    /// Request and response types.
    pub ty: Arc<ServiceType>,
    /// The QoS profile in force (SYSTEM_DEFAULT and BEST_AVAILABLE resolved).
    pub qos: QosProfile,
    /// Its GID: a client's requests carry it as their writer GUID.
    pub gid: Gid,
    _registration: EndpointRegistration,
}

impl ServiceEndpoint {
    /// A server (`kind` [`EndpointKind::Service`]) or client of `ty` named `name`, entered in
    /// the graph; also returns the name of its iceoryx2 request-response service.
    pub fn new(
        node: Arc<Node>,
        name: &str,
        ty: Arc<ServiceType>,
        requested: &QosProfile,
        kind: EndpointKind,
    ) -> Result<(Self, String)> {
        node.context.check_alive()?;
        let iox = service_name_of(
            node.context.shm(),
            name,
            &ty.name,
            ty.request.type_hash(),
            ty.response.type_hash(),
        );
        let qos = qos::resolve(requested);
        let gid = Gid::new();
        let registration = node
            .registration
            .add_endpoint(Endpoint::of_service(kind, name, &ty.name, gid.0, &qos));
        let name = CString::new(name).map_err(|_| Error::invalid("service name contains NUL"))?;
        Ok((
            Self {
                node,
                name,
                ty,
                qos,
                gid,
                _registration: registration,
            },
            iox,
        ))
    }
}
