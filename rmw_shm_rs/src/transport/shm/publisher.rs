//! The writing side of a topic: an iceoryx2 publisher of CDR bytes plus a notifier.

use std::mem::MaybeUninit;
use std::sync::Arc;

use iceoryx2::port::publisher::Publisher;
use iceoryx2::prelude::*;

use super::config::{open_event, open_pubsub, EventFactory, PubSubFactory};
use super::lifecycle::{Kind, Slot};
use super::{SampleHeader, ShmContext, Svc};
use crate::error::{Error, Result};

/// Initial slice length of a publisher's samples; larger messages grow the data segment by
/// powers of two (no fixed maximum message size).
const INITIAL_SLICE_LEN: usize = 256;

struct Ports {
    service: PubSubFactory,
    publisher: Publisher<Svc, [u8], SampleHeader>,
    _event: EventFactory,
    notifier: iceoryx2::port::notifier::Notifier<Svc>,
}

/// A publisher's shared-memory ports.
pub struct ShmPublisher {
    ports: Arc<Slot<Ports>>,
}

impl ShmPublisher {
    /// Creates the publisher port of service `name`.
    pub fn new(ctx: &ShmContext, name: &str) -> Result<Self> {
        let node = ctx.node()?;
        let service = open_pubsub(&node, name)?;
        let publisher = service
            .publisher_builder()
            .initial_max_slice_len(INITIAL_SLICE_LEN)
            .allocation_strategy(AllocationStrategy::PowerOfTwo)
            .max_loaned_samples(2)
            .backpressure_strategy(BackpressureStrategy::DiscardData)
            .create()
            .map_err(|e| Error::transport(&format!("cannot create a publisher on '{name}'"), e))?;
        let event = open_event(&node, name)?;
        let notifier = event
            .notifier_builder()
            .create()
            .map_err(|e| Error::transport(&format!("cannot create a notifier on '{name}'"), e))?;
        let ports = Ports {
            service,
            publisher,
            _event: event,
            notifier,
        };
        Ok(Self {
            ports: Slot::new(ports, Kind::Ports),
        })
    }

    /// Loans a sample of exactly `len` bytes, lets `fill` write all of them (it returns how many
    /// it wrote, which must be `len`), sends it to every connected subscription and wakes them.
    pub fn publish(
        &self,
        len: usize,
        header: SampleHeader,
        fill: impl FnOnce(&mut [MaybeUninit<u8>]) -> Result<usize>,
    ) -> Result<()> {
        let ports = self.ports.get()?;
        let mut sample = ports
            .publisher
            .loan_slice_uninit(len)
            .map_err(|e| Error::transport("cannot loan a shared-memory sample", e))?;
        let written = fill(sample.payload_mut())?;
        if written != len {
            return Err(Error::Other(format!(
                "serializer wrote {written} bytes into a sample of {len}"
            )));
        }
        *sample.user_header_mut() = header;
        // SAFETY: `fill` initialized all `len` bytes of the payload (checked above).
        let sample = unsafe { sample.assume_init() };
        sample
            .send()
            .map_err(|e| Error::transport("cannot send a shared-memory sample", e))?;
        ports
            .notifier
            .notify()
            .map_err(|e| Error::transport("cannot notify subscriptions", e))?;
        Ok(())
    }

    /// Number of subscriptions (of any process) on the same topic and type.
    pub fn matched_subscriptions(&self) -> usize {
        self.ports
            .get()
            .map_or(0, |p| p.service.dynamic_config().number_of_subscribers())
    }
}
