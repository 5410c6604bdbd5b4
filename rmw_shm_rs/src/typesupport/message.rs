//! The boundary between C message memory and safe code: a ROS message pointer paired with its
//! type, checked once by the C ABI layer, then used safely by entities.

use std::ffi::c_void;
use std::mem::MaybeUninit;

use super::MessageType;
use crate::error::Result;

/// A read-only C message (`const void * ros_message`) of a known type.
pub struct MessageRef<'a> {
    ptr: *const c_void,
    ty: &'a MessageType,
}

impl<'a> MessageRef<'a> {
    /// # Safety
    /// `ptr` points to an initialized C message of type `ty` that stays valid and unmodified
    /// for `'a`.
    pub unsafe fn new(ptr: *const c_void, ty: &'a MessageType) -> Self {
        Self { ptr, ty }
    }

    /// Exact CDR size including the encapsulation header.
    pub fn serialized_size(&self) -> Result<usize> {
        // SAFETY: `new`'s contract.
        Ok(unsafe { self.ty.serialized_size(self.ptr) }?)
    }

    /// Writes the CDR encoding into `out`; returns the number of bytes written.
    pub fn serialize(&self, out: &mut [MaybeUninit<u8>]) -> Result<usize> {
        // SAFETY: `new`'s contract.
        Ok(unsafe { self.ty.serialize(self.ptr, out) }?)
    }
}

/// A writable, initialized C message (`void * ros_message`) of a known type.
pub struct MessageMut<'a> {
    ptr: *mut c_void,
    ty: &'a MessageType,
}

impl<'a> MessageMut<'a> {
    /// # Safety
    /// `ptr` points to an initialized C message of type `ty`, exclusively ours for `'a`.
    pub unsafe fn new(ptr: *mut c_void, ty: &'a MessageType) -> Self {
        Self { ptr, ty }
    }

    /// Decodes CDR `bytes` (with encapsulation header) into the message.
    pub fn deserialize(&mut self, bytes: &[u8]) -> Result<()> {
        // SAFETY: `new`'s contract.
        Ok(unsafe { self.ty.deserialize(bytes, self.ptr) }?)
    }
}
