//! Guard conditions: a flag plus an eventfd, so a wait set can block on them with `poll`.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::event::{eventfd, EventfdFlags};

use crate::error::{Error, Result};

/// A guard condition (`rmw_guard_condition_t`). Thread-safe: any thread may trigger it.
pub struct GuardCondition {
    triggered: AtomicBool,
    fd: OwnedFd,
}

impl GuardCondition {
    /// A new, untriggered guard condition.
    pub fn new() -> Result<Self> {
        let fd = eventfd(0, EventfdFlags::NONBLOCK | EventfdFlags::CLOEXEC)
            .map_err(|e| Error::BadAlloc(format!("cannot create an eventfd: {e}")))?;
        Ok(Self {
            triggered: AtomicBool::new(false),
            fd,
        })
    }

    /// Triggers it: wakes every wait set waiting on it; stays triggered until a wait reports it.
    pub fn trigger(&self) {
        self.triggered.store(true, Ordering::SeqCst);
        let _ = rustix::io::write(&self.fd, &1u64.to_ne_bytes());
    }

    /// Whether it is triggered, without consuming the trigger.
    pub fn is_triggered(&self) -> bool {
        self.triggered.load(Ordering::SeqCst)
    }

    /// Consumes the trigger (what `rmw_wait` does when it reports the condition ready).
    pub fn take_trigger(&self) -> bool {
        self.triggered.swap(false, Ordering::SeqCst)
    }

    /// Consumes pending wake-ups of the file descriptor. The flag, not the descriptor, is the
    /// truth: a wait drains first and reads the flag after, so no trigger is missed.
    pub fn drain_wakeups(&self) {
        let mut buf = [0u8; 8];
        let _ = rustix::io::read(&self.fd, &mut buf);
    }

    /// Readable while a trigger is pending.
    pub fn wakeup_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
