//! The reading side of a topic: an iceoryx2 subscriber of CDR bytes, named so that publishers
//! ring its wake-up target through the context's doorbell.

use std::sync::{Arc, Weak};

use iceoryx2::port::subscriber::Subscriber;
use iceoryx2::prelude::*;
use iceoryx2::sample::Sample;

use super::config::{open_pubsub, Lane, PubSubFactory, TopicLimits};
use super::doorbell::{Doorbell, Registration, Ring};
use super::lifecycle::{Kind, Slot};
use super::{SampleHeader, ShmContext, Svc};
use crate::error::{Error, Result};

struct Ports {
    service: PubSubFactory,
    subscriber: Subscriber<Svc, [u8], SampleHeader>,
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
    registration: Registration,
}

impl ShmSubscriber {
    /// Creates the subscriber port of topic service `name` in `lane`, queueing up to `depth`
    /// samples (clamped to [`TopicLimits::max_depth`]). In the transient-local lane it asks
    /// each publisher for up to `depth` samples of history. Publishers that deliver to it ring
    /// `wake`.
    pub fn new(
        ctx: &ShmContext,
        name: &str,
        depth: usize,
        lane: Lane,
        wake: Weak<dyn Ring>,
    ) -> Result<Self> {
        // Registered before the port exists: a publisher that sees the port can ring it.
        let registration = ctx.doorbell().register(wake);
        let node = ctx.node()?;
        let transient = lane == Lane::TransientLocal;
        let service = open_pubsub(&node, name, lane)?;
        let depth = depth.clamp(1, TopicLimits::get().max_depth);
        let subscriber = service
            .subscriber_builder()
            .name(&registration.port_name()?)
            .buffer_size(depth)
            .history_request(if transient { depth } else { 0 })
            .create()
            .map_err(|e| Error::transport(&format!("cannot create a subscriber on '{name}'"), e))?;
        let ports = Ports {
            service,
            subscriber,
        };
        Ok(Self {
            ports: Slot::new(ports, Kind::Ports),
            registration,
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

    /// The doorbell that publishers ring for this subscriber (its context's).
    pub fn doorbell(&self) -> &Doorbell {
        self.registration.doorbell()
    }

    /// Number of publishers (of any process) on the same topic and type.
    pub fn matched_publishers(&self) -> usize {
        self.ports
            .get()
            .map_or(0, |p| p.service.dynamic_config().number_of_publishers())
    }
}
