//! The end of a background thread (the graph worker, the DDS graph watcher), awaited with a
//! bound: a stop at process exit must never hang on a thread that is stuck.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Set when a thread ends (also by a panic, through [`SetOnDrop`]).
#[derive(Default)]
pub(crate) struct Finished {
    done: Mutex<bool>,
    cv: Condvar,
}

impl Finished {
    fn set(&self) {
        *self.done.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cv.notify_all();
    }

    /// Waits up to `timeout` for the thread to end; true when it did.
    pub(crate) fn wait(&self, timeout: Duration) -> bool {
        let done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        let (done, _) = self
            .cv
            .wait_timeout_while(done, timeout, |d| !*d)
            .unwrap_or_else(|e| e.into_inner());
        *done
    }
}

/// Marks a thread finished when it leaves its body, however it leaves: moved into the thread.
pub(crate) struct SetOnDrop(pub(crate) std::sync::Arc<Finished>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
}
