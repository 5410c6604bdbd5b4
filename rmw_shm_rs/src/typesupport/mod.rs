//! rosidl type support to cached CDR codecs.
//!
//! [`message_type`] resolves any message type support handle (rclpy passes the
//! `rosidl_typesupport_c` one) to its `rosidl_typesupport_introspection_c` handle and returns a
//! [`MessageType`]: the type's name, its RIHS01 hash and a traversal plan computed once from the
//! introspection data. The plan drives one generic traversal (`codec.rs`) for
//! [`MessageType::serialized_size`], [`MessageType::serialize`] and
//! [`MessageType::deserialize`]. Plans are cached for the process lifetime, keyed by the
//! introspection `MessageMembers` pointer; nested types share plans.
//!
//! Flavours: C messages (`rosidl_typesupport_introspection_c`, what rclpy hands over) and C++
//! messages (`rosidl_typesupport_introspection_cpp`, what rclcpp hands over: `std::string`,
//! `std::u16string`, `std::vector`, `std::vector<bool>`, `BoundedVector`, `std::array`). The
//! flavour follows the handle passed: a `*_cpp` identifier (e.g. `rosidl_typesupport_cpp`)
//! means C++ message memory. Both flavours share the plan and the traversal; C++ members are
//! reached through the introspection function pointers and a small C++ shim (`cpp_shim.cpp`)
//! for `std::string` / `std::u16string`.
//!
//! Type support libraries must stay loaded while their plans are used (rosidl libraries are
//! never unloaded by rcl/rclpy).

mod codec;
mod copy;
mod cpp;
mod message;
mod plan;
mod registry;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_cpp;
#[cfg(test)]
mod tests_real;

use core::ffi::c_void;
use core::mem::MaybeUninit;
use std::sync::Arc;

use crate::cdr::{CdrError, CdrReader, CdrWriter, SizeCounter};
use crate::sys;
use codec::{walk, ReadPass, SizePass, WritePass};
use plan::Plan;

pub use message::{MessageMut, MessageRef, OwnedMessage};

/// The alignment that any C message struct needs at most (`long double` on x86_64): raw C
/// structs in shared memory (loaned messages) are placed at multiples of it.
pub const MAX_C_ALIGN: usize = 16;
pub use registry::{message_type, service_type};

/// Identifier of the C introspection type support (`rosidl_typesupport_introspection_c`).
pub const INTROSPECTION_C: &core::ffi::CStr = c"rosidl_typesupport_introspection_c";
/// Identifier of the C++ introspection type support (`rosidl_typesupport_introspection_cpp`).
pub const INTROSPECTION_CPP: &core::ffi::CStr = c"rosidl_typesupport_introspection_cpp";

/// Errors of resolving a type support handle and building its plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeSupportError {
    /// A null type support handle was passed.
    #[error("type support handle is null")]
    NullHandle,
    /// The handle does not lead to introspection type support of its flavour (its `func`
    /// found no `rosidl_typesupport_introspection_c` handle, or for a `*_cpp` handle no
    /// `rosidl_typesupport_introspection_cpp` one).
    #[error("unknown type support `{identifier}`: no introspection (C or C++) handle for it")]
    UnknownTypeSupport {
        /// `typesupport_identifier` of the handle passed.
        identifier: String,
    },
    /// The handle leads to an introspection flavour this codec does not implement (no
    /// current resolution path returns it: both C and C++ introspection are implemented).
    #[error("type support flavour `{identifier}` is not supported")]
    UnsupportedFlavor {
        /// The introspection identifier found.
        identifier: String,
    },
    /// The introspection handle carries no `MessageMembers` / `ServiceMembers` data.
    #[error("introspection type support has no members data")]
    NullMembers,
    /// A member has a `type_id_` this codec does not know.
    #[error("field `{field}` has unknown rosidl field type id {type_id}")]
    UnknownFieldType {
        /// Member name.
        field: String,
        /// The `type_id_` value.
        type_id: u8,
    },
    /// A member's introspection data is inconsistent.
    #[error("invalid introspection data for field `{field}`: {reason}")]
    InvalidMember {
        /// Member name (empty for the message itself).
        field: String,
        /// What is wrong.
        reason: &'static str,
    },
}

type InitFn = unsafe extern "C" fn(*mut c_void, sys::rosidl_runtime_c__message_initialization);
type FiniFn = unsafe extern "C" fn(*mut c_void);

/// A message's `init_function` in its flavour's signature.
#[derive(Clone, Copy)]
enum Init {
    C(InitFn),
    /// Called through the shim so that a C++ exception (`std::bad_alloc`) is caught.
    Cpp(cpp::CppInitFn),
}

/// A ROS message type with its CDR codec. Obtained from [`message_type`]; shared (`Arc`) and
/// immutable, so it can be used from any thread.
pub struct MessageType {
    name: String,
    hash: Option<String>,
    plan: Plan,
    init: Option<Init>,
    fini: Option<FiniFn>,
}

impl core::fmt::Debug for MessageType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MessageType")
            .field("name", &self.name)
            .field("hash", &self.hash)
            .field("c_size", &self.plan.size_of)
            .field("plain", &self.plan.plain)
            .finish_non_exhaustive()
    }
}

impl MessageType {
    /// The ROS type name, e.g. `"std_msgs/msg/String"`.
    pub fn type_name(&self) -> &str {
        &self.name
    }

    /// The type hash as `"RIHS01_<64 lowercase hex>"`, or `None` when the type support has no
    /// hash function or reports an unset hash.
    pub fn type_hash(&self) -> Option<&str> {
        self.hash.as_deref()
    }

    /// True when the C struct is fixed-size and holds no pointers (no strings, no sequences,
    /// recursively): its bytes can be copied as they are (e.g. into a zero-copy loan).
    pub fn is_plain(&self) -> bool {
        self.plan.plain
    }

    /// Size in bytes of the C struct (`MessageMembers.size_of_`).
    pub fn c_size(&self) -> usize {
        self.plan.size_of
    }

    /// Exact size in bytes of the serialized message, including the 4-byte encapsulation
    /// header: the buffer size [`serialize`](Self::serialize) needs.
    ///
    /// # Errors
    /// [`CdrError::BoundExceeded`] when a bounded string or sequence is over its bound.
    ///
    /// # Safety
    /// `msg` points to an initialized C message of this type, not mutated during the call.
    pub unsafe fn serialized_size(&self, msg: *const c_void) -> Result<usize, CdrError> {
        let mut pass = SizePass(SizeCounter::new());
        // SAFETY: forwarded contract; the size pass only reads.
        unsafe { walk(&self.plan, msg.cast_mut().cast(), &mut pass)? };
        Ok(pass.0.total())
    }

    /// Serializes `msg` into `out`: the header `00 01 00 00`, then the XCDR1 little-endian body.
    /// Every byte of `out[..n]` is initialized (padding is zero); returns `n`. `out` may be
    /// uninitialized memory, e.g. a loaned shared-memory sample.
    ///
    /// # Errors
    /// [`CdrError::BufferTooSmall`] when `out` is shorter than
    /// [`serialized_size`](Self::serialized_size); [`CdrError::BoundExceeded`];
    /// [`CdrError::InvalidMessage`] for a sequence or string with a size and a null pointer.
    /// On error `out` holds an unspecified prefix.
    ///
    /// # Safety
    /// `msg` points to an initialized C message of this type, not mutated during the call.
    pub unsafe fn serialize(
        &self,
        msg: *const c_void,
        out: &mut [MaybeUninit<u8>],
    ) -> Result<usize, CdrError> {
        let mut pass = WritePass(CdrWriter::new(out)?);
        // SAFETY: forwarded contract; the write pass only reads the message.
        unsafe { walk(&self.plan, msg.cast_mut().cast(), &mut pass)? };
        crate::counters::record_serialization();
        Ok(pass.0.finish())
    }

    /// Serializes `msg` into a new vector of exactly [`serialized_size`](Self::serialized_size)
    /// bytes.
    ///
    /// # Errors
    /// As [`serialize`](Self::serialize).
    ///
    /// # Safety
    /// As [`serialize`](Self::serialize).
    pub unsafe fn serialize_to_vec(&self, msg: *const c_void) -> Result<Vec<u8>, CdrError> {
        // SAFETY: forwarded contract.
        let size = unsafe { self.serialized_size(msg)? };
        let mut v = Vec::<u8>::with_capacity(size);
        // SAFETY: forwarded contract.
        let n = unsafe { self.serialize(msg, &mut v.spare_capacity_mut()[..size])? };
        // SAFETY: `serialize` initialized the first `n` <= capacity bytes.
        unsafe { v.set_len(n) };
        Ok(v)
    }

    /// Decodes `bytes` (encapsulation header included) into `msg`, replacing its contents.
    /// Sequences are resized with the member's `resize_function`, strings assigned with
    /// `rosidl_runtime_c__String__assignn` / `rosidl_runtime_c__U16String__assignn`, so `msg`
    /// keeps owning its memory through the rosidl allocator. Bytes after the last field are
    /// ignored. Any non-zero byte decodes as `true`.
    ///
    /// # Errors
    /// [`CdrError::BadEncapsulation`], [`CdrError::Truncated`], [`CdrError::LengthTooLarge`]
    /// (a count larger than the input can hold; nothing is allocated for it),
    /// [`CdrError::BoundExceeded`], [`CdrError::InvalidWchar`], [`CdrError::Allocation`].
    /// On error `msg` is partially updated but still a valid message to finalize or reuse.
    ///
    /// # Safety
    /// `msg` points to an initialized (e.g. by the type's init function), writable C message
    /// of this type, not accessed by others during the call.
    pub unsafe fn deserialize(&self, bytes: &[u8], msg: *mut c_void) -> Result<(), CdrError> {
        let mut pass = ReadPass(CdrReader::new(bytes)?);
        crate::counters::record_deserialization();
        // SAFETY: forwarded contract.
        unsafe { walk(&self.plan, msg.cast(), &mut pass) }
    }

    /// Deep-copies the message at `src` into the message at `dst` (the intra-process path:
    /// no CDR). `dst` keeps its memory where sizes already match.
    ///
    /// # Errors
    /// [`CdrError::BoundExceeded`] for a bounded string or sequence over its bound (as when
    /// serializing); [`CdrError::Allocation`]; [`CdrError::InvalidMessage`]. On error `dst` is
    /// partially updated but still a valid message.
    ///
    /// # Safety
    /// `src` and `dst` point to distinct, initialized C messages of this type; `src` is not
    /// mutated and `dst` not accessed by others during the call.
    pub unsafe fn copy_message(
        &self,
        src: *const c_void,
        dst: *mut c_void,
    ) -> Result<(), CdrError> {
        // SAFETY: forwarded contract.
        unsafe { copy::copy(&self.plan, src.cast(), dst.cast())? };
        crate::counters::record_deep_copy();
        Ok(())
    }

    /// Checks that `raw` can hold this type's C struct as it is: the type is plain, `raw` is
    /// exactly [`c_size`](Self::c_size) bytes and aligned to [`MAX_C_ALIGN`].
    pub fn check_raw(&self, raw: *const u8, len: usize) -> crate::error::Result<()> {
        if !self.is_plain() {
            return Err(crate::error::Error::Unsupported(format!(
                "{} is not a fixed-size type: no raw C struct form",
                self.name
            )));
        }
        if len != self.c_size() {
            return Err(crate::error::Error::Other(format!(
                "raw {} sample of {len} bytes, expected {} (a publisher built against another \
                 version of the message package?)",
                self.name,
                self.c_size()
            )));
        }
        if raw as usize % MAX_C_ALIGN != 0 {
            return Err(crate::error::Error::Other(format!(
                "raw {} sample is not aligned to {MAX_C_ALIGN} bytes",
                self.name
            )));
        }
        Ok(())
    }

    /// Runs the type's init function over `raw`, exactly [`c_size`](Self::c_size) bytes
    /// aligned to [`MAX_C_ALIGN`] (e.g. a loaned shared-memory sample), turning it into a
    /// message of this plain type: fields with defaults get them, the others keep the bytes
    /// that were there (as a generated `__init` does). Returns the message pointer (the start
    /// of `raw`).
    ///
    /// # Errors
    /// When the type is not plain, or `raw` has the wrong size or alignment.
    pub fn init_raw(&self, raw: &mut [u8]) -> crate::error::Result<*mut c_void> {
        self.check_raw(raw.as_ptr(), raw.len())?;
        let ptr: *mut c_void = raw.as_mut_ptr().cast();
        // SAFETY: `raw` is c_size writable, initialized bytes aligned for any C struct
        // (checked); a plain struct owns nothing, so initializing over old contents leaks
        // nothing, and any byte pattern is a valid plain message.
        unsafe { self.init_message(ptr) };
        Ok(ptr)
    }

    /// Serializes a raw C struct of this plain type (a sample in the raw format) into CDR.
    ///
    /// # Errors
    /// When the type is not plain, or `raw` has the wrong size or alignment; CDR errors.
    pub fn raw_to_cdr(&self, raw: &[u8]) -> crate::error::Result<Vec<u8>> {
        self.check_raw(raw.as_ptr(), raw.len())?;
        // SAFETY: `raw` holds c_size initialized bytes, aligned for the struct (checked), of a
        // plain type: every byte pattern a publisher of the same build wrote is a valid message
        // and no field is a pointer.
        Ok(unsafe { self.serialize_to_vec(raw.as_ptr().cast()) }?)
    }

    /// Initializes the message at `msg` (all defaults) with the type's `init_function` (for a
    /// C++ type its constructor). Returns false when the type support has no init function, or
    /// when a C++ constructor threw (nothing is left to finalize then).
    ///
    /// # Safety
    /// `msg` points to [`c_size`](Self::c_size) writable bytes, suitably aligned (8), not holding
    /// an initialized message (it would leak).
    pub unsafe fn init_message(&self, msg: *mut c_void) -> bool {
        match self.init {
            None => false,
            Some(Init::C(init)) => {
                // SAFETY: forwarded contract; init_function writes size_of_ bytes.
                unsafe {
                    init(
                        msg,
                        sys::rosidl_runtime_c__message_initialization_ROSIDL_RUNTIME_C_MSG_INIT_ALL,
                    )
                };
                true
            }
            // SAFETY: forwarded contract; the C++ init_function constructs the message in
            // place (placement new) in size_of_ bytes; a throw is caught by the shim (and
            // leaves no constructed message).
            Some(Init::Cpp(init)) => unsafe { cpp::rmw_shm_rs_cpp_call_init(init, msg) },
        }
    }

    /// Finalizes the C message at `msg` (frees what it owns) with the type's `fini_function`.
    /// Returns false when the type support has no fini function.
    ///
    /// # Safety
    /// `msg` points to an initialized C message of this type, unused afterwards until
    /// re-initialized.
    pub unsafe fn fini_message(&self, msg: *mut c_void) -> bool {
        let Some(fini) = self.fini else { return false };
        // SAFETY: forwarded contract.
        unsafe { fini(msg) };
        true
    }
}

/// A ROS service type: its name and its request and response message types.
#[derive(Debug)]
pub struct ServiceType {
    /// The ROS service type name, e.g. `"test_msgs/srv/BasicTypes"`.
    pub name: String,
    /// The request message type (`<Srv>_Request`).
    pub request: Arc<MessageType>,
    /// The response message type (`<Srv>_Response`).
    pub response: Arc<MessageType>,
}
