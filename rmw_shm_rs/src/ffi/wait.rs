//! rmw/rmw.h wait sets and `rmw_wait`.

use std::ffi::c_void;
use std::sync::Arc;
use std::time::Duration;

use super::handles::{borrow_data, entity, into_data, take_data, IDENTIFIER};
use crate::entity::{Client, GuardCondition, Service, Subscription};
use crate::error::Result;
use crate::rmw_export;
use crate::sys::*;
use crate::wait::Waitables;

/// What `rmw_wait_set_t::data` points to. Waits keep no state between calls.
struct WaitSet;

impl super::handles::Entity for WaitSet {}

rmw_export! {
    /// Creates a wait set (rmw/rmw.h). `max_conditions` is not needed: waits allocate nothing
    /// that outlives them.
    forward(context);
    fn rmw_create_wait_set(context: *mut rmw_context_t, max_conditions: usize) -> *mut rmw_wait_set_t = std::ptr::null_mut(); {
        let _ = max_conditions;
        // SAFETY: null or a context; checked.
        unsafe { entity(context.cast_const())? };
        Ok(Box::into_raw(Box::new(rmw_wait_set_t {
            implementation_identifier: IDENTIFIER.as_ptr(),
            guard_conditions: std::ptr::null_mut(),
            data: into_data(Arc::new(WaitSet)),
        })))
    }
}

rmw_export! {
    /// Destroys a wait set (rmw/rmw.h).
    forward(wait_set);
    fn rmw_destroy_wait_set(wait_set: *mut rmw_wait_set_t) -> rmw_ret_t {
        check_wait_set(wait_set)?;
        // SAFETY: checked: a wait set of ours, created by Box with an Arc<WaitSet> as data.
        let shell = unsafe { Box::from_raw(wait_set) };
        // SAFETY: as above.
        drop(unsafe { take_data::<WaitSet>(shell.data) });
        Ok(())
    }
}

fn check_wait_set(wait_set: *const rmw_wait_set_t) -> Result<()> {
    super::handles::non_null(wait_set, "wait_set")?;
    // SAFETY: non-null; the identifier is null or a C string.
    unsafe {
        super::handles::check_identifier((*wait_set).implementation_identifier, "wait set")?;
        borrow_data::<WaitSet>((*wait_set).data, "wait set")?;
    }
    Ok(())
}

/// The entries of one of rcl's `rmw_*s_t` arrays, as a mutable slice (empty for null).
///
/// # Safety
/// `ptr` is null or points to `count` entries.
unsafe fn entries<'a>(ptr: *mut *mut c_void, count: usize) -> &'a mut [*mut c_void] {
    if ptr.is_null() || count == 0 {
        &mut []
    } else {
        // SAFETY: per the caller.
        unsafe { std::slice::from_raw_parts_mut(ptr, count) }
    }
}

fn clear(slots: &mut [*mut c_void]) {
    slots.iter_mut().for_each(|p| *p = std::ptr::null_mut());
}

rmw_export! {
    /// Waits until a subscription has data, a service a request, a client a response, or a
    /// guard condition is triggered, or the timeout passes (null: forever; zero: poll once).
    /// Entries that are not ready are set to null; RMW_RET_TIMEOUT when none is. Events are
    ///
    forward(wait_set);
    fn rmw_wait(
        subscriptions: *mut rmw_subscriptions_t,
        guard_conditions: *mut rmw_guard_conditions_t,
        services: *mut rmw_services_t,
        clients: *mut rmw_clients_t,
        events: *mut rmw_events_t,
        wait_set: *mut rmw_wait_set_t,
        wait_timeout: *const rmw_time_t,
    ) -> rmw_ret_t {
        check_wait_set(wait_set)?;
        // SAFETY: each array pointer is null or a valid rcl array with `count` entries whose
        // non-null entries are the `data` pointers of our entities (rcl's contract).
        let (subs, gcs, srvs, clis, evs) = unsafe {
            (
                subscriptions.as_mut().map_or(&mut [][..], |a| entries(a.subscribers, a.subscriber_count)),
                guard_conditions.as_mut().map_or(&mut [][..], |a| entries(a.guard_conditions, a.guard_condition_count)),
                services.as_mut().map_or(&mut [][..], |a| entries(a.services, a.service_count)),
                clients.as_mut().map_or(&mut [][..], |a| entries(a.clients, a.client_count)),
                events.as_mut().map_or(&mut [][..], |a| entries(a.events, a.event_count)),
            )
        };
        let timeout = if wait_timeout.is_null() {
            None
        } else {
            // SAFETY: non-null caller-owned time.
            let t = unsafe { *wait_timeout };
            Some(Duration::from_secs(t.sec).saturating_add(Duration::from_nanos(t.nsec)))
        };
        let waitables = Waitables {
            // SAFETY: non-null entries are live `Arc<Subscription>` data pointers.
            subscriptions: subs.iter().map(|p| unsafe { borrow_data::<Subscription>(*p, "subscription").ok() }).collect(),
            // SAFETY: non-null entries are live `Arc<GuardCondition>` data pointers.
            guard_conditions: gcs.iter().map(|p| unsafe { borrow_data::<GuardCondition>(*p, "guard condition").ok() }).collect(),
            // SAFETY: non-null entries are live `Arc<Service>` data pointers.
            services: srvs.iter().map(|p| unsafe { borrow_data::<Service>(*p, "service").ok() }).collect(),
            // SAFETY: non-null entries are live `Arc<Client>` data pointers.
            clients: clis.iter().map(|p| unsafe { borrow_data::<Client>(*p, "client").ok() }).collect(),
            // SAFETY: non-null entries are `rmw_event_t` handles initialized by our event_init,
            // whose endpoints are alive.
            events: evs.iter().map(|p| unsafe { super::event::event_status(p.cast::<rmw_event_t>()).ok() }).collect(),
        };
        let result = waitables.wait(timeout);
        drop(waitables);
        match result {
            Ok(ready) => {
                for (slot, r) in subs.iter_mut().zip(&ready.subscriptions) {
                    if !r {
                        *slot = std::ptr::null_mut();
                    }
                }
                for (slots, ready) in [
                    (&mut *gcs, &ready.guard_conditions),
                    (&mut *srvs, &ready.services),
                    (&mut *clis, &ready.clients),
                    (&mut *evs, &ready.events),
                ] {
                    for (slot, r) in slots.iter_mut().zip(ready) {
                        if !r {
                            *slot = std::ptr::null_mut();
                        }
                    }
                }
                Ok(())
            }
            Err(e) => {
                clear(subs);
                clear(gcs);
                clear(srvs);
                clear(clis);
                clear(evs);
                Err(e)
            }
        }
    }
}
