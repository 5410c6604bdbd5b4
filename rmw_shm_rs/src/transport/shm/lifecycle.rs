//! Releasing shared-memory resources when a process exits without destroying its entities.
//!
//! rclpy programs commonly end with `rclpy.shutdown()` and never destroy their nodes; Rust
//! statics and leaked entities are not dropped at exit, so their iceoryx2 ports would leave
//! files in /dev/shm until another process's dead-node cleanup removed them. Every port set
//! therefore lives in a [`Slot`] registered here, and an `atexit` handler empties all slots
//! (ports first, then nodes), which removes the files. A killed process cannot run it: for
//! that case every new context runs iceoryx2's dead-node cleanup (see [`super::cleanup_dead_nodes`]).

use std::sync::{Arc, Mutex, Once, Weak};

use parking_lot::{MappedRwLockReadGuard, RwLock, RwLockReadGuard};

use crate::error::{Error, Result};

/// How long the release at exit waits for a slot with a waker: more than the longest wait
/// such a slot's borrower makes (the graph worker's 100 ms).
const BOUNDED_WAIT_PATIENCE: std::time::Duration = std::time::Duration::from_millis(300);

/// Shared-memory resources that can be torn down while handles to them still exist.
pub struct Slot<T> {
    inner: RwLock<Option<T>>,
    /// Wakes a thread that blocks while borrowing the resources (a listener's wait), so that
    /// the release at exit does not give up on it.
    waker: Option<fn(&T)>,
}

trait Release: Send + Sync {
    fn release(&self);
}

impl<T: Send + Sync> Release for Slot<T> {
    fn release(&self) {
        // A thread blocked in rmw_wait holds a read guard; never hang the exit on it: what
        // cannot be released now is left to the next process's dead-node cleanup.
        let mut patience = std::time::Duration::from_millis(100);
        if let Some(wake) = self.waker {
            if let Some(g) = self.inner.try_read() {
                if let Some(v) = g.as_ref() {
                    wake(v);
                }
            }
            // The wake-up does not always end the wait at once (seen with iceoryx2 0.10
            // listeners): outlast a whole bounded wait instead.
            patience = BOUNDED_WAIT_PATIENCE;
        }
        if let Some(mut g) = self.inner.try_write_for(patience) {
            drop(g.take());
        }
    }
}

/// Weak references to every live slot, ports in `ports`, nodes in `nodes`.
struct Registry {
    ports: Vec<Weak<dyn Release>>,
    nodes: Vec<Weak<dyn Release>>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    ports: Vec::new(),
    nodes: Vec::new(),
});

extern "C" fn release_all_at_exit() {
    // A panic must not unwind into libc's exit path.
    let _ = std::panic::catch_unwind(release_all);
}

/// Tears down every registered port, then every node.
pub fn release_all() {
    let (ports, nodes) = {
        let mut r = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        (std::mem::take(&mut r.ports), std::mem::take(&mut r.nodes))
    };
    for w in ports.iter().chain(&nodes) {
        if let Some(s) = w.upgrade() {
            s.release();
        }
    }
}

fn install_exit_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: registers a plain `extern "C" fn()` that catches panics.
        unsafe { libc::atexit(release_all_at_exit) };
    });
}

/// What a slot holds: decides which list it is released with.
pub enum Kind {
    /// Publisher, subscriber, notifier, listener ports.
    Ports,
    /// An iceoryx2 node (released after all ports).
    Node,
}

impl<T: Send + Sync + 'static> Slot<T> {
    /// Wraps `value` and registers it for release at exit.
    pub fn new(value: T, kind: Kind) -> Arc<Self> {
        Self::register(value, kind, None)
    }

    /// Like [`Slot::new`], for resources a thread borrows while blocking for at most 100 ms:
    /// at exit `waker` runs on them first (under a shared borrow) to end that wait, and the
    /// release waits up to 300 ms for it, so they are released instead of left for the next
    /// process's dead-node cleanup.
    pub fn with_waker(value: T, kind: Kind, waker: fn(&T)) -> Arc<Self> {
        Self::register(value, kind, Some(waker))
    }

    fn register(value: T, kind: Kind, waker: Option<fn(&T)>) -> Arc<Self> {
        install_exit_hook();
        let slot = Arc::new(Slot {
            inner: RwLock::new(Some(value)),
            waker,
        });
        let weak: Weak<dyn Release> = Arc::downgrade(&slot) as Weak<dyn Release>;
        let mut r = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        let list = match kind {
            Kind::Ports => &mut r.ports,
            Kind::Node => &mut r.nodes,
        };
        if list.len() >= 64 && list.len().is_power_of_two() {
            list.retain(|w| w.strong_count() > 0);
        }
        list.push(weak);
        slot
    }

    /// Changes the resources; fails once they were released.
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<R> {
        let mut g = self.inner.write();
        let v = g.as_mut().ok_or_else(|| {
            Error::Other("shared-memory resources were released (process exiting)".into())
        })?;
        Ok(f(v))
    }

    /// Borrows the resources; fails once they were released (the process is exiting).
    pub fn get(&self) -> Result<MappedRwLockReadGuard<'_, T>> {
        RwLockReadGuard::try_map(self.inner.read(), Option::as_ref).map_err(|_| {
            Error::Other("shared-memory resources were released (process exiting)".into())
        })
    }
}
