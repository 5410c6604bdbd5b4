//! Service servers: take requests straight out of shared memory, answer each one to the client
//! that asked (transport/shm/request_response).

use std::collections::HashSet;
use std::os::fd::BorrowedFd;
use std::sync::{Arc, Mutex};

use super::qos::QosProfile;
use super::service_endpoint::ServiceEndpoint;
use super::{now_ns, Node};
use crate::delegate::{DdsService, ServiceTypeSupportHandle};
use crate::error::Result;
use crate::graph::model::EndpointKind;
use crate::sys::{rmw_request_id_t, rmw_service_info_t};
use crate::transport::shm::{Doorbell, ResponseHeader, Ring, ShmServer, Wake};
use crate::typesupport::{MessageMut, MessageRef, ServiceType};

/// What `rmw_service_t::data` points to.
pub struct Service {
    endpoint: ServiceEndpoint,
    shm: ShmServer,
    /// The delegate server answering clients on other hosts.
    remote: Option<DdsService>,
    /// Rung for each request (shared memory, through the context's doorbell, or the delegate).
    wake: Arc<Wake>,
    /// Request ids taken from the delegate and not answered yet: their responses go back
    /// through it.
    remote_requests: Mutex<HashSet<([u8; 16], i64)>>,
}

impl Service {
    /// Creates a service server.
    pub fn new(
        node: Arc<Node>,
        name: &str,
        ty: Arc<ServiceType>,
        ts: ServiceTypeSupportHandle,
        requested: &QosProfile,
    ) -> Result<Self> {
        let (endpoint, iox) =
            ServiceEndpoint::new(node, name, ty, requested, EndpointKind::Service)?;
        let wake = Arc::new(Wake::new()?);
        let target: Arc<dyn Ring> = wake.clone();
        let shm = ShmServer::new(endpoint.node.context.shm(), &iox, Arc::downgrade(&target))?;
        tracing::debug!(target: "rmw_shm_rs::path", service = name, iox, "service server uses shared memory");
        let remote = endpoint.node.remote().and_then(|n| {
            let wake = wake.clone();
            DdsService::new(&n, ts, &endpoint.name, &endpoint.qos, Box::new(move || wake.ring(1)))
                .map_err(|e| tracing::warn!(target: "rmw_shm_rs::delegate", service = name, "no remote service: {e}"))
                .ok()
        });
        endpoint.node.context.announce_dds_prefix();
        Ok(Self {
            endpoint,
            shm,
            remote,
            wake,
            remote_requests: Mutex::new(HashSet::new()),
        })
    }

    /// The next request from another host (requests of this host's rmw_shm_rs clients also
    /// reach the delegate; they arrived by shared memory and are dropped here).
    fn take_remote(&self, msg: &mut MessageMut<'_>) -> Result<Option<rmw_service_info_t>> {
        let Some(remote) = &self.remote else {
            return Ok(None);
        };
        let (_, local) = self.node.context.graph().dds_prefixes();
        while let Some(info) = remote.take_request(msg)? {
            let guid = info.request_id.writer_guid;
            if local.iter().any(|p| guid.starts_with(p)) {
                continue;
            }
            self.remote_requests
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert((guid, info.request_id.sequence_number));
            return Ok(Some(info));
        }
        Ok(None)
    }

    /// Takes the oldest waiting request into `msg` (of the request type); its info carries the
    /// client's GID and sequence number, which [`send_response`](Self::send_response) needs.
    pub fn take_request(&self, msg: &mut MessageMut<'_>) -> Result<Option<rmw_service_info_t>> {
        let taken = self.shm.take(|bytes, _| msg.deserialize(bytes))?;
        if taken.is_none() {
            return self.take_remote(msg);
        }
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
        let remote_id = self
            .remote_requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(id.writer_guid, id.sequence_number));
        if let (true, Some(r)) = (remote_id, &self.remote) {
            return r.send_response(id, msg);
        }
        let len = msg.serialized_size()?;
        let header = ResponseHeader {
            sequence: id.sequence_number,
            source_timestamp: now_ns(),
        };
        self.shm
            .respond(id.writer_guid, id.sequence_number, len, header, |buf| {
                msg.serialize(buf)
            })
    }

    /// Number of requests taken and not answered yet.
    pub fn unanswered(&self) -> usize {
        self.shm.unanswered()
    }

    /// Whether a request is waiting.
    pub fn has_requests(&self) -> bool {
        self.shm.has_requests() || self.remote.as_ref().is_some_and(|r| r.may_have_data())
    }

    /// Consumes pending wake-ups (of both paths).
    pub fn drain_wakeups(&self) -> u64 {
        self.wake.drain()
    }

    /// Readable while a request may be waiting (wake-ups of both paths).
    pub fn wakeup_fd(&self) -> BorrowedFd<'_> {
        self.wake.fd()
    }

    /// The doorbell of this service's context, drained (by wait sets) before
    /// [`wakeup_fd`](Self::wakeup_fd) is read.
    pub fn doorbell(&self) -> &Doorbell {
        self.shm.doorbell()
    }
}

impl std::ops::Deref for Service {
    type Target = ServiceEndpoint;
    fn deref(&self) -> &ServiceEndpoint {
        &self.endpoint
    }
}
