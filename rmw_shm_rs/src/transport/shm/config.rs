//! Service-wide limits of a topic's iceoryx2 services.
//!
//! iceoryx2 fixes these when the first port creates a service, for everyone who opens it
//! later, while ROS QoS is per endpoint: so every process uses the same service-wide maxima
//! and maps each endpoint's QoS inside them (docs/qos.md).

use iceoryx2::prelude::*;

use super::{SampleHeader, Svc};
use crate::error::{Error, Result};

/// Service-wide maxima of one topic. Environment variables override the defaults; every
/// process on a host must use the same values.
#[derive(Debug, Clone, Copy)]
pub struct TopicLimits {
    /// Publishers per topic and type (`RMW_SHM_RS_MAX_PUBLISHERS`, default 16).
    pub max_publishers: usize,
    /// Subscriptions per topic and type (`RMW_SHM_RS_MAX_SUBSCRIPTIONS`, default 32).
    pub max_subscriptions: usize,
    /// Processes (iceoryx2 nodes) per topic (`RMW_SHM_RS_MAX_NODES`, default 64).
    pub max_nodes: usize,
    /// The largest KEEP_LAST depth honoured; deeper histories are clamped to it
    /// (`RMW_SHM_RS_MAX_DEPTH`, default 64).
    pub max_depth: usize,
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
            max_publishers: env_usize("RMW_SHM_RS_MAX_PUBLISHERS", 16),
            max_subscriptions: env_usize("RMW_SHM_RS_MAX_SUBSCRIPTIONS", 32),
            max_nodes: env_usize("RMW_SHM_RS_MAX_NODES", 64),
            max_depth: env_usize("RMW_SHM_RS_MAX_DEPTH", 64),
        })
    }
}

pub(super) type PubSubFactory =
    iceoryx2::service::port_factory::publish_subscribe::PortFactory<Svc, [u8], SampleHeader>;
pub(super) type EventFactory = iceoryx2::service::port_factory::event::PortFactory<Svc>;

/// Runs `open`, retrying for about half a second: another process may be creating or
/// removing the same service at this moment (iceoryx2 reports that as a transient failure),
/// or a dead process may have left it half-created (cleaned up before the later attempts).
fn with_retry<T, E: std::fmt::Debug>(
    what: &str,
    mut open: impl FnMut() -> std::result::Result<T, E>,
) -> Result<T> {
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

/// Opens (or creates) the data service of a topic.
pub(super) fn open_pubsub(node: &Node<Svc>, name: &str) -> Result<PubSubFactory> {
    let l = TopicLimits::get();
    let service_name = super::service_name(name)?;
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
                .subscriber_max_borrowed_samples(2)
                .history_size(0)
                // KEEP_LAST: a full subscription queue drops its oldest sample, as a DDS reader's
                // history does.
                .enable_safe_overflow(true)
                .open_or_create()
        },
    )
}

/// Opens (or creates) the wake-up event service of a topic.
pub(super) fn open_event(node: &Node<Svc>, name: &str) -> Result<EventFactory> {
    let l = TopicLimits::get();
    let service_name = super::event_service_name(name)?;
    with_retry(
        &format!("cannot open the event service of '{name}'"),
        || {
            node.service_builder(&service_name)
                .event()
                .max_notifiers(l.max_publishers)
                .max_listeners(l.max_subscriptions)
                .max_nodes(l.max_nodes)
                .open_or_create()
        },
    )
}
