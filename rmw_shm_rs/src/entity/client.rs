//! Service clients: serialize each request straight into shared memory, take the responses
//! addressed to this client (transport/shm/request_response).

use std::collections::VecDeque;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use super::qos::QosProfile;
use super::service_endpoint::ServiceEndpoint;
use super::{now_ns, Node};
use crate::delegate::{DdsClient, ServiceTypeSupportHandle};
use crate::error::Result;
use crate::graph::model::EndpointKind;
use crate::sys::{rmw_request_id_t, rmw_service_info_t};
use crate::transport::shm::{Doorbell, RequestHeader, Ring, ShmClient, Wake};
use crate::typesupport::{MessageMut, MessageRef, ServiceType};

/// What `rmw_client_t::data` points to.
pub struct Client {
    endpoint: ServiceEndpoint,
    sequence: AtomicI64,
    shm: ShmClient,
    /// The delegate client reaching servers on other hosts.
    remote: Option<DdsClient>,
    /// Rung for each response (shared memory, through the context's doorbell, or the delegate).
    wake: Arc<Wake>,
    /// (delegate sequence number, ours) of requests sent through the delegate, newest last;
    /// bounded (requests a local server answered never get a delegate response).
    remote_sequences: Mutex<VecDeque<(i64, i64)>>,
}

/// How many delegate request numbers a client remembers.
const REMOTE_SEQUENCES: usize = 1024;

impl Client {
    /// Creates a client.
    pub fn new(
        node: Arc<Node>,
        name: &str,
        ty: Arc<ServiceType>,
        ts: ServiceTypeSupportHandle,
        requested: &QosProfile,
    ) -> Result<Self> {
        let (endpoint, iox) =
            ServiceEndpoint::new(node, name, ty, requested, EndpointKind::Client)?;
        let wake = Arc::new(Wake::new()?);
        let target: Arc<dyn Ring> = wake.clone();
        let shm = ShmClient::new(endpoint.node.context.shm(), &iox, Arc::downgrade(&target))?;
        tracing::debug!(target: "rmw_shm_rs::path", service = name, iox, "service client uses shared memory");
        let remote = endpoint.node.remote().and_then(|n| {
            let wake = wake.clone();
            DdsClient::new(&n, ts, &endpoint.name, &endpoint.qos, Box::new(move || wake.ring(1)))
                .map_err(|e| tracing::warn!(target: "rmw_shm_rs::delegate", service = name, "no remote client: {e}"))
                .ok()
        });
        endpoint.node.context.announce_dds_prefix();
        Ok(Self {
            endpoint,
            sequence: AtomicI64::new(0),
            shm,
            remote,
            wake,
            remote_sequences: Mutex::new(VecDeque::new()),
        })
    }

    fn sequences(&self) -> std::sync::MutexGuard<'_, VecDeque<(i64, i64)>> {
        self.remote_sequences
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Sends the request through the delegate too when a DDS server is there.
    fn send_remote(&self, msg: &MessageRef<'_>, ours: i64) -> Result<()> {
        let local = self.node.context.graph().dds_prefixes();
        let Some(r) = self
            .remote
            .as_ref()
            .filter(|r| r.remote_server_available(&local))
        else {
            return Ok(());
        };
        let theirs = r.send_request(msg)?;
        let mut seqs = self.sequences();
        if seqs.len() >= REMOTE_SEQUENCES {
            seqs.pop_front();
        }
        seqs.push_back((theirs, ours));
        Ok(())
    }

    /// The next response from another host, its request id mapped back to ours.
    fn take_remote(&self, msg: &mut MessageMut<'_>) -> Result<Option<rmw_service_info_t>> {
        let Some(r) = &self.remote else {
            return Ok(None);
        };
        while let Some(mut info) = r.take_response(msg)? {
            let theirs = info.request_id.sequence_number;
            let ours = {
                let mut seqs = self.sequences();
                let i = seqs.iter().position(|(t, _)| *t == theirs);
                i.and_then(|i| seqs.remove(i)).map(|(_, o)| o)
            };
            if let Some(ours) = ours {
                info.request_id = rmw_request_id_t {
                    writer_guid: self.gid.0,
                    sequence_number: ours,
                };
                info.received_timestamp = now_ns();
                return Ok(Some(info));
            }
        }
        Ok(None)
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
        self.send_remote(msg, sequence)?;
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
        if taken.is_none() {
            return self.take_remote(msg);
        }
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
        // This host's servers count through shared memory only: a killed one's DDS endpoints
        // outlive it until its participant lease ends.
        self.shm.server_available()
            || self.remote.as_ref().is_some_and(|r| {
                r.remote_server_available(&self.node.context.graph().dds_prefixes())
            })
    }

    /// Number of requests waiting for a response.
    pub fn pending(&self) -> usize {
        self.shm.pending()
    }

    /// Whether a response is waiting.
    pub fn has_response(&self) -> bool {
        self.shm.has_response() || self.remote.as_ref().is_some_and(|r| r.may_have_data())
    }

    /// Consumes pending wake-ups (of both paths).
    pub fn drain_wakeups(&self) -> u64 {
        self.wake.drain()
    }

    /// Readable while a response may be waiting (wake-ups of both paths).
    pub fn wakeup_fd(&self) -> BorrowedFd<'_> {
        self.wake.fd()
    }

    /// The doorbell of this client's context, drained (by wait sets) before
    /// [`wakeup_fd`](Self::wakeup_fd) is read.
    pub fn doorbell(&self) -> &Doorbell {
        self.shm.doorbell()
    }
}

impl std::ops::Deref for Client {
    type Target = ServiceEndpoint;
    fn deref(&self) -> &ServiceEndpoint {
        &self.endpoint
    }
}
