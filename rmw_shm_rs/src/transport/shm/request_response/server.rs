//! The server side of a ROS service: an iceoryx2 server port (named so that clients ring it
//! through its context's doorbell) and the requests it took but has not answered yet.

use crate::transport::shm::backing::Backing;
use std::collections::HashMap;
use std::mem::MaybeUninit;
use std::sync::{Arc, Weak};

use iceoryx2::active_request::ActiveRequest;
use iceoryx2::port::server::Server;
use iceoryx2::prelude::*;
use parking_lot::Mutex;

use super::{RequestHeader, RequestResponseFactory, ResponseHeader, INITIAL_SLICE_LEN};
use crate::error::{Error, Result};
use crate::transport::shm::config::{open_request_response, ServiceLimits};
use crate::transport::shm::doorbell::{Doorbell, Registration, Ring};
use crate::transport::shm::lifecycle::{Kind, Slot};
use crate::transport::shm::{ShmContext, Svc};

type Active = ActiveRequest<Svc, [u8], RequestHeader, [u8], ResponseHeader>;

/// Identifies a taken request: the client's GID and its sequence number.
type RequestKey = ([u8; 16], i64);

// Fields drop in declaration order: held requests before the port they came from.
struct Ports {
    unanswered: Mutex<HashMap<RequestKey, Active>>,
    server: Server<Svc, [u8], RequestHeader, [u8], ResponseHeader>,
    service: RequestResponseFactory,
}

/// A ROS service server's shared-memory ports.
pub struct ShmServer {
    ports: Arc<Slot<Ports>>,
    name: String,
    /// Which loaned payloads have memory behind them.
    backing: Backing,
    registration: Registration,
}

impl ShmServer {
    /// Creates the server port of the iceoryx2 service `name` (see
    /// [`service_name_of`](super::service_name_of)). Clients that send it a request ring
    /// `wake`.
    pub fn new(ctx: &ShmContext, name: &str, wake: Weak<dyn Ring>) -> Result<Self> {
        // Registered first: once the server port is visible to clients, their rings must
        // reach it.
        let registration = ctx.doorbell().register(wake);
        let node = ctx.node()?;
        let service = open_request_response(&node, name)?;
        let l = ServiceLimits::get();
        let server = service
            .server_builder()
            .name(&registration.port_name()?)
            .initial_max_slice_len(INITIAL_SLICE_LEN)
            .allocation_strategy(AllocationStrategy::PowerOfTwo)
            .max_loaned_responses_per_request(1)
            .backpressure_strategy(BackpressureStrategy::DiscardData)
            .override_response_preallocation(move |_| l.max_responses_in_flight)
            .create()
            .map_err(|e| Error::transport(&format!("cannot create a server on '{name}'"), e))?;
        let ports = Ports {
            unanswered: Mutex::new(HashMap::new()),
            server,
            service,
        };
        Ok(Self {
            ports: Slot::new(ports, Kind::Ports),
            name: name.to_owned(),
            backing: Backing::default(),
            registration,
        })
    }

    /// Takes the oldest request, if any, and hands its bytes and header to `read`. The request
    /// is then held until [`respond`](Self::respond) answers it (or the server goes away); if
    /// `read` fails it is dropped, which tells its client that no response will come.
    pub fn take<R>(
        &self,
        read: impl FnOnce(&[u8], &RequestHeader) -> Result<R>,
    ) -> Result<Option<(R, RequestHeader)>> {
        let ports = self.ports.get()?;
        let active = match ports.server.receive() {
            Ok(Some(a)) => a,
            Ok(None) => return Ok(None),
            Err(e) => return Err(Error::transport("cannot receive a request", e)),
        };
        let header = *active.user_header();
        let value = read(active.payload(), &header)?;
        let mut unanswered = ports.unanswered.lock();
        unanswered.insert((header.client_gid, header.sequence), active);
        let from_client = unanswered
            .keys()
            .filter(|(gid, _)| *gid == header.client_gid)
            .count();
        if from_client >= ServiceLimits::get().max_pending {
            tracing::warn!(
                target: "rmw_shm_rs::service",
                service = self.name,
                from_client,
                "a client's requests are all taken but unanswered: it cannot send more until \
                 they are answered (RMW_SHM_RS_MAX_PENDING_REQUESTS)"
            );
        }
        Ok(Some((value, header)))
    }

    /// Answers the held request `(client_gid, sequence)`: loans a response of exactly `len`
    /// bytes, lets `fill` write all of them, sends it to that client only and wakes it. A
    /// client that stopped waiting (destroyed, dead) is not an error: the response is dropped.
    pub fn respond(
        &self,
        client_gid: [u8; 16],
        sequence: i64,
        len: usize,
        header: ResponseHeader,
        fill: impl FnOnce(&mut [MaybeUninit<u8>]) -> Result<usize>,
    ) -> Result<()> {
        let ports = self.ports.get()?;
        let Some(active) = ports.unanswered.lock().remove(&(client_gid, sequence)) else {
            return Err(Error::invalid(format!(
                "no request with sequence number {sequence} from that client is waiting for a \
                 response on '{}' (already answered, or never taken)",
                self.name
            )));
        };
        if !active.is_connected() {
            return Ok(());
        }
        let mut response = active.loan_slice_uninit(len).map_err(|e| {
            Error::transport(
                "cannot loan a response (RMW_SHM_RS_MAX_RESPONSES_IN_FLIGHT responses wait in \
                 clients' queues?)",
                e,
            )
        })?;
        self.backing.ensure(response.payload_mut())?;
        let written = fill(response.payload_mut())?;
        if written != len {
            return Err(Error::Other(format!(
                "serializer wrote {written} bytes into a response of {len}"
            )));
        }
        *response.user_header_mut() = header;
        // SAFETY: `fill` initialized all `len` bytes of the payload (checked above).
        let response = unsafe { response.assume_init() };
        if let Err(e) = response.send() {
            if active.is_connected() {
                return Err(Error::transport("cannot send a response", e));
            }
            return Ok(());
        }
        let client = active.header().client_id();
        // The request is done: dropping it closes its channel.
        drop(active);
        // Wake the client that asked (listed until it is destroyed, so after the send too).
        ports.service.dynamic_config().list_clients(|c| {
            if c.client_id == client {
                self.doorbell().ring(&c.node_id, &c.client_name);
                return CallbackProgression::Stop;
            }
            CallbackProgression::Continue
        });
        Ok(())
    }

    /// The doorbell that clients ring for this server (its context's).
    pub fn doorbell(&self) -> &Doorbell {
        self.registration.doorbell()
    }

    /// Whether a request is waiting. Errors count as "nothing waiting"; `take` reports them.
    pub fn has_requests(&self) -> bool {
        self.ports
            .get()
            .is_ok_and(|p| p.server.has_requests().unwrap_or(false))
    }

    /// Number of requests taken and not answered yet.
    pub fn unanswered(&self) -> usize {
        self.ports.get().map_or(0, |p| p.unanswered.lock().len())
    }
}
