//! rmw/rmw.h serialization: CDR from the introspection type support, the same bytes the
//! publishers put into shared memory.

use std::ffi::c_void;
use std::mem::MaybeUninit;

use super::handles::non_null;
use crate::error::Error;
use crate::rmw_export;
use crate::sys::*;
use crate::typesupport::message_type;
use crate::typesupport::{MessageMut, MessageRef};

rmw_export! {
    /// Serializes `ros_message` into `serialized_message`, growing it with its allocator.
    fn rmw_serialize(ros_message: *const c_void, type_support: *const rosidl_message_type_support_t, serialized_message: *mut rmw_serialized_message_t) -> rmw_ret_t {
        non_null(ros_message, "ros_message")?;
        non_null(type_support, "type_support")?;
        non_null(serialized_message, "serialized_message")?;
        // SAFETY: a rosidl type support handle (non-null).
        let ty = unsafe { message_type(type_support)? };
        // SAFETY: the caller passes a message of that type.
        let msg = unsafe { MessageRef::new(ros_message, &ty) };
        let len = msg.serialized_size()?;
        // SAFETY: non-null caller-owned array with a valid allocator.
        let arr = unsafe { &mut *serialized_message };
        if arr.buffer_capacity < len {
            // SAFETY: as above.
            let r = unsafe { rcutils_uint8_array_resize(arr, len) };
            if r != crate::error::RET_OK {
                return Err(Error::BadAlloc(format!("cannot grow the serialized message to {len} bytes")));
            }
        }
        // SAFETY: the buffer has `buffer_capacity >= len` bytes.
        let out = unsafe { std::slice::from_raw_parts_mut(arr.buffer.cast::<MaybeUninit<u8>>(), len) };
        arr.buffer_length = msg.serialize(out)?;
        Ok(())
    }
}

rmw_export! {
    /// Deserializes CDR bytes into an initialized `ros_message`; malformed bytes give
    /// RMW_RET_ERROR with the reason.
    fn rmw_deserialize(serialized_message: *const rmw_serialized_message_t, type_support: *const rosidl_message_type_support_t, ros_message: *mut c_void) -> rmw_ret_t {
        non_null(serialized_message, "serialized_message")?;
        non_null(type_support, "type_support")?;
        non_null(ros_message, "ros_message")?;
        // SAFETY: a rosidl type support handle (non-null).
        let ty = unsafe { message_type(type_support)? };
        // SAFETY: non-null caller-owned array.
        let arr = unsafe { &*serialized_message };
        let bytes = if arr.buffer_length == 0 {
            &[][..]
        } else {
            non_null(arr.buffer, "serialized_message buffer")?;
            // SAFETY: `buffer_length` initialized bytes.
            unsafe { std::slice::from_raw_parts(arr.buffer, arr.buffer_length) }
        };
        // SAFETY: the caller passes an initialized message of that type.
        let mut msg = unsafe { MessageMut::new(ros_message, &ty) };
        msg.deserialize(bytes)
    }
}

rmw_export! {
    /// The serialized size of messages of a fixed-size type (no strings or sequences),
    /// encapsulation header included. Types whose size depends on their content give
    /// RMW_RET_UNSUPPORTED (as rmw_fastrtps_cpp does for all types); `message_bounds` is unused.
    fn rmw_get_serialized_message_size(type_support: *const rosidl_message_type_support_t, message_bounds: *const rosidl_runtime_c__Sequence__bound, size: *mut usize) -> rmw_ret_t {
        let _ = message_bounds;
        non_null(type_support, "type_support")?;
        non_null(size, "size")?;
        // SAFETY: a rosidl type support handle (non-null).
        let ty = unsafe { message_type(type_support)? };
        if !ty.is_plain() {
            return Err(Error::Unsupported(format!(
                "the serialized size of {} depends on its content (strings or sequences)",
                ty.type_name()
            )));
        }
        // A fixed-size C message has no pointers, so all-zero bytes are a valid instance and
        // its encoding has the size every instance has.
        let zeroed = vec![0u64; ty.c_size().div_ceil(8).max(1)];
        // SAFETY: `zeroed` is 8-byte aligned, large enough and a valid instance (see above).
        let msg = unsafe { MessageRef::new(zeroed.as_ptr().cast(), &ty) };
        // SAFETY: non-null out-pointer.
        unsafe { *size = msg.serialized_size()? };
        Ok(())
    }
}
