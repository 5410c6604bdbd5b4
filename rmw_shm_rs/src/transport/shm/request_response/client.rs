//! The client side of a ROS service: an iceoryx2 client port (named so that servers ring it
//! through its context's doorbell) and its requests awaiting a response.

use crate::transport::shm::backing::Backing;
use std::collections::BTreeMap;
use std::mem::MaybeUninit;
use std::sync::{Arc, Weak};

use iceoryx2::pending_response::PendingResponse;
use iceoryx2::port::client::{Client, RequestSendError};
use iceoryx2::port::update_connections::UpdateConnections;
use iceoryx2::prelude::*;
use parking_lot::Mutex;

use super::{RequestHeader, RequestResponseFactory, ResponseHeader, INITIAL_SLICE_LEN};
use crate::error::{Error, Result};
use crate::transport::shm::config::{open_request_response, ServiceLimits};
use crate::transport::shm::doorbell::{Doorbell, Registration, Ring};
use crate::transport::shm::lifecycle::{Kind, Slot};
use crate::transport::shm::{ShmContext, Svc};

type Pending = PendingResponse<Svc, [u8], RequestHeader, [u8], ResponseHeader>;

// Fields drop in declaration order: pending requests before the port they came from.
struct Ports {
    pending: Mutex<BTreeMap<i64, Pending>>,
    client: Client<Svc, [u8], RequestHeader, [u8], ResponseHeader>,
    service: RequestResponseFactory,
}

/// A ROS service client's shared-memory ports.
pub struct ShmClient {
    ports: Arc<Slot<Ports>>,
    name: String,
    /// Which loaned payloads have memory behind them.
    backing: Backing,
    registration: Registration,
}

/// Drops pending requests that no server will answer any more (each server that got it
/// dropped it, or is gone) and that hold no response. The connection state is read before the
/// queue: a server sends before it closes, so a closed request with an answer is never lost.
fn prune(pending: &mut BTreeMap<i64, Pending>) {
    pending.retain(|_, p| p.is_connected() || p.has_response());
}

impl ShmClient {
    /// Creates the client port of the iceoryx2 service `name` (see
    /// [`service_name_of`](super::service_name_of)). Servers that answer it ring `wake`.
    pub fn new(ctx: &ShmContext, name: &str, wake: Weak<dyn Ring>) -> Result<Self> {
        // Registered first: once the client port is visible to servers, their rings must
        // reach it.
        let registration = ctx.doorbell().register(wake);
        let node = ctx.node()?;
        let service = open_request_response(&node, name)?;
        let client = service
            .client_builder()
            .name(&registration.port_name()?)
            .initial_max_slice_len(INITIAL_SLICE_LEN)
            .allocation_strategy(AllocationStrategy::PowerOfTwo)
            .backpressure_strategy(BackpressureStrategy::DiscardData)
            .create()
            .map_err(|e| Error::transport(&format!("cannot create a client on '{name}'"), e))?;
        let ports = Ports {
            pending: Mutex::new(BTreeMap::new()),
            client,
            service,
        };
        Ok(Self {
            ports: Slot::new(ports, Kind::Ports),
            name: name.to_owned(),
            backing: Backing::default(),
            registration,
        })
    }

    /// Loans a request of exactly `len` bytes, lets `fill` write all of them, sends it to every
    /// server of the service and wakes them. Returns the number of servers it reached (0: no
    /// server, the request is dropped as a DDS writer without readers would).
    ///
    /// Fails, naming `RMW_SHM_RS_MAX_PENDING_REQUESTS`, when
    /// [`ServiceLimits::max_pending`] requests already wait for a response.
    pub fn send(
        &self,
        len: usize,
        header: RequestHeader,
        fill: impl FnOnce(&mut [MaybeUninit<u8>]) -> Result<usize>,
    ) -> Result<usize> {
        let ports = self.ports.get()?;
        let mut pending = ports.pending.lock();
        let max = ServiceLimits::get().max_pending;
        if pending.len() >= max {
            prune(&mut pending);
            if pending.len() >= max {
                return Err(self.too_many_pending(max));
            }
        }
        let mut request = ports
            .client
            .loan_slice_uninit(len)
            .map_err(|e| Error::transport("cannot loan a request", e))?;
        self.backing.ensure(request.payload_mut())?;
        let written = fill(request.payload_mut())?;
        if written != len {
            return Err(Error::Other(format!(
                "serializer wrote {written} bytes into a request of {len}"
            )));
        }
        *request.user_header_mut() = header;
        // SAFETY: `fill` initialized all `len` bytes of the payload (checked above).
        let request = unsafe { request.assume_init() };
        let response = match request.send() {
            Ok(r) => r,
            Err(RequestSendError::ExceedsMaxActiveRequests) => {
                return Err(self.too_many_pending(max))
            }
            Err(e) => return Err(Error::transport("cannot send a request", e)),
        };
        let servers = response.number_of_server_connections();
        if servers > 0 {
            pending.insert(header.sequence, response);
        }
        drop(pending);
        // Every server the request reached is listed (until it is destroyed).
        let doorbell = self.doorbell();
        ports.service.dynamic_config().list_servers(|s| {
            doorbell.ring(&s.node_id, &s.server_name);
            CallbackProgression::Continue
        });
        Ok(servers)
    }

    fn too_many_pending(&self, max: usize) -> Error {
        Error::Other(format!(
            "client of '{}' has {max} requests waiting for a response, the most it may have \
             (RMW_SHM_RS_MAX_PENDING_REQUESTS): the server does not answer, or this client does \
             not take its responses",
            self.name
        ))
    }

    /// Takes the response to the oldest answered request, if any, and hands its bytes and
    /// header to `read`. The request is done afterwards: further responses to it (from other
    /// servers of the same service) are dropped.
    pub fn take<R>(
        &self,
        read: impl FnOnce(&[u8], &ResponseHeader) -> Result<R>,
    ) -> Result<Option<R>> {
        let ports = self.ports.get()?;
        let mut pending = ports.pending.lock();
        let mut found = None;
        for (seq, p) in pending.iter() {
            match p.receive() {
                Ok(Some(response)) => {
                    found = Some((*seq, response));
                    break;
                }
                Ok(None) => {}
                Err(e) => return Err(Error::transport("cannot receive a response", e)),
            }
        }
        let Some((seq, response)) = found else {
            prune(&mut pending);
            return Ok(None);
        };
        let value = read(response.payload(), response.user_header());
        drop(response);
        pending.remove(&seq);
        value.map(Some)
    }

    /// Whether a response is waiting.
    pub fn has_response(&self) -> bool {
        self.ports
            .get()
            .is_ok_and(|p| p.pending.lock().values().any(|r| r.has_response()))
    }

    /// Number of requests waiting for a response.
    pub fn pending(&self) -> usize {
        self.ports.get().map_or(0, |p| p.pending.lock().len())
    }

    /// Whether a server of the service exists. When it says yes, this client is connected to
    /// it: a request sent now is queued for it. A killed server stops counting when the
    /// dead-node cleanup of the graph worker (every 500 ms, in every process) has removed its
    /// ports; running that cleanup here instead would block the caller for as long as it takes
    /// (it lists /dev/shm per port of the dead process: over a second was seen).
    pub fn server_available(&self) -> bool {
        let Ok(ports) = self.ports.get() else {
            return false;
        };
        let listed = ports.service.dynamic_config().number_of_servers() > 0;
        // Also without servers: updating lets go of the connection to a server that is gone
        // (SIGKILLed), whose file would otherwise stay in /dev/shm while this client lives.
        let connected = ports.client.update_connections().is_ok();
        listed && connected
    }

    /// The doorbell that servers ring for this client (its context's).
    pub fn doorbell(&self) -> &Doorbell {
        self.registration.doorbell()
    }
}
