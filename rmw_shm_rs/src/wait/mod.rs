//! `rmw_wait`: block until a subscription has data, a service a request, a client a response, or
//! a guard condition is triggered, without busy-polling.
//!
//! Every waitable owns an eventfd that becomes readable when it may have become ready (rung by
//! writers of its own context, by the delegate, or by whoever drains the context's doorbell:
//! shared-memory writers of other processes ring that, see `transport/shm/doorbell.rs`); the
//! doorbell of each context in the wait set is polled too.
//! A wait round checks the real state (samples, requests or responses queued, trigger flags,
//! event statuses); if nothing is ready it drains those wake-ups (doorbells first, passing
//! their events on to the waitables' eventfds), checks again, and only then
//! sleeps in `poll(2)` on all descriptors. Because the last drain happens before the last
//! check, a publish or trigger that lands after that check leaves its descriptor readable and
//! ends the `poll`: no wake-up is lost. Nothing outlives the call: rclpy creates and destroys a
//! wait set every spin.

pub mod dispatch;
mod spin;

use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};

use crate::entity::event::{EndpointStatus, EventKind};
use crate::entity::{Client, GuardCondition, Service, Subscription};
use crate::error::{Error, Result};
use crate::transport::shm::{collect_doorbell, Doorbell};

/// What `rmw_wait` waits on, borrowed for one call. `None` entries (null pointers in rcl's
/// arrays) are skipped.
pub struct Waitables<'a> {
    /// Subscriptions, in the caller's order.
    pub subscriptions: Vec<Option<&'a Subscription>>,
    /// Guard conditions, in the caller's order.
    pub guard_conditions: Vec<Option<&'a GuardCondition>>,
    /// Service servers, in the caller's order.
    pub services: Vec<Option<&'a Service>>,
    /// Service clients, in the caller's order.
    pub clients: Vec<Option<&'a Client>>,
    /// QoS events (an endpoint's status and the event kind), in the caller's order.
    pub events: Vec<Option<(&'a EndpointStatus, EventKind)>>,
}

/// Which entries are ready, in the same order as [`Waitables`].
#[derive(Debug, Default)]
pub struct Ready {
    /// Per subscription.
    pub subscriptions: Vec<bool>,
    /// Per guard condition (their triggers are consumed).
    pub guard_conditions: Vec<bool>,
    /// Per service: a request is waiting.
    pub services: Vec<bool>,
    /// Per client: a response is waiting.
    pub clients: Vec<bool>,
    /// Per event: its status changed since it was last taken.
    pub events: Vec<bool>,
}

impl Ready {
    fn any(&self) -> bool {
        self.subscriptions
            .iter()
            .chain(&self.guard_conditions)
            .chain(&self.services)
            .chain(&self.clients)
            .chain(&self.events)
            .any(|r| *r)
    }
}

impl Waitables<'_> {
    /// The distinct doorbells of the contexts of the waitables (usually one).
    fn doorbells(&self) -> Vec<&Doorbell> {
        let mut d = Vec::with_capacity(1);
        for s in self.subscriptions.iter().flatten() {
            collect_doorbell(&mut d, s.doorbell());
        }
        for s in self.services.iter().flatten() {
            collect_doorbell(&mut d, s.doorbell());
        }
        for c in self.clients.iter().flatten() {
            collect_doorbell(&mut d, c.doorbell());
        }
        d
    }

    fn drain(&self, doorbells: &[&Doorbell]) {
        // Doorbells first: they ring the waitables' eventfds, drained next.
        for d in doorbells {
            d.drain();
        }
        self.subscriptions.iter().flatten().for_each(|s| {
            s.drain_wakeups();
        });
        self.guard_conditions.iter().flatten().for_each(|g| {
            g.drain_wakeups();
        });
        self.services.iter().flatten().for_each(|s| {
            s.drain_wakeups();
        });
        self.clients.iter().flatten().for_each(|c| {
            c.drain_wakeups();
        });
        self.events
            .iter()
            .flatten()
            .for_each(|(s, _)| s.wake().drain_wakeups());
    }

    /// Counts deadlines and leases that passed; returns when the next one would.
    fn check_time(&self) -> Option<Instant> {
        self.events
            .iter()
            .flatten()
            .filter_map(|(s, _)| s.check_time())
            .min()
    }

    /// Whether anything is ready, without allocating (the spin loop's check). Events are
    /// left to the full [`check`](Self::check).
    fn any_ready(&self) -> bool {
        self.subscriptions.iter().flatten().any(|s| s.has_data())
            || self
                .guard_conditions
                .iter()
                .flatten()
                .any(|g| g.is_triggered())
            || self.services.iter().flatten().any(|s| s.has_requests())
            || self.clients.iter().flatten().any(|c| c.has_response())
    }

    fn check(&self) -> Ready {
        Ready {
            subscriptions: self
                .subscriptions
                .iter()
                .map(|s| s.is_some_and(|s| s.has_data()))
                .collect(),
            guard_conditions: self
                .guard_conditions
                .iter()
                .map(|g| g.is_some_and(|g| g.is_triggered()))
                .collect(),
            services: self
                .services
                .iter()
                .map(|s| s.is_some_and(|s| s.has_requests()))
                .collect(),
            clients: self
                .clients
                .iter()
                .map(|c| c.is_some_and(|c| c.has_response()))
                .collect(),
            events: self
                .events
                .iter()
                .map(|e| e.is_some_and(|(s, k)| s.pending(k)))
                .collect(),
        }
    }

    fn sleep(&self, doorbells: &[&Doorbell], timeout: Option<Duration>) -> Result<()> {
        let bells: Vec<_> = doorbells.iter().filter_map(|d| d.fd()).collect();
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(
            bells.len()
                + self.subscriptions.len()
                + self.services.len()
                + self.clients.len()
                + self.guard_conditions.len()
                + self.events.len(),
        );
        for b in &bells {
            fds.push(PollFd::new(b, PollFlags::IN));
        }
        for s in self.subscriptions.iter().flatten() {
            fds.push(PollFd::from_borrowed_fd(s.wakeup_fd(), PollFlags::IN));
        }
        for fd in self
            .services
            .iter()
            .flatten()
            .map(|s| s.wakeup_fd())
            .chain(self.clients.iter().flatten().map(|c| c.wakeup_fd()))
        {
            fds.push(PollFd::from_borrowed_fd(fd, PollFlags::IN));
        }
        for g in self.guard_conditions.iter().flatten() {
            fds.push(PollFd::from_borrowed_fd(g.wakeup_fd(), PollFlags::IN));
        }
        for (s, _) in self.events.iter().flatten() {
            fds.push(PollFd::from_borrowed_fd(
                s.wake().wakeup_fd(),
                PollFlags::IN,
            ));
        }
        let ts = timeout.map(|d| Timespec {
            tv_sec: d.as_secs() as i64,
            tv_nsec: d.subsec_nanos() as i64,
        });
        match poll(&mut fds, ts.as_ref()) {
            Ok(_) | Err(rustix::io::Errno::INTR) => Ok(()),
            Err(e) => Err(Error::Other(format!("poll failed: {e}"))),
        }
    }

    /// Waits until something is ready or `timeout` passes (`None`: forever; zero: just check).
    /// Returns what is ready, consuming the triggers of the guard conditions it reports; fails
    /// with [`Error::Timeout`] when nothing became ready.
    pub fn wait(&self, timeout: Option<Duration>) -> Result<Ready> {
        let started = Instant::now();
        let result = self.wait_inner(started, timeout);
        if !matches!(timeout, Some(t) if t.is_zero()) {
            spin::record(started, result.is_ok());
        }
        result
    }

    fn wait_inner(&self, started: Instant, timeout: Option<Duration>) -> Result<Ready> {
        let deadline = timeout.map(|t| started + t);
        let mut may_spin = !matches!(timeout, Some(t) if t.is_zero());
        // Worked out at most once per wait, and only when nothing was ready at first look:
        // drained before each later look and polled while sleeping.
        let mut doorbells = None;
        loop {
            // Something already waiting is reported without touching the descriptors (the
            // common case under load: one syscall less per wait). Otherwise drain, then look
            // again before sleeping, so nothing that arrived in between is slept through.
            let mut next_event = self.check_time();
            let mut ready = self.check();
            if !ready.any() && may_spin {
                // Spin once per wait, bounded by the budget and the timeout.
                may_spin = false;
                if let Some(mut budget) = spin::should_spin() {
                    if let Some(d) = deadline {
                        budget = budget.min(d.saturating_duration_since(Instant::now()));
                    }
                    if spin::spin(budget, || self.any_ready()) {
                        ready = self.check();
                    }
                }
            }
            if !ready.any() {
                self.drain(doorbells.get_or_insert_with(|| self.doorbells()));
                next_event = self.check_time();
                ready = self.check();
            }
            if ready.any() {
                for (g, r) in self.guard_conditions.iter().zip(&ready.guard_conditions) {
                    if let (Some(g), true) = (g, r) {
                        g.take_trigger();
                    }
                }
                return Ok(ready);
            }
            let now = Instant::now();
            let remaining = match deadline {
                None => None,
                Some(d) => {
                    if now >= d {
                        return Err(Error::Timeout);
                    }
                    Some(d - now)
                }
            };
            // Wake up when the next deadline or lease would pass, to count it.
            let until_event = next_event.map(|e| e.saturating_duration_since(now));
            let sleep = match (remaining, until_event) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            self.sleep(doorbells.as_deref().unwrap_or_default(), sleep)?;
        }
    }
}
