//! Conversions between the C handle structs (`rmw_node_t`, `rmw_publisher_t`, ...) and the
//! Rust entities behind their `data` pointers.
//!
//! Ownership: every `data` pointer is an `Arc::into_raw` of the entity. A call borrows it for
//! its own duration ([`entity`]); only the matching `rmw_destroy_*` takes it back
//! ([`take_data`]). rcl passes `subscription->data` (not the handle) in the `rmw_wait` arrays,
//! which is why the entity, not the shell, is what `data` points to.

use std::ffi::{c_char, c_void, CStr};
use std::sync::Arc;

use crate::entity::{Client, Context, GuardCondition, Node, Publisher, Service, Subscription};
use crate::error::{Error, Result};
use crate::sys;

/// The implementation identifier (`rmw_get_implementation_identifier`).
pub static IDENTIFIER: &CStr = c"rmw_shm_rs";

/// The serialization format (`rmw_get_serialization_format`): CDR as rmw_fastrtps_cpp writes it.
pub static SERIALIZATION_FORMAT: &CStr = c"cdr";

/// Fails with `RMW_RET_INVALID_ARGUMENT` when `p` is null.
pub fn non_null<T>(p: *const T, what: &str) -> Result<()> {
    if p.is_null() {
        Err(Error::invalid(format!("{what} is null")))
    } else {
        Ok(())
    }
}

/// Stores `value` through an out-pointer argument, failing with `RMW_RET_INVALID_ARGUMENT`
/// when it is null.
///
/// # Safety
/// `out` is null or points to writable storage for a `T` (an rmw out-argument).
pub unsafe fn write_out<T>(out: *mut T, what: &str, value: T) -> Result<()> {
    non_null(out, what)?;
    // SAFETY: non-null, and writable per the caller.
    unsafe { out.write(value) };
    Ok(())
}

/// Checks an implementation identifier the way the rmw macros do: null is an invalid argument,
/// another implementation's name is `RMW_RET_INCORRECT_RMW_IMPLEMENTATION`.
///
/// # Safety
/// `id` is null or a NUL-terminated string.
pub unsafe fn check_identifier(id: *const c_char, what: &'static str) -> Result<()> {
    if id.is_null() {
        return Err(Error::invalid(format!(
            "{what} has no implementation identifier"
        )));
    }
    if std::ptr::eq(id, IDENTIFIER.as_ptr()) {
        return Ok(());
    }
    // SAFETY: the caller guarantees a NUL-terminated string.
    let found = unsafe { CStr::from_ptr(id) };
    if found == IDENTIFIER {
        Ok(())
    } else {
        Err(Error::IncorrectImplementation {
            what,
            found: found.to_string_lossy().into_owned(),
        })
    }
}

/// The types a C handle's `data` may point to. Keeps [`into_data`] from storing, say, an
/// `Arc<Arc<Publisher>>` that [`borrow_data`] would then read as a `Publisher`.
pub trait Entity {}
impl Entity for Context {}
impl Entity for Node {}
impl Entity for Publisher {}
impl Entity for Subscription {}
impl Entity for Service {}
impl Entity for Client {}
impl Entity for GuardCondition {}

/// Stores an entity in a C handle's `data` field.
pub fn into_data<T: Entity>(entity: Arc<T>) -> *mut c_void {
    Arc::into_raw(entity).cast_mut().cast()
}

/// Takes back the reference [`into_data`] stored.
///
/// # Safety
/// `data` came from `into_data::<T>` and is not used afterwards.
pub unsafe fn take_data<T: Entity>(data: *mut c_void) -> Arc<T> {
    // SAFETY: guaranteed by the caller.
    unsafe { Arc::from_raw(data.cast_const().cast::<T>()) }
}

/// Borrows the entity behind a `data` pointer for the duration of one call.
///
/// # Safety
/// `data` is null or came from `into_data::<T>` and is alive for `'a`.
pub unsafe fn borrow_data<'a, T: Entity>(data: *const c_void, what: &str) -> Result<&'a T> {
    non_null(data, what)?;
    // SAFETY: guaranteed by the caller.
    Ok(unsafe { &*data.cast::<T>() })
}

/// Clones the `Arc` behind a `data` pointer.
///
/// # Safety
/// As for [`borrow_data`].
pub unsafe fn clone_data<T: Entity>(data: *const c_void, what: &str) -> Result<Arc<T>> {
    non_null(data, what)?;
    // SAFETY: guaranteed by the caller: `data` is a live `Arc::into_raw` pointer.
    unsafe {
        Arc::increment_strong_count(data.cast::<T>());
        Ok(Arc::from_raw(data.cast::<T>()))
    }
}

/// A C handle struct with an implementation identifier and a `data` pointer to its entity.
pub trait Shell {
    /// The entity `data` points to.
    type Entity: Entity;
    /// What the handle is called in error messages.
    const WHAT: &'static str;
    /// The handle's `implementation_identifier`.
    fn identifier(&self) -> *const c_char;
    /// The handle's `data`.
    fn data(&self) -> *mut c_void;
}

macro_rules! shell {
    ($c:ty, $e:ty, $what:literal) => {
        impl Shell for $c {
            type Entity = $e;
            const WHAT: &'static str = $what;
            fn identifier(&self) -> *const c_char {
                self.implementation_identifier
            }
            fn data(&self) -> *mut c_void {
                self.data as *mut c_void
            }
        }
    };
}
shell!(sys::rmw_node_t, Node, "node");
shell!(sys::rmw_publisher_t, Publisher, "publisher");
shell!(sys::rmw_subscription_t, Subscription, "subscription");
shell!(sys::rmw_service_t, Service, "service");
shell!(sys::rmw_client_t, Client, "client");
shell!(
    sys::rmw_guard_condition_t,
    GuardCondition,
    "guard condition"
);

impl Shell for sys::rmw_context_t {
    type Entity = Context;
    const WHAT: &'static str = "context";
    fn identifier(&self) -> *const c_char {
        self.implementation_identifier
    }
    fn data(&self) -> *mut c_void {
        self.impl_.cast()
    }
}

/// Checks a handle (null, identifier, null `data`) and borrows its entity for one call.
///
/// # Safety
/// `handle` is null or points to a handle struct this library filled in (or another
/// implementation's, which is rejected by its identifier).
pub unsafe fn entity<'a, S: Shell>(handle: *const S) -> Result<&'a S::Entity> {
    non_null(handle, S::WHAT)?;
    // SAFETY: non-null and valid per the caller.
    let shell = unsafe { &*handle };
    // SAFETY: the identifier field is null or a C string (rmw handle contract).
    unsafe { check_identifier(shell.identifier(), S::WHAT)? };
    // SAFETY: our handles' data is an `into_data::<S::Entity>` pointer.
    unsafe { borrow_data::<S::Entity>(shell.data(), S::WHAT) }
}

/// Like [`entity`], returning a new `Arc` to it.
///
/// # Safety
/// As for [`entity`].
pub unsafe fn entity_arc<S: Shell>(handle: *const S) -> Result<Arc<S::Entity>> {
    non_null(handle, S::WHAT)?;
    // SAFETY: non-null and valid per the caller.
    let shell = unsafe { &*handle };
    // SAFETY: as in `entity`.
    unsafe { check_identifier(shell.identifier(), S::WHAT)? };
    // SAFETY: as in `entity`.
    unsafe { clone_data::<S::Entity>(shell.data(), S::WHAT) }
}

/// Reads a C string argument into UTF-8.
///
/// # Safety
/// `s` is null or NUL-terminated.
pub unsafe fn str_arg<'a>(s: *const c_char, what: &str) -> Result<&'a str> {
    non_null(s, what)?;
    // SAFETY: non-null and NUL-terminated per the caller.
    unsafe { CStr::from_ptr(s) }
        .to_str()
        .map_err(|_| Error::invalid(format!("{what} is not UTF-8")))
}
