//! Service servers: take requests straight out of shared memory, answer each one to the client
//! that asked (transport/shm/request_response).

use std::ffi::CString;
use std::sync::Arc;

use super::qos::{self, QosProfile};
use super::{now_ns, Gid, Node};
use crate::error::{Error, Result};
use crate::graph::model::{Endpoint, EndpointKind};
use crate::graph::EndpointRegistration;
use crate::sys::{rmw_request_id_t, rmw_service_info_t};
use crate::transport::shm::{service_name_of, ListenerFd, ResponseHeader, ShmServer};
use crate::typesupport::{MessageMut, MessageRef, ServiceType};

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
    /// The server's GID (its graph entry).
    pub gid: Gid,
    _registration: EndpointRegistration,
    shm: ShmServer,
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
        let ctx = node.context.shm();
        let iox = service_name_of(
            ctx,
            name,
            &ty.name,
            ty.request.type_hash(),
            ty.response.type_hash(),
        );
        let shm = ShmServer::new(ctx, &iox)?;
        tracing::debug!(target: "rmw_shm_rs::path", service = name, iox, "service server uses shared memory");
        let qos = qos::resolve(requested);
        let gid = Gid::new();
        let registration = node.registration.add_endpoint(Endpoint::of_service(
            EndpointKind::Service,
            name,
            &ty.name,
            gid.0,
            &qos,
        ));
        Ok(Self {
            node,
            name: CString::new(name).map_err(|_| Error::invalid("service name contains NUL"))?,
            ty,
            qos,
            gid,
            _registration: registration,
            shm,
        })
    }

    /// Takes the oldest waiting request into `msg` (of the request type); its info carries the
    /// client's GID and sequence number, which [`send_response`](Self::send_response) needs.
    pub fn take_request(&self, msg: &mut MessageMut<'_>) -> Result<Option<rmw_service_info_t>> {
        let taken = self.shm.take(|bytes, _| msg.deserialize(bytes))?;
        Ok(taken.map(|((), h)| rmw_service_info_t {
            source_timestamp: h.source_timestamp,
            received_timestamp: now_ns(),
            request_id: rmw_request_id_t {
                writer_guid: h.client_gid,
                sequence_number: h.sequence,
            },
        }))
    }

    /// Sends `msg` (of the response type) to the client that sent request `id`, and only to it.
    pub fn send_response(&self, id: &rmw_request_id_t, msg: &MessageRef<'_>) -> Result<()> {
        let len = msg.serialized_size()?;
        let header = ResponseHeader {
            sequence: id.sequence_number,
            source_timestamp: now_ns(),
        };
        self.shm.respond(
            self.node.context.shm(),
            id.writer_guid,
            id.sequence_number,
            len,
            header,
            |buf| msg.serialize(buf),
        )
    }

    /// Number of requests taken and not answered yet.
    pub fn unanswered(&self) -> usize {
        self.shm.unanswered()
    }

    /// Whether a request is waiting.
    pub fn has_requests(&self) -> bool {
        self.shm.has_requests()
    }

    /// Consumes pending wake-ups.
    pub fn drain_wakeups(&self) -> u64 {
        self.shm.drain_wakeups()
    }

    /// Readable while a wake-up is pending; `None` once released at process exit.
    pub fn wakeup_fd(&self) -> Option<ListenerFd<'_>> {
        self.shm.wakeup_fd()
    }
}
