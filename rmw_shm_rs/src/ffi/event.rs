//! rmw/event.h: QoS events of publishers and subscriptions.
//!
//! rcl allocates the `rmw_event_t` and finalizes it with librmw's `rmw_event_fini`, which only
//! zeroes it: so `data` must not own anything. It borrows the endpoint's
//! [`EndpointStatus`], which the publisher or subscription owns and outlives its events.

use std::ffi::c_void;

use super::handles::{check_identifier, entity, non_null, IDENTIFIER};
use crate::entity::event::{EndpointStatus, EventKind, EventStatus};
use crate::error::{Error, Result};
use crate::rmw_export;
use crate::sys::*;

/// The event kind of an `rmw_event_type_t`, if rmw_shm_rs raises it.
#[allow(non_upper_case_globals)] // bindgen's names of the C enumerators
pub fn kind_of(t: rmw_event_type_t) -> Option<EventKind> {
    Some(match t {
        rmw_event_type_e_RMW_EVENT_LIVELINESS_CHANGED => EventKind::LivelinessChanged,
        rmw_event_type_e_RMW_EVENT_REQUESTED_DEADLINE_MISSED => EventKind::RequestedDeadlineMissed,
        rmw_event_type_e_RMW_EVENT_REQUESTED_QOS_INCOMPATIBLE => {
            EventKind::RequestedQosIncompatible
        }
        rmw_event_type_e_RMW_EVENT_MESSAGE_LOST => EventKind::MessageLost,
        rmw_event_type_e_RMW_EVENT_SUBSCRIPTION_INCOMPATIBLE_TYPE => {
            EventKind::SubscriptionIncompatibleType
        }
        rmw_event_type_e_RMW_EVENT_SUBSCRIPTION_MATCHED => EventKind::SubscriptionMatched,
        rmw_event_type_e_RMW_EVENT_LIVELINESS_LOST => EventKind::LivelinessLost,
        rmw_event_type_e_RMW_EVENT_OFFERED_DEADLINE_MISSED => EventKind::OfferedDeadlineMissed,
        rmw_event_type_e_RMW_EVENT_OFFERED_QOS_INCOMPATIBLE => EventKind::OfferedQosIncompatible,
        rmw_event_type_e_RMW_EVENT_PUBLISHER_INCOMPATIBLE_TYPE => {
            EventKind::PublisherIncompatibleType
        }
        rmw_event_type_e_RMW_EVENT_PUBLICATION_MATCHED => EventKind::PublicationMatched,
        _ => return None,
    })
}

/// Fills a zero-initialized event for `status`.
///
/// # Safety
/// `event` is null or a caller-owned `rmw_event_t`; `status` outlives the event.
unsafe fn init(
    event: *mut rmw_event_t,
    status: &EndpointStatus,
    event_type: rmw_event_type_t,
    publisher: bool,
) -> Result<()> {
    non_null(event, "rmw_event")?;
    let kind = kind_of(event_type)
        .ok_or_else(|| Error::Unsupported(format!("event type {event_type} is not supported")))?;
    if kind.is_publisher_event() != publisher {
        let side = if publisher {
            "publishers"
        } else {
            "subscriptions"
        };
        return Err(Error::invalid(format!(
            "event {kind:?} is not an event of {side}"
        )));
    }
    // SAFETY: non-null caller-owned event (checked above).
    let ev = unsafe { &mut *event };
    ev.implementation_identifier = IDENTIFIER.as_ptr();
    ev.data = (status as *const EndpointStatus).cast_mut().cast();
    ev.event_type = event_type;
    Ok(())
}

/// The status an event of ours borrows, and its kind.
///
/// # Safety
/// `event` is null or an `rmw_event_t` initialized by [`init`] whose endpoint is alive.
pub unsafe fn event_status<'a>(
    event: *const rmw_event_t,
) -> Result<(&'a EndpointStatus, EventKind)> {
    non_null(event, "event")?;
    // SAFETY: non-null per the check.
    let ev = unsafe { &*event };
    // SAFETY: the identifier is null or a C string.
    unsafe { check_identifier(ev.implementation_identifier, "event")? };
    non_null(ev.data, "event data")?;
    let kind = kind_of(ev.event_type).ok_or_else(|| Error::invalid("event has an invalid type"))?;
    // SAFETY: `data` was set by `init` to the endpoint's status, alive while the endpoint is.
    Ok((unsafe { &*ev.data.cast::<EndpointStatus>() }, kind))
}

rmw_export! {
    /// Initializes an event of a publisher (offered deadline missed, liveliness lost, offered
    /// incompatible QoS, incompatible type, publication matched).
    forward(publisher);
    fn rmw_publisher_event_init(rmw_event: *mut rmw_event_t, publisher: *const rmw_publisher_t, event_type: rmw_event_type_t) -> rmw_ret_t {
        // SAFETY: null or a publisher; checked.
        let p = unsafe { entity(publisher)? };
        // SAFETY: the publisher owns its status and outlives its events (rcl's order).
        unsafe { init(rmw_event, &p.status, event_type, true) }
    }
}

rmw_export! {
    /// Initializes an event of a subscription (requested deadline missed, liveliness changed,
    /// requested incompatible QoS, message lost, incompatible type, subscription matched).
    forward(subscription);
    fn rmw_subscription_event_init(rmw_event: *mut rmw_event_t, subscription: *const rmw_subscription_t, event_type: rmw_event_type_t) -> rmw_ret_t {
        // SAFETY: null or a subscription; checked.
        let s = unsafe { entity(subscription)? };
        // SAFETY: the subscription owns its status and outlives its events.
        unsafe { init(rmw_event, &s.status, event_type, false) }
    }
}

fn i32c(v: u64) -> i32 {
    v.min(i32::MAX as u64) as i32
}

rmw_export! {
    /// Takes the event's status into `event_info` (the rmw status struct of its type) and
    /// resets its changes; `taken` is true.
    forward(event_handle);
    fn rmw_take_event(event_handle: *const rmw_event_t, event_info: *mut c_void, taken: *mut bool) -> rmw_ret_t {
        // SAFETY: null or an event of ours; checked.
        let (status, kind) = unsafe { event_status(event_handle)? };
        non_null(event_info, "event_info")?;
        non_null(taken, "taken")?;
        // SAFETY: `event_info` points to the status struct of the event's type (rmw contract).
        unsafe {
            match status.take(kind) {
                EventStatus::Matched(m) => {
                    *event_info.cast::<rmw_matched_status_t>() = rmw_matched_status_t {
                        total_count: m.total.total as usize,
                        total_count_change: m.total.change as usize,
                        current_count: m.current as usize,
                        current_count_change: m.current_change as i32,
                    }
                }
                EventStatus::Incompatible(i) => {
                    *event_info.cast::<rmw_qos_incompatible_event_status_t>() = rmw_qos_incompatible_event_status_t {
                        total_count: i32c(i.count.total),
                        total_count_change: i32c(i.count.change),
                        last_policy_kind: i.last_policy,
                    }
                }
                EventStatus::Liveliness(l) => {
                    *event_info.cast::<rmw_liveliness_changed_status_t>() = rmw_liveliness_changed_status_t {
                        alive_count: l.alive as i32,
                        not_alive_count: l.not_alive as i32,
                        alive_count_change: l.alive_change as i32,
                        not_alive_count_change: l.not_alive_change as i32,
                    }
                }
                EventStatus::Count(c) if kind == EventKind::MessageLost => {
                    *event_info.cast::<rmw_message_lost_status_t>() = rmw_message_lost_status_t {
                        total_count: c.total as usize,
                        total_count_change: c.change as usize,
                    }
                }
                // Deadline missed (both sides), liveliness lost and incompatible type share the
                // layout {int32 total_count; int32 total_count_change}.
                EventStatus::Count(c) => {
                    *event_info.cast::<rmw_requested_deadline_missed_status_t>() = rmw_requested_deadline_missed_status_t {
                        total_count: i32c(c.total),
                        total_count_change: i32c(c.change),
                    }
                }
            }
            *taken = true;
        }
        Ok(())
    }
}

rmw_export! {
    /// Every event type rmw_shm_rs raises: all but `RMW_EVENT_INVALID`.
    fn rmw_event_type_is_supported(rmw_event_type: rmw_event_type_t) -> bool = false; {
        Ok(kind_of(rmw_event_type).is_some())
    }
}
