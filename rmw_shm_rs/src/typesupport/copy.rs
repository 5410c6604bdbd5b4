//! Deep copy of one C message into another of the same type, along the type's [`Plan`]: what the
//! intra-process path does instead of serializing (issue 4). Primitives and fixed arrays of
//! primitives are one `memcpy` per field; strings are assigned with
//! `rosidl_runtime_c__String__assignn` / `rosidl_runtime_c__U16String__assignn`; sequences are
//! resized with the member's `resize_function` only when their size differs (so a destination
//! that already has the right size reuses its memory), then copied element by element or in
//! bulk. The destination keeps owning its memory through the rosidl allocator.
//!
//! Bounds of bounded strings and sequences are enforced as in serialization, so a message the
//! shared-memory path would refuse is refused here too.

use core::ffi::c_void;

use super::plan::{CSequence, Elem, FieldOp, Plan, SeqAccess, Shape};
use crate::cdr::CdrError;
use crate::sys;

type CString = sys::rosidl_runtime_c__String;
type CU16String = sys::rosidl_runtime_c__U16String;

fn check_bound(op: &FieldOp, len: usize, bound: Option<usize>) -> Result<(), CdrError> {
    match bound {
        Some(bound) if len > bound => Err(CdrError::BoundExceeded {
            field: op.name.to_string(),
            len,
            bound,
        }),
        _ => Ok(()),
    }
}

/// Copies every field of the message at `src` into the message at `dst`.
///
/// # Safety
/// `src` and `dst` point to distinct, initialized C messages of the plan's type; `src` is not
/// mutated and `dst` not accessed by others during the call.
pub(crate) unsafe fn copy(plan: &Plan, src: *const u8, dst: *mut u8) -> Result<(), CdrError> {
    if plan.plain {
        // SAFETY: a plain struct owns no memory: its bytes are the whole message; both hold
        // size_of bytes and are distinct messages.
        unsafe { core::ptr::copy_nonoverlapping(src, dst, plan.size_of) };
        return Ok(());
    }
    for op in &plan.ops {
        // SAFETY: the plan checked that offset + footprint <= size_of.
        let (s, d) = unsafe { (src.add(op.offset), dst.add(op.offset)) };
        match &op.shape {
            // SAFETY: one element of `op.elem` at each.
            Shape::Single => unsafe { elems(op, s, d, 1)? },
            // SAFETY: `n` contiguous elements at each.
            Shape::Array(n) => unsafe { elems(op, s, d, *n)? },
            Shape::Sequence {
                bound,
                access: SeqAccess::C { resize },
            } => {
                let (ss, ds) = (s.cast::<CSequence>(), d.cast::<CSequence>());
                // SAFETY: a C sequence struct lies at each field (plan layout check).
                let (n, current) = unsafe { ((*ss).size, (*ds).size) };
                check_bound(op, n, *bound)?;
                // SAFETY: `resize` is the member's resize_function for this sequence type.
                if n != current && !unsafe { resize(ds.cast::<c_void>(), n) } {
                    return Err(CdrError::Allocation {
                        field: op.name.to_string(),
                    });
                }
                if n == 0 {
                    continue;
                }
                // SAFETY: as above, read after the resize.
                let (sd, dd) = unsafe { ((*ss).data.cast::<u8>(), (*ds).data.cast::<u8>()) };
                if sd.is_null() || dd.is_null() {
                    return Err(CdrError::InvalidMessage {
                        field: op.name.to_string(),
                        reason: "sequence has a size but a null data pointer",
                    });
                }
                // SAFETY: both sequences hold `n` initialized elements.
                unsafe { elems(op, sd, dd, n)? };
            }
        }
    }
    Ok(())
}

/// Copies `n` contiguous elements of `op.elem` from `src` to `dst`.
///
/// # Safety
/// Both point to `n` initialized elements; `dst` is writable and distinct from `src`.
unsafe fn elems(op: &FieldOp, src: *const u8, dst: *mut u8, n: usize) -> Result<(), CdrError> {
    let stride = op.elem_mem_size();
    match &op.elem {
        // SAFETY: `n * stride` bytes at each, not overlapping (distinct messages).
        Elem::Prim(_) => unsafe { core::ptr::copy_nonoverlapping(src, dst, n * stride) },
        Elem::String => {
            for i in 0..n {
                // SAFETY: element `i` of `n` strings at each.
                unsafe { string(op, src.add(i * stride).cast(), dst.add(i * stride).cast())? };
            }
        }
        Elem::WString => {
            for i in 0..n {
                // SAFETY: element `i` of `n` wide strings at each.
                unsafe { wstring(op, src.add(i * stride).cast(), dst.add(i * stride).cast())? };
            }
        }
        Elem::Message(t) => {
            for i in 0..n {
                // SAFETY: element `i` of `n` nested messages of type `t`.
                unsafe { copy(&t.plan, src.add(i * stride), dst.add(i * stride))? };
            }
        }
    }
    Ok(())
}

/// # Safety
/// Initialized strings; `d` writable.
unsafe fn string(op: &FieldOp, s: *const CString, d: *mut CString) -> Result<(), CdrError> {
    // SAFETY: an initialized string.
    let (data, size) = unsafe { ((*s).data, (*s).size) };
    check_bound(op, size, op.str_bound)?;
    let data = if size == 0 || data.is_null() {
        c"".as_ptr()
    } else {
        data.cast_const()
    };
    // SAFETY: `d` is initialized and writable; `data` holds `size` bytes.
    if !unsafe { sys::rosidl_runtime_c__String__assignn(d, data, size) } {
        return Err(CdrError::Allocation {
            field: op.name.to_string(),
        });
    }
    Ok(())
}

/// # Safety
/// Initialized wide strings; `d` writable.
unsafe fn wstring(op: &FieldOp, s: *const CU16String, d: *mut CU16String) -> Result<(), CdrError> {
    static EMPTY: [u16; 1] = [0];
    // SAFETY: an initialized wide string.
    let (data, size) = unsafe { ((*s).data, (*s).size) };
    check_bound(op, size, op.str_bound)?;
    let data = if size == 0 || data.is_null() {
        EMPTY.as_ptr()
    } else {
        data.cast_const()
    };
    // SAFETY: `d` is initialized and writable; `data` holds `size` code units.
    if !unsafe { sys::rosidl_runtime_c__U16String__assignn(d, data, size) } {
        return Err(CdrError::Allocation {
            field: op.name.to_string(),
        });
    }
    Ok(())
}
