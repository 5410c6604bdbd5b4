//! The boundary between C message memory and safe code: a ROS message pointer paired with its
//! type, checked once by the C ABI layer, then used safely by entities.

use std::ffi::c_void;
use std::mem::MaybeUninit;

use std::sync::Arc;

use super::{MessageType, MAX_C_ALIGN};
use crate::error::{Error, Result};

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

    /// The C message pointer (for the delegate, which reads it with its own type support).
    pub fn as_ptr(&self) -> *const c_void {
        self.ptr
    }

    /// The CDR encoding in a new vector (encapsulation header included).
    pub fn to_cdr(&self) -> Result<Vec<u8>> {
        // SAFETY: `new`'s contract.
        Ok(unsafe { self.ty.serialize_to_vec(self.ptr) }?)
    }

    /// The message type.
    pub fn message_type(&self) -> &MessageType {
        self.ty
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

impl MessageMut<'_> {
    /// The C message pointer (for the delegate, which writes it with its own type support).
    pub fn as_mut_ptr(&mut self) -> *mut c_void {
        self.ptr
    }

    /// Replaces the message with a raw C struct of its plain type (a sample in the raw
    /// format): one copy of [`MessageType::c_size`] bytes. A plain struct holds no pointers,
    /// so the old contents own nothing and the new ones borrow nothing.
    pub fn copy_raw(&mut self, raw: &[u8]) -> Result<()> {
        self.ty.check_raw(raw.as_ptr(), raw.len())?;
        // SAFETY: `new`'s contract gives c_size writable bytes at `ptr`; `raw` has exactly
        // c_size bytes (checked) and is shared memory, never the caller's message.
        unsafe { std::ptr::copy_nonoverlapping(raw.as_ptr(), self.ptr.cast::<u8>(), raw.len()) };
        crate::counters::record_copy(raw.len());
        Ok(())
    }

    /// Replaces the message with a deep copy of `src` (same type; the intra-process take).
    pub fn copy_from(&mut self, src: &OwnedMessage) -> Result<()> {
        check_same(self.ty, &src.ty)?;
        // SAFETY: `new`'s contract for `ptr`; `src` is an initialized message of the same type
        // in memory of its own, read-only while shared.
        Ok(unsafe { self.ty.copy_message(src.as_ptr(), self.ptr) }?)
    }
}

fn check_same(a: &MessageType, b: &MessageType) -> Result<()> {
    if a.type_name() != b.type_name() || a.c_size() != b.c_size() {
        return Err(Error::invalid(format!(
            "cannot copy a {} message into a {}",
            b.type_name(),
            a.type_name()
        )));
    }
    Ok(())
}

/// A C message of a known type in memory of our own (heap, aligned to [`MAX_C_ALIGN`]),
/// initialized on creation and finalized on drop: what a loaned take hands out when the
/// sample came as CDR.
pub struct OwnedMessage {
    buf: Vec<Align>,
    ty: Arc<MessageType>,
}

#[repr(C, align(16))]
#[derive(Clone, Copy)]
struct Align([u8; MAX_C_ALIGN]);

impl OwnedMessage {
    /// A new message of `ty` with its defaults.
    pub fn new(ty: Arc<MessageType>) -> Result<Self> {
        let n = ty.c_size().div_ceil(MAX_C_ALIGN).max(1);
        let mut buf = vec![Align([0; MAX_C_ALIGN]); n];
        // SAFETY: `buf` has at least c_size zeroed bytes aligned to 16, holding no message yet.
        if !unsafe { ty.init_message(buf.as_mut_ptr().cast()) } {
            return Err(Error::Other(format!(
                "{}: the type support has no init function",
                ty.type_name()
            )));
        }
        Ok(Self { buf, ty })
    }

    /// The C message.
    pub fn as_ptr(&self) -> *mut c_void {
        self.buf.as_ptr().cast_mut().cast()
    }

    /// A deep copy of `msg` (the intra-process publish: the caller keeps its message).
    pub fn copy_of(ty: Arc<MessageType>, msg: &MessageRef<'_>) -> Result<Self> {
        check_same(&ty, msg.ty)?;
        let mut owned = Self::new(ty)?;
        let dst = owned.buf.as_mut_ptr().cast();
        // SAFETY: `msg` is an initialized message of this type (MessageRef's contract);
        // `dst` is ours, initialized in `new`, distinct from it.
        unsafe { owned.ty.copy_message(msg.ptr, dst) }?;
        Ok(owned)
    }

    /// A copy of a raw C struct of a plain type (a loaned message): one memcpy of
    /// [`MessageType::c_size`] bytes.
    pub fn copy_of_raw(ty: Arc<MessageType>, raw: &[u8]) -> Result<Self> {
        let owned = Self::new(ty)?;
        // SAFETY: `owned` is an initialized message of its type, exclusively ours here.
        unsafe { MessageMut::new(owned.as_ptr(), &owned.ty) }.copy_raw(raw)?;
        Ok(owned)
    }

    /// The CDR encoding of the message (encapsulation header included).
    pub fn to_cdr(&self) -> Result<Vec<u8>> {
        // SAFETY: initialized in `new`, not mutated while borrowed.
        Ok(unsafe { self.ty.serialize_to_vec(self.as_ptr()) }?)
    }

    /// The message type.
    pub fn message_type(&self) -> &Arc<MessageType> {
        &self.ty
    }

    /// The message, read-only (to serialize it).
    pub fn as_message_ref(&self) -> MessageRef<'_> {
        // SAFETY: initialized in `new`, valid and unmodified while borrowed from `self`.
        unsafe { MessageRef::new(self.as_ptr(), &self.ty) }
    }

    /// Decodes CDR `bytes` into the message.
    pub fn deserialize(&mut self, bytes: &[u8]) -> Result<()> {
        let ptr = self.buf.as_mut_ptr().cast();
        // SAFETY: an initialized message of `ty`, exclusively ours (&mut self).
        Ok(unsafe { self.ty.deserialize(bytes, ptr) }?)
    }
}

impl Drop for OwnedMessage {
    fn drop(&mut self) {
        let ptr = self.buf.as_mut_ptr().cast();
        // SAFETY: initialized in `new`, unused after this.
        unsafe { self.ty.fini_message(ptr) };
    }
}
