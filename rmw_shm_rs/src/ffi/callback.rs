//! rmw/rmw.h and rmw/event.h listener callbacks: `rmw_subscription_set_on_new_message_callback`,
//! `rmw_service_set_on_new_request_callback`, `rmw_client_set_on_new_response_callback`,
//! `rmw_event_set_callback` (wait/dispatch.rs runs them).

use std::ffi::c_void;
use std::sync::Arc;

use super::event::event_status;
use super::handles::{entity_arc, Shell};
use crate::entity::event::EndpointStatus;
use crate::error::Result;
use crate::rmw_export;
use crate::sys::*;
use crate::wait::dispatch::{Callback, Source};

/// A C callback and its user data.
struct CCallback {
    f: unsafe extern "C" fn(*const c_void, usize),
    user_data: *const c_void,
}

// SAFETY: the rmw API lets the middleware call the callback from its own threads; the caller
// keeps `user_data` valid until it unsets the callback (rmw/event_callback_type.h).
unsafe impl Send for CCallback {}
// SAFETY: as above; the callback is only ever called, never mutated.
unsafe impl Sync for CCallback {}

impl CCallback {
    fn call(&self, n: usize) {
        // SAFETY: see `CCallback`'s Send/Sync: a valid C callback with its user data.
        unsafe { (self.f)(self.user_data, n) }
    }
}

fn wrap(callback: rmw_event_callback_t, user_data: *const c_void) -> Option<Callback> {
    let c = CCallback {
        f: callback?,
        user_data,
    };
    Some(Box::new(move |n| c.call(n)))
}

fn key<S>(handle: *const S) -> usize {
    handle as usize
}

/// Sets or unsets the callback of a subscription, service or client handle.
///
/// # Safety
/// `handle` is null or a handle of the given shell type.
unsafe fn set<S: Shell>(
    handle: *const S,
    source: impl FnOnce(&Arc<S::Entity>) -> Source,
    context: impl FnOnce(&S::Entity) -> &crate::entity::Context,
    callback: rmw_event_callback_t,
    user_data: *const c_void,
) -> Result<()> {
    // SAFETY: per the caller; checked by `entity_arc`.
    let e = unsafe { entity_arc(handle)? };
    let src = source(&e);
    context(&e)
        .dispatcher()?
        .set(key(handle), src, wrap(callback, user_data))
}

rmw_export! {
    /// Calls `callback(user_data, n)` for every `n` new messages (at once for messages already
    /// waiting), from a middleware thread; a null callback unsets it.
    forward(subscription);
    fn rmw_subscription_set_on_new_message_callback(subscription: *mut rmw_subscription_t, callback: rmw_event_callback_t, user_data: *const c_void) -> rmw_ret_t {
        // SAFETY: null or a subscription handle.
        unsafe {
            set(subscription.cast_const(), |s| Source::Subscription(Arc::downgrade(s)), |s| &s.node.context, callback, user_data)
        }
    }
}

rmw_export! {
    /// Calls `callback(user_data, n)` for every `n` new requests; a null callback unsets it.
    forward(service);
    fn rmw_service_set_on_new_request_callback(service: *mut rmw_service_t, callback: rmw_event_callback_t, user_data: *const c_void) -> rmw_ret_t {
        // SAFETY: null or a service handle.
        unsafe { set(service.cast_const(), |s| Source::Service(Arc::downgrade(s)), |s| &s.node.context, callback, user_data) }
    }
}

rmw_export! {
    /// Calls `callback(user_data, n)` for every `n` new responses; a null callback unsets it.
    forward(client);
    fn rmw_client_set_on_new_response_callback(client: *mut rmw_client_t, callback: rmw_event_callback_t, user_data: *const c_void) -> rmw_ret_t {
        // SAFETY: null or a client handle.
        unsafe { set(client.cast_const(), |c| Source::Client(Arc::downgrade(c)), |c| &c.node.context, callback, user_data) }
    }
}

rmw_export! {
    /// Calls `callback(user_data, 1)` whenever the event's status changes while it has
    /// something to take; a null callback unsets it.
    forward(event);
    fn rmw_event_set_callback(event: *mut rmw_event_t, callback: rmw_event_callback_t, user_data: *const c_void) -> rmw_ret_t {
        // SAFETY: null or an event of ours; checked.
        let (status, kind) = unsafe { event_status(event.cast_const())? };
        let ptr: *const EndpointStatus = status;
        // SAFETY: an event's data is `Arc::as_ptr` of its endpoint's live `Arc<EndpointStatus>`
        // (ffi/event.rs), so one more strong reference may be made from it.
        let status = unsafe {
            Arc::increment_strong_count(ptr);
            Arc::from_raw(ptr)
        };
        let context = status
            .context()
            .ok_or_else(|| crate::error::Error::invalid("the event's context is gone"))?;
        let src = Source::Event(Arc::downgrade(&status), kind);
        context.dispatcher()?.set(key(event.cast_const()), src, wrap(callback, user_data))
    }
}
