//! The writing side of a topic: iceoryx2 publishers of CDR bytes, ringing the subscriptions
//! they delivered to (through the doorbells of their contexts).
//!
//! A topic has up to three data services ("lanes", see [`Lane`]): volatile, transient-local
//! and keep-all. A publisher writes into every lane whose subscriptions it can serve: the
//! volatile one always, the transient-local one when it is TRANSIENT_LOCAL (even without
//! subscriptions: its history serves late joiners), the keep-all one when it is RELIABLE and
//! a KEEP_ALL subscription exists (added when the graph shows one). A
//! sample is serialized once into the first lane's loan and copied into the others; lanes
//! without subscriptions are skipped, and with no lane to serve nothing is serialized at all.

use std::mem::MaybeUninit;
use std::sync::Arc;

use iceoryx2::port::publisher::Publisher;
use iceoryx2::port::update_connections::UpdateConnections;
use iceoryx2::port::BackpressureAction;
use iceoryx2::prelude::*;
use iceoryx2::sample_mut_uninit::SampleMutUninit;

use super::backing::Backing;
use super::config::{open_pubsub, Lane, PubSubFactory, TopicLimits};
use super::doorbell::Doorbell;
use super::lifecycle::{Kind, Slot};
use super::{SampleHeader, ShmContext, Svc};
use crate::error::{Error, Result};

/// Initial slice length of a publisher's samples; larger messages grow the data segment by
/// powers of two (no fixed maximum message size).
const INITIAL_SLICE_LEN: usize = 256;

struct Port {
    lane: Lane,
    service: PubSubFactory,
    publisher: Publisher<Svc, [u8], SampleHeader>,
    backing: Backing,
}

impl Port {
    fn new(ctx: &ShmContext, name: &str, lane: Lane) -> Result<Self> {
        let node = ctx.node()?;
        let service = open_pubsub(&node, name, lane)?;
        let builder = service
            .publisher_builder()
            .initial_max_slice_len(INITIAL_SLICE_LEN)
            .allocation_strategy(AllocationStrategy::PowerOfTwo)
            // Loaned messages (volatile lane) hold up to `max_loans`; publishing one more.
            .max_loaned_samples(TopicLimits::get().max_loans + 2)
            .override_sample_preallocation(|worst_case| {
                worst_case.min(TopicLimits::get().publisher_samples)
            });
        let builder = if lane == Lane::KeepAll {
            let max = TopicLimits::get().max_blocking;
            builder
                .backpressure_strategy(BackpressureStrategy::RetryUntilDelivered)
                .set_backpressure_handler(move |info: &iceoryx2::port::BackpressureInfo| {
                    if info.elapsed_time >= max {
                        return BackpressureAction::DiscardDataAndFail;
                    }
                    // Let the subscription's process run instead of spinning.
                    std::thread::sleep(std::time::Duration::from_micros(50));
                    BackpressureAction::Retry
                })
        } else {
            builder.backpressure_strategy(BackpressureStrategy::DiscardData)
        };
        let publisher = builder
            .create()
            .map_err(|e| Error::transport(&format!("cannot create a publisher on '{name}'"), e))?;
        Ok(Self {
            lane,
            service,
            publisher,
            backing: Backing::default(),
        })
    }

    fn subscribers(&self) -> usize {
        self.service.dynamic_config().number_of_subscribers()
    }

    /// Whether a sample must go into this lane: the transient-local lane always (its history
    /// serves late joiners), another lane when it has more subscribers than the `intra_served`
    /// volatile-lane subscriptions of this process that get the message intra-process.
    fn needed(&self, intra_served: usize) -> bool {
        let needed = match self.lane {
            Lane::TransientLocal => true,
            Lane::Volatile => self.subscribers() > intra_served,
            Lane::KeepAll => self.subscribers() > 0,
        };
        if !needed {
            // A send would update the connections; without one, iceoryx2 keeps the connection
            // to a subscription that is gone (SIGKILLed), and its file stays in /dev/shm for as
            // long as this publisher lives. Cheap when nothing changed (a version check).
            let _ = self.publisher.update_connections();
        }
        needed
    }

    /// Wakes every subscription of this lane (in every process).
    fn ring(&self, doorbell: &Doorbell) {
        self.service.dynamic_config().list_subscribers(|s| {
            doorbell.ring(&s.node_id, &s.subscriber_name);
            CallbackProgression::Continue
        });
    }

    /// Loans a sample of `len` bytes carrying `header`, its memory allocated.
    fn loan(&self, len: usize, header: SampleHeader) -> Result<Uninit> {
        let mut sample = self.publisher.loan_slice_uninit(len).map_err(loan_error)?;
        self.backing.ensure(sample.payload_mut())?;
        *sample.user_header_mut() = header;
        Ok(sample)
    }

    /// Sends `sample`; returns how many subscriptions got it.
    ///
    /// # Safety
    /// The sample's whole payload is initialized.
    unsafe fn send(&self, sample: Uninit) -> Result<usize> {
        // SAFETY: per the caller.
        let sample = unsafe { sample.assume_init() };
        sample
            .send()
            .map_err(|e| Error::transport("cannot deliver a shared-memory sample", e))
    }

    /// Sends `sample` and, in the keep-all lane, makes sure every subscription got it.
    ///
    /// iceoryx2 drops a sample without an error when the queue of a subscription that has not
    /// connected to this publisher yet is full (it will not wait for a receiver that may never
    /// come). A KEEP_ALL subscription created before this publisher connects at its next take
    /// or wait, so a burst published right after matching can fill its queue first. When a
    /// sample reached fewer subscriptions than the lane has, this wakes them, waits (50 µs,
    /// doubling up to 2 ms) and sends a copy written by `refill`, until all got one or
    /// `RMW_SHM_RS_MAX_BLOCKING_MS` passed (then an error, as for a subscription that does not
    /// take). Subscriptions that already had it drop the copy by its sequence number.
    ///
    /// # Safety
    /// The sample's whole payload is initialized.
    unsafe fn send_reliably(
        &self,
        sample: Uninit,
        doorbell: &Doorbell,
        refill: &dyn Fn(&mut [MaybeUninit<u8>]) -> Result<()>,
    ) -> Result<()> {
        let header = *sample.user_header();
        let len = sample.payload().len();
        // SAFETY: per the caller.
        let mut delivered = unsafe { self.send(sample) }.map_err(|e| self.blocked(e))?;
        if self.lane != Lane::KeepAll {
            return Ok(());
        }
        let max = TopicLimits::get().max_blocking;
        let start = std::time::Instant::now();
        let mut pause = std::time::Duration::from_micros(50);
        while delivered < self.subscribers() {
            if start.elapsed() >= max {
                return Err(Error::Other(format!(
                    "a KEEP_ALL subscription on '{}' did not connect within {max:?} \
                     (RMW_SHM_RS_MAX_BLOCKING_MS)",
                    self.service.name()
                )));
            }
            self.ring(doorbell);
            std::thread::sleep(pause);
            pause = (pause * 2).min(std::time::Duration::from_millis(2));
            let mut again = self.loan(len, header)?;
            refill(again.payload_mut())?;
            // SAFETY: `refill` initialized the whole payload.
            delivered = unsafe { self.send(again) }.map_err(|e| self.blocked(e))?;
        }
        Ok(())
    }

    /// A send to the keep-all lane fails when a subscription's queue stayed full for
    /// `RMW_SHM_RS_MAX_BLOCKING_MS` (the backpressure handler gave up, the sample is not
    /// delivered): say so, with the limit.
    fn blocked(&self, e: Error) -> Error {
        if self.lane != Lane::KeepAll {
            return e;
        }
        Error::Other(format!(
            "a KEEP_ALL subscription on '{}' kept its queue full for {:?} \
             (RMW_SHM_RS_MAX_BLOCKING_MS): {e}",
            self.service.name(),
            TopicLimits::get().max_blocking
        ))
    }
}

struct Ports {
    lanes: Vec<Port>,
    doorbell: Arc<Doorbell>,
}

/// A loaned sample of the volatile lane: the memory of a loaned message, every byte of it
/// initialized (zeroed on the sample's first loan, then holding what was last written into it).
/// Dropping it returns the sample to the publisher's pool unsent.
pub struct PublisherLoan {
    sample: SampleMutUninit<Svc, [MaybeUninit<u8>], SampleHeader>,
}

impl PublisherLoan {
    /// The payload bytes, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let p = self.sample.payload_mut();
        // SAFETY: `ShmPublisher::loan` zeroed every byte of this sample the first time it lent
        // it; since then only initialized bytes were written into it (serialized CDR, loaned
        // messages), so all `len` bytes are initialized.
        unsafe { std::slice::from_raw_parts_mut(p.as_mut_ptr().cast::<u8>(), p.len()) }
    }

    /// The payload bytes.
    pub fn payload(&self) -> &[u8] {
        let p = self.sample.payload();
        // SAFETY: as in `payload_mut`.
        unsafe { std::slice::from_raw_parts(p.as_ptr().cast::<u8>(), p.len()) }
    }

    /// Where the payload starts: the key of the loan.
    pub fn addr(&self) -> usize {
        self.sample.payload().as_ptr() as usize
    }
}

/// A publisher's shared-memory ports.
pub struct ShmPublisher {
    name: String,
    ports: Arc<Slot<Ports>>,
    /// Samples (payload address, length) already zeroed by a loan: the pool is fixed, so after
    /// the first loan of each sample a loan costs no pass over the payload (a 4 MiB memset
    /// was most of a 4 MiB loaned message's latency).
    zeroed: std::sync::Mutex<std::collections::HashSet<(usize, usize)>>,
}

impl ShmPublisher {
    /// Creates the publisher ports of topic service `name`; `transient` for TRANSIENT_LOCAL.
    /// The keep-all lane is added by [`serve_keep_all`](Self::serve_keep_all) once such a
    /// subscription appears.
    pub fn new(ctx: &ShmContext, name: &str, transient: bool) -> Result<Self> {
        let mut lanes = vec![Port::new(ctx, name, Lane::Volatile)?];
        if transient {
            lanes.push(Port::new(ctx, name, Lane::TransientLocal)?);
        }
        let ports = Ports {
            lanes,
            doorbell: ctx.doorbell().clone(),
        };
        Ok(Self {
            name: name.to_owned(),
            ports: Slot::new(ports, Kind::Ports),
            zeroed: Default::default(),
        })
    }

    /// Adds the keep-all lane (for RELIABLE KEEP_ALL subscriptions) if it is not there yet.
    pub fn serve_keep_all(&self, ctx: &ShmContext) -> Result<()> {
        let present = self
            .ports
            .get()?
            .lanes
            .iter()
            .any(|p| p.lane == Lane::KeepAll);
        if !present {
            let port = Port::new(ctx, &self.name, Lane::KeepAll)?;
            self.ports.update(|p| {
                if !p.lanes.iter().any(|p| p.lane == Lane::KeepAll) {
                    p.lanes.push(port);
                }
            })?;
        }
        Ok(())
    }

    /// Sends one sample of exactly `len()` bytes, which `fill` writes (returning how many it
    /// wrote, which must be `len()`), to every connected subscription, and wakes them.
    /// `intra_served` volatile-lane subscriptions of this process get the message
    /// intra-process: when nobody else listens, nothing is sized, written or sent. `also` gets
    /// the written bytes before they are sent (the delegate carries the same bytes to other
    /// hosts); it is not called when no lane needed them. `fill` runs again only when a
    /// keep-all lane sample must be sent again (see [`Port::send_reliably`]).
    pub fn publish(
        &self,
        header: SampleHeader,
        intra_served: usize,
        len: impl FnOnce() -> Result<usize>,
        fill: impl Fn(&mut [MaybeUninit<u8>]) -> Result<usize>,
        also: impl FnOnce(&[u8]) -> Result<()>,
    ) -> Result<()> {
        let ports = self.ports.get()?;
        let mut lanes = ports.lanes.iter().filter(|p| p.needed(intra_served));
        let Some(first_port) = lanes.next() else {
            return Ok(());
        };
        let len = len()?;
        let write = |buf: &mut [MaybeUninit<u8>]| match fill(buf)? {
            written if written == len => Ok(()),
            written => Err(Error::Other(format!(
                "serializer wrote {written} bytes into a sample of {len}"
            ))),
        };
        let mut first = first_port.loan(len, header)?;
        let mut rest = Vec::with_capacity(ports.lanes.len());
        for p in lanes {
            rest.push((p, p.loan(len, header)?));
        }
        write(first.payload_mut())?;
        for (_, other) in &mut rest {
            other.payload_mut().copy_from_slice(first.payload());
            crate::counters::record_copy(len);
        }
        let p = first.payload();
        // SAFETY: `write` initialized all `len` bytes of the first sample.
        let also = also(unsafe { std::slice::from_raw_parts(p.as_ptr().cast::<u8>(), p.len()) });
        let mut failure = None;
        // The copies go first: until the first sample is sent, a resend copies its bytes. Each
        // lane's subscriptions are rung once its sample is out.
        for (port, sample) in rest {
            let copy = |buf: &mut [MaybeUninit<u8>]| {
                buf.copy_from_slice(first.payload());
                Ok(())
            };
            // SAFETY: a copy of the first sample, all of whose bytes `write` initialized.
            note(&mut failure, unsafe {
                port.send_reliably(sample, &ports.doorbell, &copy)
            });
            port.ring(&ports.doorbell);
        }
        // SAFETY: `write` initialized all `len` bytes of the first sample.
        note(&mut failure, unsafe {
            first_port.send_reliably(first, &ports.doorbell, &write)
        });
        first_port.ring(&ports.doorbell);
        failure.map_or(Ok(()), Err)?;
        also
    }

    /// Loans a sample of `len` bytes from the volatile lane, for a loaned message. Its payload
    /// is aligned to [`MAX_C_ALIGN`](crate::typesupport::MAX_C_ALIGN) (the service's payload
    /// alignment) and initialized: zeroes on the sample's first loan, afterwards whatever was
    /// last written into it.
    pub fn loan(&self, len: usize) -> Result<PublisherLoan> {
        let ports = self.ports.get()?;
        let port = ports
            .lanes
            .iter()
            .find(|p| p.lane == Lane::Volatile)
            .ok_or_else(|| Error::Other("the publisher has no volatile lane".into()))?;
        let mut sample = port.publisher.loan_slice_uninit(len).map_err(loan_error)?;
        port.backing.ensure(sample.payload_mut())?;
        let key = (sample.payload().as_ptr() as usize, len);
        let mut zeroed = self.zeroed.lock().unwrap_or_else(|e| e.into_inner());
        if zeroed.insert(key) {
            sample.payload_mut().fill(MaybeUninit::new(0));
        }
        Ok(PublisherLoan { sample })
    }

    /// Sends a loaned sample whose whole payload the caller initialized, as a raw C struct
    /// ([`SampleHeader::RAW`]): zero copies into the volatile lane; the transient-local and
    /// keep-all lanes, when served, get a copy. Wakes the subscriptions. The loan itself is
    /// dropped unsent when the volatile lane has no subscribers beyond the `intra_served` ones.
    pub fn publish_loan(
        &self,
        loan: PublisherLoan,
        mut header: SampleHeader,
        intra_served: usize,
    ) -> Result<()> {
        header.format = SampleHeader::RAW;
        let mut first = loan.sample;
        *first.user_header_mut() = header;
        let ports = self.ports.get()?;
        let len = first.payload().len();
        let mut copies = Vec::new();
        let mut volatile = None;
        for p in ports.lanes.iter().filter(|p| p.needed(intra_served)) {
            if p.lane == Lane::Volatile {
                volatile = Some(p);
                continue;
            }
            let mut sample = p.loan(len, header)?;
            sample.payload_mut().copy_from_slice(first.payload());
            crate::counters::record_copy(len);
            copies.push((p, sample));
        }
        if copies.is_empty() && volatile.is_none() {
            return Ok(());
        }
        let mut failure = None;
        // The copies go first: until the loan is sent, a resend copies its bytes. Each lane's
        // subscriptions are rung once its sample is out.
        for (port, sample) in copies {
            let copy = |buf: &mut [MaybeUninit<u8>]| {
                buf.copy_from_slice(first.payload());
                Ok(())
            };
            // SAFETY: a copy of the loan, whose whole payload the caller initialized
            // (`publish_loan`'s contract, upheld by the publisher entity, which initializes it
            // when borrowing).
            note(&mut failure, unsafe {
                port.send_reliably(sample, &ports.doorbell, &copy)
            });
            port.ring(&ports.doorbell);
        }
        if let Some(port) = volatile {
            // SAFETY: as above, the caller initialized the loan's whole payload.
            note(&mut failure, unsafe { port.send(first) }.map(drop));
            port.ring(&ports.doorbell);
        }
        failure.map_or(Ok(()), Err)
    }

    /// Delivers the transient-local history to subscriptions that appeared since the last
    /// publish, and wakes them. Called when the graph changes.
    pub fn refresh(&self) {
        if let Ok(ports) = self.ports.get() {
            for p in ports
                .lanes
                .iter()
                .filter(|p| p.lane == Lane::TransientLocal)
            {
                let _ = p.publisher.update_connections();
                p.ring(&ports.doorbell);
            }
        }
    }
}

type Uninit = iceoryx2::sample_mut_uninit::SampleMutUninit<Svc, [MaybeUninit<u8>], SampleHeader>;

/// The error of a failed loan; running out of samples names the pool's limit.
fn loan_error(e: iceoryx2::port::LoanError) -> Error {
    let hint = if matches!(e, iceoryx2::port::LoanError::OutOfMemory) {
        " (all RMW_SHM_RS_PUBLISHER_SAMPLES samples of this publisher are held by subscriptions' \
         queues, takes and loans)"
    } else {
        ""
    };
    Error::transport(&format!("cannot loan a shared-memory sample{hint}"), e)
}

/// Keeps the last failure of several sends (all are tried even when one fails).
fn note(failure: &mut Option<Error>, result: Result<()>) {
    if let Err(e) = result {
        *failure = Some(e);
    }
}
