//! The DDS graph watcher: one thread per delegate context waiting (with the delegate's own
//! `rmw_wait`) on a delegate node's graph guard condition, so that remote graph changes drop
//! the remote graph snapshot and trigger our nodes' graph guard conditions, as local changes do.
//!
//! The thread holds the context only for one wait (at most 200 ms) at a time and ends when the
//! context is gone.

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::api;
use super::DdsContext;
use crate::sys::*;

const SLICE: rmw_time_t = rmw_time_t {
    sec: 0,
    nsec: 200_000_000,
};

/// The watcher's loop.
pub(super) fn run(context: Weak<DdsContext>, on_change: Box<dyn Fn() + Send + Sync>) {
    while let Some(ctx) = context.upgrade() {
        let node = {
            let nodes = ctx.nodes.lock().unwrap_or_else(|e| e.into_inner());
            nodes.iter().find_map(Weak::upgrade)
        };
        let Some(node) = node else {
            drop(ctx);
            std::thread::sleep(Duration::from_millis(200));
            continue;
        };
        match wait_once(&ctx, node.node) {
            Ok(true) => {
                tracing::debug!(target: "rmw_shm_rs::delegate", "DDS graph changed");
                *ctx.graph_cache.lock().unwrap_or_else(|e| e.into_inner()) = None;
                on_change();
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(target: "rmw_shm_rs::delegate", "DDS graph watcher stopped: {e}");
                return;
            }
        }
    }
}

/// Waits up to 200 ms for the node's graph guard condition; true when it triggered.
fn wait_once(ctx: &Arc<DdsContext>, node: *mut rmw_node_t) -> crate::error::Result<bool> {
    let d = ctx.delegate;
    // SAFETY: a live delegate node (the caller holds it).
    let gc = unsafe { api::rmw_node_get_graph_guard_condition(d)?(node) };
    if gc.is_null() {
        return Ok(false);
    }
    let ctx_ptr: *const rmw_context_t = &*ctx.context;
    // SAFETY: a live delegate context; the wait set is destroyed below.
    let ws = unsafe { api::rmw_create_wait_set(d)?(ctx_ptr.cast_mut(), 1) };
    if ws.is_null() {
        // SAFETY: resets the delegate's error state.
        unsafe { rcutils_reset_error() };
        return Ok(false);
    }
    // rcl passes the guard condition's `data`, not the handle (FACTS.md).
    // SAFETY: a guard condition handle owned by the live node.
    let mut slot = [unsafe { (*gc).data }];
    let mut gcs = rmw_guard_conditions_t {
        guard_condition_count: 1,
        guard_conditions: slot.as_mut_ptr(),
    };
    let wait = api::rmw_wait(d)?;
    // SAFETY: a live wait set and guard condition; null entity arrays are allowed.
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
    Ok(r == crate::error::RET_OK && !slot[0].is_null())
}
