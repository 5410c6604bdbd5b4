//! The DDS graph watcher: one thread per delegate context waiting (with the delegate's own
//! `rmw_wait`) on a delegate node's graph guard condition, so that remote graph changes drop
//! the remote graph snapshot and trigger our nodes' graph guard conditions, as local changes do.
//!
//! The thread holds the context only for one wait (at most 200 ms) at a time. It is stopped and
//! joined by [`stop`] when our context shuts down or is finalized, and by [`stop_all`] at process
//! exit (before Fast DDS's static destructors run), so it never runs into a torn-down delegate.
//! A delegate guard condition in the same wait set ends a wait early when the watcher is stopped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use super::api;
use super::DdsContext;
use crate::finished::{Finished, SetOnDrop};
use crate::sys::*;

const SLICE: rmw_time_t = rmw_time_t {
    sec: 0,
    nsec: 200_000_000,
};

/// A delegate guard condition that wakes the watcher's wait (null when it could not be made).
#[derive(Clone, Copy)]
struct Wake(*mut rmw_guard_condition_t);

// SAFETY: a delegate guard condition may be triggered and waited on from any thread (rmw.h);
// it is destroyed only after the watcher thread was joined.
unsafe impl Send for Wake {}

/// A running watcher.
struct Watcher {
    /// The address of the watched context (its identity while it lives).
    context: usize,
    stop: Arc<AtomicBool>,
    wake: Wake,
    thread: JoinHandle<()>,
    finished: Arc<Finished>,
}

/// How long a stop waits for the watcher to end before leaving it be (it then ends on its own
/// after its current wait; a stop never hangs on the delegate).
const STOP_TIMEOUT: Duration = Duration::from_secs(2);

/// The running watchers of this process.
static WATCHERS: Mutex<Vec<Watcher>> = Mutex::new(Vec::new());

fn watchers() -> std::sync::MutexGuard<'static, Vec<Watcher>> {
    WATCHERS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts the watcher of `ctx` (the caller makes sure it is started once per context).
pub(super) fn start(ctx: &Arc<DdsContext>, on_change: Box<dyn Fn() + Send + Sync>) {
    let d = ctx.delegate;
    let ctx_ptr: *const rmw_context_t = &*ctx.context;
    let wake = match api::rmw_create_guard_condition(d) {
        // SAFETY: a live delegate context; the guard condition is destroyed in `stop`.
        Ok(create) => Wake(unsafe { create(ctx_ptr.cast_mut()) }),
        Err(_) => Wake(std::ptr::null_mut()),
    };
    if wake.0.is_null() {
        // SAFETY: resets the delegate's error state (the watcher then stops within 200 ms).
        unsafe { rcutils_reset_error() };
    }
    let stop = Arc::new(AtomicBool::new(false));
    let weak = Arc::downgrade(ctx);
    let flag = stop.clone();
    let finished = Arc::new(Finished::default());
    let on_exit = SetOnDrop(finished.clone());
    let spawned = std::thread::Builder::new()
        .name("rmw_shm_rs-dds-graph".into())
        .spawn(move || {
            let _on_exit = on_exit;
            run(weak, &flag, wake, on_change);
        });
    match spawned {
        Ok(thread) => watchers().push(Watcher {
            context: Arc::as_ptr(ctx) as usize,
            stop,
            wake,
            thread,
            finished,
        }),
        Err(e) => {
            tracing::warn!(target: "rmw_shm_rs::delegate", "cannot start the DDS graph watcher: {e}");
            destroy_wake(ctx, wake);
        }
    }
}

/// Stops and joins the watcher of `ctx`, if any, then destroys its guard condition.
pub(super) fn stop(ctx: &DdsContext) {
    let id = std::ptr::from_ref(ctx) as usize;
    let found = {
        let mut all = watchers();
        all.iter()
            .position(|w| w.context == id)
            .map(|i| all.swap_remove(i))
    };
    if let Some(w) = found {
        let wake = w.wake;
        if halt(w) {
            destroy_wake(ctx, wake);
        }
    }
}

/// Stops and joins every watcher (at process exit). Their guard conditions are left to the
/// process's end: destroying them would call into a delegate that is being torn down.
pub(super) fn stop_all() {
    let all = std::mem::take(&mut *watchers());
    for w in all {
        halt(w);
    }
}

/// Asks `w` to stop, wakes it and joins it; false when called from the watcher itself or when
/// it did not end within [`STOP_TIMEOUT`] (it then ends after its current wait, on its own).
fn halt(w: Watcher) -> bool {
    w.stop.store(true, Ordering::SeqCst);
    if !w.wake.0.is_null() {
        if let Ok(trigger) = super::Delegate::get().and_then(api::rmw_trigger_guard_condition) {
            // SAFETY: a live delegate guard condition (destroyed only after the join below).
            unsafe {
                let _ = trigger(w.wake.0);
                rcutils_reset_error();
            }
        }
    }
    if w.thread.thread().id() == std::thread::current().id() {
        return false;
    }
    if !w.finished.wait(STOP_TIMEOUT) {
        tracing::warn!(target: "rmw_shm_rs::delegate", "the DDS graph watcher did not stop within {STOP_TIMEOUT:?}; left to end on its own");
        return false;
    }
    let _ = w.thread.join();
    true
}

fn destroy_wake(ctx: &DdsContext, wake: Wake) {
    if wake.0.is_null() {
        return;
    }
    if let Ok(destroy) = api::rmw_destroy_guard_condition(ctx.delegate) {
        // SAFETY: created by `start` for this context, no longer waited on; destroyed once.
        unsafe {
            let _ = destroy(wake.0);
            rcutils_reset_error();
        }
    }
}

/// The watcher's loop: until stopped or the context is gone.
fn run(
    context: Weak<DdsContext>,
    stop: &AtomicBool,
    wake: Wake,
    on_change: Box<dyn Fn() + Send + Sync>,
) {
    while !stop.load(Ordering::SeqCst) {
        let Some(ctx) = context.upgrade() else { return };
        let node = {
            let nodes = ctx.nodes.lock().unwrap_or_else(|e| e.into_inner());
            nodes.iter().find_map(Weak::upgrade)
        };
        let Some(node) = node else {
            drop(ctx);
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        match wait_once(&ctx, node.node, wake) {
            Ok(true) if !stop.load(Ordering::SeqCst) => {
                tracing::debug!(target: "rmw_shm_rs::delegate", "DDS graph changed");
                *ctx.graph_cache.lock().unwrap_or_else(|e| e.into_inner()) = None;
                on_change();
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(target: "rmw_shm_rs::delegate", "DDS graph watcher stopped: {e}");
                return;
            }
        }
    }
}

/// Waits up to 200 ms for the node's graph guard condition or `wake`; true when the graph
/// guard condition triggered.
fn wait_once(
    ctx: &Arc<DdsContext>,
    node: *mut rmw_node_t,
    wake: Wake,
) -> crate::error::Result<bool> {
    let d = ctx.delegate;
    // SAFETY: a live delegate node (the caller holds it).
    let gc = unsafe { api::rmw_node_get_graph_guard_condition(d)?(node) };
    if gc.is_null() {
        return Ok(false);
    }
    let ctx_ptr: *const rmw_context_t = &*ctx.context;
    // SAFETY: a live delegate context; the wait set is destroyed below.
    let ws = unsafe { api::rmw_create_wait_set(d)?(ctx_ptr.cast_mut(), 2) };
    if ws.is_null() {
        // SAFETY: resets the delegate's error state.
        unsafe { rcutils_reset_error() };
        return Ok(false);
    }
    // rcl passes the guard condition's `data`, not the handle (FACTS.md).
    // SAFETY: a guard condition handle owned by the live node.
    let mut slots = [unsafe { (*gc).data }, std::ptr::null_mut()];
    let mut count = 1;
    if !wake.0.is_null() {
        // SAFETY: the watcher's own live guard condition.
        slots[1] = unsafe { (*wake.0).data };
        count = 2;
    }
    let mut gcs = rmw_guard_conditions_t {
        guard_condition_count: count,
        guard_conditions: slots.as_mut_ptr(),
    };
    let wait = api::rmw_wait(d)?;
    // SAFETY: a live wait set and guard conditions; null entity arrays are allowed.
    let r = unsafe {
        wait(
            std::ptr::null_mut(),
            &mut gcs,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            ws,
            &SLICE,
        )
    };
    // SAFETY: created above, destroyed once.
    unsafe {
        if let Ok(f) = api::rmw_destroy_wait_set(d) {
            let _ = f(ws);
        }
        rcutils_reset_error();
    }
    Ok(r == crate::error::RET_OK && !slots[0].is_null())
}
