//! Service-wide limits of a topic's iceoryx2 services.
//!
//! iceoryx2 fixes these when the first port creates a service, for everyone who opens it
//! later, while ROS QoS is per endpoint: so every process uses the same service-wide maxima
//! and maps each endpoint's QoS inside them (docs/qos.md).

use iceoryx2::prelude::*;

use super::request_response::{RequestHeader, RequestResponseFactory, ResponseHeader};
use super::{SampleHeader, Svc};
use crate::error::{Error, Result};
use crate::typesupport::MAX_C_ALIGN;

/// Service-wide maxima of one topic. Environment variables override the defaults; every
/// process on a host must use the same values.
#[derive(Debug, Clone, Copy)]
pub struct TopicLimits {
    /// Publishers per topic and type (`RMW_SHM_RS_MAX_PUBLISHERS`, default 64: every node
    /// publishes on /rosout and /parameter_events).
    pub max_publishers: usize,
    /// Subscriptions per topic and type (`RMW_SHM_RS_MAX_SUBSCRIPTIONS`, default 32).
    pub max_subscriptions: usize,
    /// Processes (iceoryx2 nodes) per topic (`RMW_SHM_RS_MAX_NODES`, default 64).
    pub max_nodes: usize,
    /// The largest KEEP_LAST depth honoured; deeper histories are clamped to it
    /// (`RMW_SHM_RS_MAX_DEPTH`, default 64).
    pub max_depth: usize,
    /// How long a RELIABLE publisher waits for room in a KEEP_ALL subscription's full queue
    /// before `rmw_publish` fails (`RMW_SHM_RS_MAX_BLOCKING_MS`, default 1000).
    pub max_blocking: std::time::Duration,
    /// Loaned messages one publisher or one subscription may hold at a time
    /// (`RMW_SHM_RS_MAX_LOANS`, default 8): borrowing or taking one more fails with an error
    /// naming the limit, so a loan that is never returned cannot exhaust the sample pool.
    pub max_loans: usize,
    /// Samples in one publisher's pool (`RMW_SHM_RS_PUBLISHER_SAMPLES`, default 256): what its
    /// subscriptions' queues, their takes, its loans and its TRANSIENT_LOCAL history hold at
    /// once. iceoryx2 would otherwise size the pool for the worst case (every possible
    /// subscription with a full queue) and keeps 8 bytes per sample for each of the 255
    /// segments a pool may grow into: 5 MiB of memory per publisher with the defaults.
    pub publisher_samples: usize,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|v| *v > 0)
        .unwrap_or(default)
}

impl TopicLimits {
    /// The limits in force, read once per process.
    pub fn get() -> TopicLimits {
        static LIMITS: std::sync::OnceLock<TopicLimits> = std::sync::OnceLock::new();
        *LIMITS.get_or_init(|| TopicLimits {
            max_publishers: env_usize("RMW_SHM_RS_MAX_PUBLISHERS", 64),
            max_subscriptions: env_usize("RMW_SHM_RS_MAX_SUBSCRIPTIONS", 32),
            max_nodes: env_usize("RMW_SHM_RS_MAX_NODES", 64),
            max_depth: env_usize("RMW_SHM_RS_MAX_DEPTH", 64),
            max_blocking: std::time::Duration::from_millis(env_usize(
                "RMW_SHM_RS_MAX_BLOCKING_MS",
                1000,
            ) as u64),
            max_loans: env_usize("RMW_SHM_RS_MAX_LOANS", 8),
            publisher_samples: env_usize("RMW_SHM_RS_PUBLISHER_SAMPLES", 256),
        })
    }
}

/// Service-wide maxima of one ROS service (request/response). Environment variables override
/// the defaults; every process on a host must use the same values.
#[derive(Debug, Clone, Copy)]
pub struct ServiceLimits {
    /// Servers per service name and type (`RMW_SHM_RS_MAX_SERVERS`, default 4). A client's
    /// request goes to every server.
    pub max_servers: usize,
    /// Clients per service name and type (`RMW_SHM_RS_MAX_CLIENTS`, default 32).
    pub max_clients: usize,
    /// Requests one client may have waiting for a response (`RMW_SHM_RS_MAX_PENDING_REQUESTS`,
    /// default 16). A request is pending from `rmw_send_request` until its response is taken
    /// or its server drops it; a server holds at most this many unanswered requests per
    /// client. `rmw_send_request` fails with a message naming the limit when it is reached.
    pub max_pending: usize,
    /// Response buffers per server (`RMW_SHM_RS_MAX_RESPONSES_IN_FLIGHT`, default 128):
    /// responses sent but not yet taken by their clients. `rmw_send_response` fails when all
    /// are in use.
    pub max_responses_in_flight: usize,
    /// Processes (iceoryx2 nodes) per service: [`TopicLimits::max_nodes`].
    pub max_nodes: usize,
}

impl ServiceLimits {
    /// The limits in force, read once per process.
    pub fn get() -> ServiceLimits {
        static LIMITS: std::sync::OnceLock<ServiceLimits> = std::sync::OnceLock::new();
        *LIMITS.get_or_init(|| ServiceLimits {
            max_servers: env_usize("RMW_SHM_RS_MAX_SERVERS", 4),
            max_clients: env_usize("RMW_SHM_RS_MAX_CLIENTS", 32),
            max_pending: env_usize("RMW_SHM_RS_MAX_PENDING_REQUESTS", 16),
            max_responses_in_flight: env_usize("RMW_SHM_RS_MAX_RESPONSES_IN_FLIGHT", 128),
            max_nodes: TopicLimits::get().max_nodes,
        })
    }
}

pub(super) type PubSubFactory =
    iceoryx2::service::port_factory::publish_subscribe::PortFactory<Svc, [u8], SampleHeader>;
pub(super) type EventFactory = iceoryx2::service::port_factory::event::PortFactory<Svc>;

/// Runs `open` (unless /dev/shm is full, see [`check_room`](super::backing::check_room)),
/// retrying for about half a second: another process may be creating or
/// removing the same service at this moment (iceoryx2 reports that as a transient failure),
/// or a dead process may have left it half-created (cleaned up before the later attempts).
fn with_retry<T, E: std::fmt::Debug>(
    what: &str,
    mut open: impl FnMut() -> std::result::Result<T, E>,
) -> Result<T> {
    super::backing::check_room(what)?;
    let mut last = String::new();
    for attempt in 0..12u64 {
        match open() {
            Ok(v) => return Ok(v),
            Err(e) => last = format!("{e:?}"),
        }
        if attempt == 3 {
            super::cleanup_dead_nodes();
        }
        std::thread::sleep(std::time::Duration::from_millis(5 + attempt * 8));
    }
    Err(Error::Transport(format!("{what}: {last}")))
}

/// Which of a topic's data services an endpoint uses (docs/qos.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// KEEP_LAST and best-effort subscriptions: a full queue drops its oldest sample.
    Volatile,
    /// TRANSIENT_LOCAL subscriptions (`name/tl`): publishers keep
    /// [`TopicLimits::max_depth`] samples of history for late joiners.
    TransientLocal,
    /// RELIABLE KEEP_ALL subscriptions (`name/all`): a full queue makes the publisher wait
    /// (up to `RMW_SHM_RS_MAX_BLOCKING_MS`) instead of dropping anything.
    KeepAll,
}

impl Lane {
    fn suffix(self) -> &'static str {
        match self {
            Lane::Volatile => "",
            Lane::TransientLocal => "/tl",
            Lane::KeepAll => "/all",
        }
    }
}

/// Opens (or creates) one data service of a topic.
pub(super) fn open_pubsub(node: &Node<Svc>, name: &str, lane: Lane) -> Result<PubSubFactory> {
    let l = TopicLimits::get();
    let name = format!("{name}{}", lane.suffix());
    let service_name = super::service_name(&name)?;
    let align = Alignment::new(MAX_C_ALIGN)
        .ok_or_else(|| Error::Other("invalid payload alignment".into()))?;
    let history = if lane == Lane::TransientLocal {
        l.max_depth
    } else {
        0
    };
    with_retry(
        &format!("cannot open the shared-memory service '{name}'"),
        || {
            node.service_builder(&service_name)
                .publish_subscribe::<[u8]>()
                .user_header::<SampleHeader>()
                .max_publishers(l.max_publishers)
                .max_subscribers(l.max_subscriptions)
                .max_nodes(l.max_nodes)
                .subscriber_max_buffer_size(l.max_depth)
                // Loaned takes hold up to `max_loans` samples; ordinary takes one more.
                .subscriber_max_borrowed_samples(l.max_loans + 2)
                // Raw C structs (loaned messages) sit at their natural alignment.
                .payload_alignment(align)
                .history_size(history)
                // KEEP_LAST: a full subscription queue drops its oldest sample, as a DDS reader's
                // history does; KEEP_ALL: the publisher waits for room.
                .enable_safe_overflow(lane != Lane::KeepAll)
                .open_or_create()
        },
    )
}

/// Opens (or creates) the request-response service of a ROS service.
pub(super) fn open_request_response(
    node: &Node<Svc>,
    name: &str,
) -> Result<RequestResponseFactory> {
    let l = ServiceLimits::get();
    let service_name = super::service_name(name)?;
    with_retry(
        &format!("cannot open the shared-memory service '{name}'"),
        || {
            node.service_builder(&service_name)
                .request_response::<[u8], [u8]>()
                .request_user_header::<RequestHeader>()
                .response_user_header::<ResponseHeader>()
                .max_servers(l.max_servers)
                .max_clients(l.max_clients)
                .max_nodes(l.max_nodes)
                .max_active_requests_per_client(l.max_pending)
                .max_loaned_requests(2)
                // One response per request; a stale one in a reused channel is overwritten.
                .max_response_buffer_size(1)
                .enable_safe_overflow_for_responses(true)
                .max_borrowed_responses_per_pending_response(1)
                // A client never has more requests in a server's queue than it may have
                // pending, so this never drops one; it only keeps a slow server from blocking.
                .enable_safe_overflow_for_requests(true)
                // A request whose client stopped waiting (destroyed, dead) is skipped.
                .enable_fire_and_forget_requests(false)
                .open_or_create()
        },
    )
}
