//! Handing the DDS delegate's own objects back to it.
//!
//! rmw_fastrtps_cpp calls a few of its public functions through the global scope (FACTS.md:
//! `rmw_init_options_copy` from `rmw_init`, `rmw_init_options_fini` from `rmw_context_fini`,
//! `rmw_get_{publishers,subscriptions}_info_by_topic` for BEST_AVAILABLE QoS), where our exports
//! answer. So every export that takes an rmw handle names its primary handle in a
//! `forward(handle);` clause of [`rmw_export!`](crate::rmw_export): when that handle carries the
//! loaded delegate's implementation identifier, the call goes to the delegate's own definition
//! (`dlsym` on its handle) with the same arguments, and its return value comes back unchanged.
//!
//! The check never loads the delegate ([`Delegate::loaded`]): before it is loaded no object
//! can carry its identifier. Our own objects are recognized by pointer (one comparison).

use std::ffi::c_char;

use super::handles::IDENTIFIER;
use crate::delegate::Delegate;
use crate::sys;

/// An rmw struct with an `implementation_identifier`.
pub trait Handle {
    /// Its `implementation_identifier` (null or a C string).
    fn implementation_identifier(&self) -> *const c_char;
}

macro_rules! handle {
    ($($t:ident),* $(,)?) => {$(
        impl Handle for sys::$t {
            fn implementation_identifier(&self) -> *const c_char {
                self.implementation_identifier
            }
        }
    )*};
}

handle!(
    rmw_init_options_t,
    rmw_context_t,
    rmw_node_t,
    rmw_publisher_t,
    rmw_subscription_t,
    rmw_service_t,
    rmw_client_t,
    rmw_guard_condition_t,
    rmw_wait_set_t,
    rmw_event_t,
    rmw_gid_t,
    rmw_publisher_allocation_t,
    rmw_subscription_allocation_t,
);

/// A `*const` or `*mut` pointer to a [`Handle`].
pub trait HandlePtr: Copy {
    /// The struct pointed to.
    type Target: Handle;
    /// The pointer as `*const`.
    fn as_const(self) -> *const Self::Target;
}

impl<T: Handle> HandlePtr for *const T {
    type Target = T;
    fn as_const(self) -> *const T {
        self
    }
}

impl<T: Handle> HandlePtr for *mut T {
    type Target = T;
    fn as_const(self) -> *const T {
        self.cast_const()
    }
}

/// The loaded delegate, if `handle` is one of its objects (non-null, carrying its
/// implementation identifier).
///
/// # Safety
/// `handle` is null or points to a readable rmw struct whose identifier is null or a C string.
pub unsafe fn delegate_for<P: HandlePtr>(handle: P) -> Option<&'static Delegate> {
    let delegate = Delegate::loaded()?;
    let p = handle.as_const();
    if p.is_null() {
        return None;
    }
    // SAFETY: non-null and readable per the caller.
    let id = unsafe { (*p).implementation_identifier() };
    if std::ptr::eq(id, IDENTIFIER.as_ptr()) {
        return None;
    }
    // SAFETY: the identifier is null or a C string per the caller.
    unsafe { delegate.owns(id) }.then_some(delegate)
}
