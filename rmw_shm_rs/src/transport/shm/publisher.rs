//! The writing side of a topic: an iceoryx2 publisher of CDR bytes plus a notifier.
//!
//! A VOLATILE publisher writes into the topic's volatile service. A TRANSIENT_LOCAL publisher
//! writes into the transient-local service (whose history serves late joiners) and, when that
//! service has subscriptions, copies the sample into the volatile one too: volatile
//! subscriptions are compatible with it and live there.

use std::mem::MaybeUninit;
use std::sync::Arc;

use iceoryx2::port::publisher::Publisher;
use iceoryx2::port::update_connections::UpdateConnections;
use iceoryx2::prelude::*;

use super::config::{open_event, open_pubsub, EventFactory, PubSubFactory};
use super::lifecycle::{Kind, Slot};
use super::{SampleHeader, ShmContext, Svc};
use crate::error::{Error, Result};

/// Initial slice length of a publisher's samples; larger messages grow the data segment by
/// powers of two (no fixed maximum message size).
const INITIAL_SLICE_LEN: usize = 256;

struct Port {
    service: PubSubFactory,
    publisher: Publisher<Svc, [u8], SampleHeader>,
}

impl Port {
    fn new(ctx: &ShmContext, name: &str, transient: bool) -> Result<Self> {
        let node = ctx.node()?;
        let service = open_pubsub(&node, name, transient)?;
        let publisher = service
            .publisher_builder()
            .initial_max_slice_len(INITIAL_SLICE_LEN)
            .allocation_strategy(AllocationStrategy::PowerOfTwo)
            .max_loaned_samples(2)
            .backpressure_strategy(BackpressureStrategy::DiscardData)
            .create()
            .map_err(|e| Error::transport(&format!("cannot create a publisher on '{name}'"), e))?;
        Ok(Self { service, publisher })
    }

    fn subscribers(&self) -> usize {
        self.service.dynamic_config().number_of_subscribers()
    }

    /// Loans, fills and sends one sample.
    fn send(
        &self,
        len: usize,
        header: SampleHeader,
        fill: impl FnOnce(&mut [MaybeUninit<u8>]) -> Result<usize>,
    ) -> Result<()> {
        let mut sample = self
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
        Ok(())
    }
}

struct Ports {
    /// The volatile service's port (for a transient-local publisher: the copy's).
    volatile: Port,
    /// The transient-local service's port, for a TRANSIENT_LOCAL publisher.
    transient: Option<Port>,
    _event: EventFactory,
    notifier: iceoryx2::port::notifier::Notifier<Svc>,
}

/// A publisher's shared-memory ports.
pub struct ShmPublisher {
    ports: Arc<Slot<Ports>>,
}

impl ShmPublisher {
    /// Creates the publisher ports of topic service `name`; `transient` for TRANSIENT_LOCAL.
    pub fn new(ctx: &ShmContext, name: &str, transient: bool) -> Result<Self> {
        let volatile = Port::new(ctx, name, false)?;
        let transient = if transient {
            Some(Port::new(ctx, name, true)?)
        } else {
            None
        };
        let node = ctx.node()?;
        let event = open_event(&node, name)?;
        let notifier = event
            .notifier_builder()
            .create()
            .map_err(|e| Error::transport(&format!("cannot create a notifier on '{name}'"), e))?;
        let ports = Ports {
            volatile,
            transient,
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
        match &ports.transient {
            None => ports.volatile.send(len, header, fill)?,
            Some(t) if ports.volatile.subscribers() == 0 => t.send(len, header, fill)?,
            Some(t) => {
                // Serialized once into the transient sample, copied into the volatile one.
                let mut copy = Vec::new();
                t.send(len, header, |buf| {
                    let n = fill(buf)?;
                    copy.extend(buf[..n].iter().map(|b| {
                        // SAFETY: `fill` initialized the first `n` bytes.
                        unsafe { b.assume_init() }
                    }));
                    Ok(n)
                })?;
                ports.volatile.send(len, header, |buf| {
                    for (d, s) in buf.iter_mut().zip(&copy) {
                        d.write(*s);
                    }
                    Ok(copy.len())
                })?;
            }
        }
        ports
            .notifier
            .notify()
            .map_err(|e| Error::transport("cannot notify subscriptions", e))?;
        Ok(())
    }

    /// Delivers the transient-local history to subscriptions that appeared since the last
    /// publish, and wakes them. Called when the graph changes.
    pub fn refresh(&self) {
        if let Ok(ports) = self.ports.get() {
            if let Some(t) = &ports.transient {
                let _ = t.publisher.update_connections();
                let _ = ports.notifier.notify();
            }
        }
    }

    /// Number of subscriptions (of any process) connected to this publisher's services.
    pub fn matched_subscriptions(&self) -> usize {
        self.ports.get().map_or(0, |p| {
            p.volatile.subscribers() + p.transient.as_ref().map_or(0, Port::subscribers)
        })
    }
}
