//! The server side of a ROS service: an iceoryx2 server port, the `#rq` listener that wakes
//! it, and the requests it took but has not answered yet.

use crate::transport::shm::backing::Backing;
use std::collections::HashMap;
use std::mem::MaybeUninit;
use std::sync::Arc;

use iceoryx2::active_request::ActiveRequest;
use iceoryx2::port::listener::Listener;
use iceoryx2::port::notifier::Notifier;
use iceoryx2::port::server::Server;
use iceoryx2::prelude::*;
use parking_lot::{MappedRwLockReadGuard, Mutex};

use super::{
    drain, ListenerFd, RequestHeader, RequestResponseFactory, ResponseHeader, INITIAL_SLICE_LEN,
};
use crate::error::{Error, Result};
use crate::transport::shm::config::{
    open_request_response, open_service_event, EventFactory, ServiceLimits,
};
use crate::transport::shm::lifecycle::{Kind, Slot};
use crate::transport::shm::{ShmContext, Svc};

type Active = ActiveRequest<Svc, [u8], RequestHeader, [u8], ResponseHeader>;

/// Identifies a taken request: the client's GID and its sequence number.
type RequestKey = ([u8; 16], i64);

struct Responder {
    notifier: Notifier<Svc>,
    _event: EventFactory,
}

// Fields drop in declaration order: held requests before the port they came from.
struct Ports {
    unanswered: Mutex<HashMap<RequestKey, Active>>,
    responder: Mutex<Option<Responder>>,
    server: Server<Svc, [u8], RequestHeader, [u8], ResponseHeader>,
    listener: Listener<Svc>,
    _request_event: EventFactory,
    _service: RequestResponseFactory,
}

/// A ROS service server's shared-memory ports.
pub struct ShmServer {
    ports: Arc<Slot<Ports>>,
    name: String,
    /// Which loaned payloads have memory behind them.
    backing: Backing,
}

impl ShmServer {
    /// Creates the server port of the iceoryx2 service `name` (see
    /// [`service_name_of`](super::service_name_of)).
    pub fn new(ctx: &ShmContext, name: &str) -> Result<Self> {
        let node = ctx.node()?;
        let service = open_request_response(&node, name)?;
        // The listener first: once the server port is visible to clients, their notifications
        // must reach it.
        let request_event = open_service_event(&node, name, "rq")?;
        let listener = request_event
            .listener_builder()
            .create()
            .map_err(|e| Error::transport(&format!("cannot create a listener on '{name}'"), e))?;
        let l = ServiceLimits::get();
        let server = service
            .server_builder()
            .initial_max_slice_len(INITIAL_SLICE_LEN)
            .allocation_strategy(AllocationStrategy::PowerOfTwo)
            .max_loaned_responses_per_request(1)
            .backpressure_strategy(BackpressureStrategy::DiscardData)
            .override_response_preallocation(move |_| l.max_responses_in_flight)
            .create()
            .map_err(|e| Error::transport(&format!("cannot create a server on '{name}'"), e))?;
        let ports = Ports {
            unanswered: Mutex::new(HashMap::new()),
            responder: Mutex::new(None),
            server,
            listener,
            _request_event: request_event,
            _service: service,
        };
        Ok(Self {
            ports: Slot::new(ports, Kind::Ports),
            name: name.to_owned(),
            backing: Backing::default(),
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
        ctx: &ShmContext,
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
        // The request is done: dropping it closes its channel.
        drop(active);
        self.notify_clients(ctx, &ports)
    }

    fn notify_clients(&self, ctx: &ShmContext, ports: &Ports) -> Result<()> {
        let mut responder = ports.responder.lock();
        if responder.is_none() {
            // Opened on the first response: most services (rclpy's parameter services) never
            // answer one.
            let node = ctx.node()?;
            let event = open_service_event(&node, &self.name, "rs")?;
            let notifier = event.notifier_builder().create().map_err(|e| {
                Error::transport(&format!("cannot create a notifier on '{}'", self.name), e)
            })?;
            *responder = Some(Responder {
                notifier,
                _event: event,
            });
        }
        if let Some(r) = responder.as_ref() {
            r.notifier
                .notify()
                .map_err(|e| Error::transport("cannot notify clients", e))?;
        }
        Ok(())
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

    /// Consumes pending wake-up events.
    pub fn drain_wakeups(&self) -> u64 {
        self.ports.get().map_or(0, |p| drain(&p.listener))
    }

    /// The listener's file descriptor, or `None` once the ports were released.
    pub fn wakeup_fd(&self) -> Option<ListenerFd<'_>> {
        let ports = self.ports.get().ok()?;
        Some(ListenerFd(MappedRwLockReadGuard::map(ports, |p| {
            &p.listener
        })))
    }
}
