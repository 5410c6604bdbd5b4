//! Service clients: serialize each request straight into shared memory, take the responses
//! addressed to this client (transport/shm/request_response).

use std::ffi::CString;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use super::qos::{self, QosProfile};
use super::{now_ns, Gid, Node};
use crate::error::{Error, Result};
use crate::graph::model::{Endpoint, EndpointKind};
use crate::graph::EndpointRegistration;
use crate::sys::{rmw_request_id_t, rmw_service_info_t};
use crate::transport::shm::{service_name_of, ListenerFd, RequestHeader, ShmClient};
use crate::typesupport::{MessageMut, MessageRef, ServiceType};

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
    /// The client's GID (`rmw_get_gid_for_client`); requests carry it as their writer GUID.
    pub gid: Gid,
    _registration: EndpointRegistration,
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
        node.context.check_alive()?;
        let ctx = node.context.shm();
        let iox = service_name_of(
            ctx,
            name,
            &ty.name,
            ty.request.type_hash(),
            ty.response.type_hash(),
        );
        let shm = ShmClient::new(ctx, &iox)?;
        tracing::debug!(target: "rmw_shm_rs::path", service = name, iox, "service client uses shared memory");
        let qos = qos::resolve(requested);
        let gid = Gid::new();
        let registration = node.registration.add_endpoint(Endpoint::of_service(
            EndpointKind::Client,
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
