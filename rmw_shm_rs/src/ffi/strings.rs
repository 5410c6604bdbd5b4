//! Strings allocated with the caller's rcutils allocator, for C structs the caller frees.

use std::ffi::{c_char, CStr};

use crate::error::{Error, Result};
use crate::sys::rcutils_allocator_t;

/// Copies `s` into memory from `allocator` (freed by the caller with the same allocator).
/// A null `s` gives null.
///
/// # Safety
/// `s` is null or NUL-terminated; `allocator` is a valid rcutils allocator.
pub unsafe fn strdup_with(
    s: *const c_char,
    allocator: &rcutils_allocator_t,
) -> Result<*mut c_char> {
    if s.is_null() {
        return Ok(std::ptr::null_mut());
    }
    // SAFETY: non-null and NUL-terminated per the caller.
    let bytes = unsafe { CStr::from_ptr(s) }.to_bytes_with_nul();
    let allocate = allocator
        .allocate
        .ok_or_else(|| Error::invalid("allocator has no allocate"))?;
    // SAFETY: a valid allocator's allocate takes a size and its state.
    let p = unsafe { allocate(bytes.len(), allocator.state) }.cast::<u8>();
    if p.is_null() {
        return Err(Error::BadAlloc("string copy".into()));
    }
    // SAFETY: `p` has room for `bytes.len()` bytes and does not overlap `bytes`.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
    Ok(p.cast())
}

/// Frees a string from [`strdup_with`] (null is ignored).
///
/// # Safety
/// `s` is null or was allocated by `allocator`.
pub unsafe fn free_with(s: *mut c_char, allocator: &rcutils_allocator_t) {
    if let (false, Some(deallocate)) = (s.is_null(), allocator.deallocate) {
        // SAFETY: allocated by this allocator per the caller.
        unsafe { deallocate(s.cast(), allocator.state) };
    }
}
