//! rmw/rmw.h loaned messages, for fixed-size ("plain") types: `can_loan_messages` is true
//! exactly for them. A publisher lends the iceoryx2 sample itself (the C struct lives in
//! shared memory and is sent as it is, zero copies); a subscription lends the C struct inside
//! the received sample. Each side holds at most `RMW_SHM_RS_MAX_LOANS` loans at a time.

use std::ffi::c_void;

use super::handles::{entity, non_null};
use super::subscription::fill_info;
use crate::error::{Error, Result};
use crate::rmw_export;
use crate::sys::*;
use crate::typesupport::message_type;

/// Checks an out-argument for a loan: non-null, and pointing to null (a non-null value would
/// be a message the caller could leak).
///
/// # Safety
/// `out` is null or valid for reads.
unsafe fn check_loan_out(out: *mut *mut c_void, what: &str) -> Result<()> {
    non_null(out, what)?;
    // SAFETY: non-null, valid per the caller.
    if !unsafe { *out }.is_null() {
        return Err(Error::invalid(format!("*{what} must be null")));
    }
    Ok(())
}

rmw_export! {
    /// Lends a message of the publisher's fixed-size type, in shared memory, initialized with
    /// the type's defaults (rmw/rmw.h).
    forward(publisher);
    fn rmw_borrow_loaned_message(publisher: *const rmw_publisher_t, type_support: *const rosidl_message_type_support_t, ros_message: *mut *mut c_void) -> rmw_ret_t {
        // SAFETY: null or a publisher; checked.
        let p = unsafe { entity(publisher)? };
        non_null(type_support, "type_support")?;
        // SAFETY: null or a caller-owned pointer.
        unsafe { check_loan_out(ros_message, "ros_message")? };
        // SAFETY: a type support handle from rosidl (non-null, checked above).
        let ty = unsafe { message_type(type_support)? };
        let ptr = p.borrow_loan(&ty)?;
        // SAFETY: non-null caller-owned out-pointer (checked).
        unsafe { *ros_message = ptr };
        Ok(())
    }
}

rmw_export! {
    /// Publishes a loaned message (zero copies) and ends the loan (rmw/rmw.h).
    forward(publisher);
    fn rmw_publish_loaned_message(publisher: *const rmw_publisher_t, ros_message: *mut c_void, allocation: *mut rmw_publisher_allocation_t) -> rmw_ret_t {
        let _ = allocation;
        // SAFETY: null or a publisher; checked.
        let p = unsafe { entity(publisher)? };
        non_null(ros_message, "ros_message")?;
        p.publish_loan(ros_message)
    }
}

rmw_export! {
    /// Ends a loan without publishing (rmw/rmw.h).
    forward(publisher);
    fn rmw_return_loaned_message_from_publisher(publisher: *const rmw_publisher_t, loaned_message: *mut c_void) -> rmw_ret_t {
        // SAFETY: null or a publisher; checked.
        let p = unsafe { entity(publisher)? };
        non_null(loaned_message, "loaned_message")?;
        p.return_loan(loaned_message)
    }
}

/// The common part of the loaned takes.
unsafe fn take_loaned(
    subscription: *const rmw_subscription_t,
    loaned_message: *mut *mut c_void,
    taken: *mut bool,
    message_info: Option<*mut rmw_message_info_t>,
) -> Result<()> {
    // SAFETY: null or a subscription; checked.
    let s = unsafe { entity(subscription)? };
    // SAFETY: null or a caller-owned pointer.
    unsafe { check_loan_out(loaned_message, "loaned_message")? };
    non_null(taken, "taken")?;
    if let Some(info) = message_info {
        non_null(info, "message_info")?;
    }
    let result = s.take_loan()?;
    // SAFETY: non-null caller-owned out-pointers (checked above).
    unsafe {
        *taken = result.is_some();
        if let Some((ptr, info)) = result {
            *loaned_message = ptr;
            if let Some(out) = message_info {
                fill_info(&mut *out, &info);
            }
        }
    }
    Ok(())
}

rmw_export! {
    /// Takes the oldest message as a loan (read-only until returned) (rmw/rmw.h).
    forward(subscription);
    fn rmw_take_loaned_message(subscription: *const rmw_subscription_t, loaned_message: *mut *mut c_void, taken: *mut bool, allocation: *mut rmw_subscription_allocation_t) -> rmw_ret_t {
        let _ = allocation;
        // SAFETY: arguments as documented; checked inside.
        unsafe { take_loaned(subscription, loaned_message, taken, None) }
    }
}

rmw_export! {
    /// Takes the oldest message as a loan, with its message info (rmw/rmw.h).
    forward(subscription);
    fn rmw_take_loaned_message_with_info(subscription: *const rmw_subscription_t, loaned_message: *mut *mut c_void, taken: *mut bool, message_info: *mut rmw_message_info_t, allocation: *mut rmw_subscription_allocation_t) -> rmw_ret_t {
        let _ = allocation;
        // SAFETY: arguments as documented; checked inside.
        unsafe { take_loaned(subscription, loaned_message, taken, Some(message_info)) }
    }
}

rmw_export! {
    /// Ends a loan of a taken message (rmw/rmw.h).
    forward(subscription);
    fn rmw_return_loaned_message_from_subscription(subscription: *const rmw_subscription_t, loaned_message: *mut c_void) -> rmw_ret_t {
        // SAFETY: null or a subscription; checked.
        let s = unsafe { entity(subscription)? };
        non_null(loaned_message, "loaned_message")?;
        s.return_loan(loaned_message)
    }
}
