//! Service clients: serialize each request straight into shared memory, take the responses
//! addressed to this client (transport/shm/request_response).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use super::qos::QosProfile;
use super::service_endpoint::ServiceEndpoint;
use super::{now_ns, Node};
use crate::error::Result;
use crate::graph::model::EndpointKind;
use crate::sys::{rmw_request_id_t, rmw_service_info_t};
use crate::transport::shm::{ListenerFd, RequestHeader, ShmClient};
use crate::typesupport::{MessageMut, MessageRef, ServiceType};

/// What `rmw_client_t::data` points to.
pub struct Client {
    endpoint: ServiceEndpoint,
    sequence: AtomicI64,
    shm: ShmClient,
}

impl Client {
    /// Creates a client.
    pub fn new(
        node: Arc<Node>,
        name: &str,
        ty: Arc<ServiceType>,
        requested: &QosProfile,
    ) -> Result<Self> {
        let (endpoint, iox) =
            ServiceEndpoint::new(node, name, ty, requested, EndpointKind::Client)?;
        let shm = ShmClient::new(endpoint.node.context.shm(), &iox)?;
        tracing::debug!(target: "rmw_shm_rs::path", service = name, iox, "service client uses shared memory");
        Ok(Self {
            endpoint,
            sequence: AtomicI64::new(0),
            shm,
        })
    }

    /// Sends `msg` (of the request type) to the servers of the service; returns its sequence
    /// number (1, 2, ... per client).
    pub fn send_request(&self, msg: &MessageRef<'_>) -> Result<i64> {
        let len = msg.serialized_size()?;
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
        let header = RequestHeader {
            client_gid: self.gid.0,
            sequence,
            source_timestamp: now_ns(),
        };
        let servers = self.shm.send(len, header, |buf| msg.serialize(buf))?;
        if servers == 0 {
            tracing::debug!(target: "rmw_shm_rs::service", sequence, "request sent while no server exists: dropped");
        }
        Ok(sequence)
    }

    /// Takes a response into `msg` (of the response type); its info carries this client's GID
    /// and the sequence number of the request it answers.
    pub fn take_response(&self, msg: &mut MessageMut<'_>) -> Result<Option<rmw_service_info_t>> {
        let taken = self
            .shm
            .take(|bytes, h| msg.deserialize(bytes).map(|()| *h))?;
        Ok(taken.map(|h| rmw_service_info_t {
            source_timestamp: h.source_timestamp,
            received_timestamp: now_ns(),
            request_id: rmw_request_id_t {
                writer_guid: self.gid.0,
                sequence_number: h.sequence,
            },
        }))
    }

    /// Whether a server of the same service name and type exists; when true, a request sent
    /// now reaches it.
    pub fn server_is_available(&self) -> bool {
        self.shm.server_available()
    }

    /// Number of requests waiting for a response.
    pub fn pending(&self) -> usize {
        self.shm.pending()
    }

    /// Whether a response is waiting.
    pub fn has_response(&self) -> bool {
        self.shm.has_response()
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

impl std::ops::Deref for Client {
    type Target = ServiceEndpoint;
    fn deref(&self) -> &ServiceEndpoint {
        &self.endpoint
    }
}
