//! The graph's discovery channel: one iceoryx2 publish-subscribe service per ROS domain on
//! which every rmw context announces what it holds (an encoded `graph::model::Participant`).
//!
//! Each context has one announcer (publisher, history 1, port name = its participant key in
//! hex) and one observer (subscriber + listener). A late joiner gets every live announcer's
//! latest announcement as history when that announcer next refreshes its connections, and
//! at once when it answers the newcomer's own first announcement. Which participants are alive
//! is read from the service's list of publishers: a killed process's announcer disappears from
//! it when iceoryx2's dead-node cleanup runs.

use std::sync::Arc;
use std::time::Duration;

use iceoryx2::port::listener::Listener;
use iceoryx2::port::notifier::Notifier;
use iceoryx2::port::publisher::Publisher;
use iceoryx2::port::subscriber::Subscriber;
use iceoryx2::port::update_connections::UpdateConnections;
use iceoryx2::prelude::*;

use super::lifecycle::{Kind, Slot};
use super::{ShmContext, Svc};
use crate::error::{Error, Result};

/// Largest number of contexts (processes with an rmw context) per domain the channel serves:
/// `RMW_SHM_RS_MAX_PARTICIPANTS`, default 64 (each unit costs every process about 40 KiB).
fn max_participants() -> usize {
    std::env::var("RMW_SHM_RS_MAX_PARTICIPANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|v| *v > 0)
        .unwrap_or(64)
}
/// Announcements an observer queues between two looks (every announcement is a full
/// snapshot, so only the newest of each participant matters; the worker looks at least every
/// 100 ms, and newcomers get every participant's latest as history).
const OBSERVER_BUFFER: usize = 32;

type Factory = iceoryx2::service::port_factory::publish_subscribe::PortFactory<Svc, [u8], ()>;
type EventFactory = iceoryx2::service::port_factory::event::PortFactory<Svc>;

struct Ports {
    service: Factory,
    announcer: Publisher<Svc, [u8], ()>,
    observer: Subscriber<Svc, [u8], ()>,
    _event: EventFactory,
    notifier: Notifier<Svc>,
    listener: Listener<Svc>,
}

/// A context's end of the discovery channel.
pub struct DiscoveryChannel {
    ports: Arc<Slot<Ports>>,
}

fn err(what: &str) -> impl Fn(String) -> Error + '_ {
    move |e| Error::Transport(format!("discovery channel: {what}: {e}"))
}

impl DiscoveryChannel {
    /// Opens the domain's channel; `key_hex` names this context's announcer.
    pub fn new(ctx: &ShmContext, key_hex: &str) -> Result<Self> {
        let node = ctx.node()?;
        let base = format!("rmw_shm_rs/d{}/graph", ctx.domain_id());
        let name = super::service_name(&base)?;
        let service = node
            .service_builder(&name)
            .publish_subscribe::<[u8]>()
            .max_publishers(max_participants())
            .max_subscribers(max_participants())
            .max_nodes(max_participants())
            .history_size(1)
            .subscriber_max_buffer_size(OBSERVER_BUFFER)
            .enable_safe_overflow(true)
            .open_or_create()
            .map_err(|e| err("open")(format!("{e:?}")))?;
        // The observer first, so that answers to our own first announcement reach it.
        let observer = service
            .subscriber_builder()
            .buffer_size(OBSERVER_BUFFER)
            .create()
            .map_err(|e| err("subscriber")(format!("{e:?}")))?;
        let port_name = PortName::new(key_hex).map_err(|e| err("port name")(format!("{e:?}")))?;
        let announcer = service
            .publisher_builder()
            .name(&port_name)
            .initial_max_slice_len(4096)
            .allocation_strategy(AllocationStrategy::PowerOfTwo)
            .create()
            .map_err(|e| err("publisher")(format!("{e:?}")))?;
        let event = node
            .service_builder(&super::event_service_name(&base)?)
            .event()
            // Only event id 0 is used: a smaller id space makes every drain cheaper.
            .event_id_max_value(0)
            .max_notifiers(max_participants())
            .max_listeners(max_participants())
            .max_nodes(max_participants())
            .open_or_create()
            .map_err(|e| err("event service")(format!("{e:?}")))?;
        let notifier = event
            .notifier_builder()
            .create()
            .map_err(|e| err("notifier")(format!("{e:?}")))?;
        let listener = event
            .listener_builder()
            .create()
            .map_err(|e| err("listener")(format!("{e:?}")))?;
        let ports = Ports {
            service,
            announcer,
            observer,
            _event: event,
            notifier,
            listener,
        };
        Ok(Self {
            // The graph worker borrows the ports while it waits (up to 100 ms): at exit, wake
            // it first, or the release may time out and leave the ports in shared memory.
            ports: Slot::with_waker(ports, Kind::Ports, |p| {
                let _ = p.notifier.notify();
            }),
        })
    }

    /// Publishes this context's announcement and wakes every observer.
    pub fn announce(&self, bytes: &[u8]) -> Result<()> {
        let p = self.ports.get()?;
        let sample = p
            .announcer
            .loan_slice_uninit(bytes.len())
            .map_err(|e| err("loan")(format!("{e:?}")))?;
        let sample = sample.write_from_slice(bytes);
        sample.send().map_err(|e| err("send")(format!("{e:?}")))?;
        let _ = p.notifier.notify();
        Ok(())
    }

    /// Hands every received announcement to `f`.
    pub fn receive_all(&self, mut f: impl FnMut(&[u8])) {
        let Ok(p) = self.ports.get() else { return };
        while let Ok(Some(sample)) = p.observer.receive() {
            f(sample.payload());
        }
    }

    /// Blocks up to `timeout` for an announcement (or [`wake`](Self::wake)), consuming the
    /// pending wake-ups.
    pub fn wait(&self, timeout: Duration) {
        match self.ports.get() {
            Ok(p) => {
                let _ = p.listener.timed_wait(|_| {}, timeout);
            }
            Err(_) => std::thread::sleep(timeout),
        }
    }

    /// Wakes the observers (this context's own included) without an announcement.
    pub fn wake(&self) {
        if let Ok(p) = self.ports.get() {
            let _ = p.notifier.notify();
        }
    }

    /// Connects the announcer to observers that appeared since, which delivers them its
    /// latest announcement (history).
    pub fn refresh(&self) {
        if let Ok(p) = self.ports.get() {
            let _ = p.announcer.update_connections();
        }
    }

    /// Port names (participant keys in hex) of the live announcers.
    pub fn live_keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        if let Ok(p) = self.ports.get() {
            p.service.dynamic_config().list_publishers(|d| {
                keys.push(d.publisher_name.as_str().to_owned());
                CallbackProgression::Continue
            });
        }
        keys
    }
}
