//! The reading side of a topic: an iceoryx2 subscriber of CDR bytes plus a listener whose
//! file descriptor the wait set polls.

use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;

use iceoryx2::port::listener::Listener;
use iceoryx2::port::subscriber::Subscriber;
use iceoryx2::prelude::*;
use iceoryx2::sample::Sample;
use parking_lot::MappedRwLockReadGuard;

use super::config::{open_event, open_pubsub, EventFactory, Lane, PubSubFactory, TopicLimits};
use super::lifecycle::{Kind, Slot};
use super::{SampleHeader, ShmContext, Svc};
use crate::error::{Error, Result};

struct Ports {
    service: PubSubFactory,
    subscriber: Subscriber<Svc, [u8], SampleHeader>,
    _event: EventFactory,
    listener: Listener<Svc>,
}

/// A received sample, held as long as this value lives (a loaned take keeps it until the
/// loan is returned); dropping it returns the sample to its publisher.
pub struct SubscriberSample(Sample<Svc, [u8], SampleHeader>);

impl SubscriberSample {
    /// The payload: CDR bytes or a raw C struct, as the header says.
    pub fn payload(&self) -> &[u8] {
        self.0.payload()
    }

    /// The sample's header.
    pub fn header(&self) -> &SampleHeader {
        self.0.user_header()
    }
}

/// A subscription's shared-memory ports.
pub struct ShmSubscriber {
    ports: Arc<Slot<Ports>>,
}

/// The listener's file descriptor, borrowed for one `poll`: readable while a wake-up event is
/// pending.
pub struct WakeupFd<'a>(MappedRwLockReadGuard<'a, Ports>);

impl AsFd for WakeupFd<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the descriptor is owned by the listener, which the guard keeps alive, and
        // iceoryx2 never changes or closes it during the listener's lifetime.
        unsafe { BorrowedFd::borrow_raw(self.0.listener.file_descriptor().native_handle()) }
    }
}

impl ShmSubscriber {
    /// Creates the subscriber port of topic service `name` in `lane`, queueing up to `depth`
    /// samples (clamped to [`TopicLimits::max_depth`]). In the transient-local lane it asks
    /// each publisher for up to `depth` samples of history.
    pub fn new(ctx: &ShmContext, name: &str, depth: usize, lane: Lane) -> Result<Self> {
        let node = ctx.node()?;
        let transient = lane == Lane::TransientLocal;
        let service = open_pubsub(&node, name, lane)?;
        let depth = depth.clamp(1, TopicLimits::get().max_depth);
        let subscriber = service
            .subscriber_builder()
            .buffer_size(depth)
            .history_request(if transient { depth } else { 0 })
            .create()
            .map_err(|e| Error::transport(&format!("cannot create a subscriber on '{name}'"), e))?;
        let event = open_event(&node, name)?;
        let listener = event
            .listener_builder()
            .create()
            .map_err(|e| Error::transport(&format!("cannot create a listener on '{name}'"), e))?;
        let ports = Ports {
            service,
            subscriber,
            _event: event,
            listener,
        };
        Ok(Self {
            ports: Slot::new(ports, Kind::Ports),
        })
    }

    /// The oldest received sample, if any. It goes back to its publisher when dropped.
    pub fn receive(&self) -> Result<Option<SubscriberSample>> {
        let ports = self.ports.get()?;
        match ports.subscriber.receive() {
            Ok(sample) => Ok(sample.map(SubscriberSample)),
            Err(e) => Err(Error::transport("cannot receive a shared-memory sample", e)),
        }
    }

    /// Whether a sample is waiting. Errors count as "nothing waiting"; `take` reports them.
    pub fn has_data(&self) -> bool {
        self.ports
            .get()
            .is_ok_and(|p| p.subscriber.has_samples().unwrap_or(false))
    }

    /// Consumes pending wake-up events (after which the file descriptor is no longer readable
    /// until the next notification).
    pub fn drain_wakeups(&self) -> u64 {
        self.ports
            .get()
            .map_or(0, |p| p.listener.try_wait(|_| {}).unwrap_or(0))
    }

    /// The listener's file descriptor, or `None` once the ports were released.
    pub fn wakeup_fd(&self) -> Option<WakeupFd<'_>> {
        self.ports.get().ok().map(WakeupFd)
    }

    /// Number of publishers (of any process) on the same topic and type.
    pub fn matched_publishers(&self) -> usize {
        self.ports
            .get()
            .map_or(0, |p| p.service.dynamic_config().number_of_publishers())
    }
}
