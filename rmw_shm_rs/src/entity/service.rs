//! Service servers: take requests straight out of shared memory, answer each one to the client
//! that asked (transport/shm/request_response).

use std::sync::Arc;

use super::qos::QosProfile;
use super::service_endpoint::ServiceEndpoint;
use super::{now_ns, Node};
use crate::error::Result;
use crate::graph::model::EndpointKind;
use crate::sys::{rmw_request_id_t, rmw_service_info_t};
use crate::transport::shm::{ListenerFd, ResponseHeader, ShmServer};
use crate::typesupport::{MessageMut, MessageRef, ServiceType};

/// What `rmw_service_t::data` points to.
pub struct Service {
    endpoint: ServiceEndpoint,
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
        let (endpoint, iox) =
            ServiceEndpoint::new(node, name, ty, requested, EndpointKind::Service)?;
        let shm = ShmServer::new(endpoint.node.context.shm(), &iox)?;
        tracing::debug!(target: "rmw_shm_rs::path", service = name, iox, "service server uses shared memory");
        Ok(Self { endpoint, shm })
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

impl std::ops::Deref for Service {
    type Target = ServiceEndpoint;
    fn deref(&self) -> &ServiceEndpoint {
        &self.endpoint
    }
}
