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

use super::cpp;
use super::plan::{CSequence, Elem, FieldOp, Plan, SeqAccess, Shape, StrRef, WStrRef};
use crate::cdr::CdrError;

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
            Shape::Sequence { bound, access } => {
                // SAFETY: each field holds an initialized sequence reached by `access`.
                unsafe { sequence(op, s, d, *bound, access)? }
            }
        }
    }
    Ok(())
}

/// Copies the sequence at `s` into the one at `d`.
///
/// # Safety
/// Both point to initialized sequences reached by `access`; `d` is writable and distinct.
unsafe fn sequence(
    op: &FieldOp,
    s: *const u8,
    d: *mut u8,
    bound: Option<usize>,
    access: &SeqAccess,
) -> Result<(), CdrError> {
    let alloc_err = || CdrError::Allocation {
        field: op.name.to_string(),
    };
    let (sm, dm) = (s.cast::<c_void>(), d.cast::<c_void>());
    match access {
        SeqAccess::C { resize } => {
            let (ss, ds) = (s.cast::<CSequence>(), d.cast::<CSequence>());
            // SAFETY: a C sequence struct lies at each field (plan layout check).
            let (n, current) = unsafe { ((*ss).size, (*ds).size) };
            check_bound(op, n, bound)?;
            // SAFETY: `resize` is the member's resize_function for this sequence type.
            if n != current && !unsafe { resize(dm, n) } {
                return Err(alloc_err());
            }
            if n == 0 {
                return Ok(());
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
            unsafe { elems(op, sd, dd, n) }
        }
        SeqAccess::Cpp {
            size,
            get,
            get_const,
            resize,
        } => {
            // SAFETY: the member's own size_function on each std::vector / BoundedVector.
            let (n, current) = unsafe { (size(sm), size(dm.cast_const())) };
            check_bound(op, n, bound)?;
            if n != current {
                // SAFETY: the member's own resize_function on its initialized member.
                unsafe { cpp::resize(*resize, dm, n, &op.name)? };
            }
            if n == 0 {
                return Ok(());
            }
            // SAFETY: both hold n >= 1 elements, contiguous from element 0 (T != bool).
            let (sd, dd) = unsafe { (get_const(sm, 0), get(dm, 0)) };
            // SAFETY: `n` initialized elements at each.
            unsafe { elems(op, sd.cast(), dd.cast(), n) }
        }
        SeqAccess::CppBool {
            size,
            fetch,
            assign,
            resize,
        } => {
            // SAFETY: the member's own size_function on each std::vector<bool>.
            let (n, current) = unsafe { (size(sm), size(dm.cast_const())) };
            check_bound(op, n, bound)?;
            if n != current {
                // SAFETY: the member's own resize_function on its initialized member.
                unsafe { cpp::resize(*resize, dm, n, &op.name)? };
            }
            for i in 0..n {
                let mut b = false;
                // SAFETY: index < size of both; fetch writes one bool, assign reads one.
                unsafe {
                    fetch(sm, i, (&mut b as *mut bool).cast());
                    assign(dm, i, (&b as *const bool).cast());
                }
            }
            Ok(())
        }
    }
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
        Elem::String(flavor) => {
            for i in 0..n {
                // SAFETY: element `i` of `n` strings at each.
                let (s, d) = unsafe { (src.add(i * stride), dst.add(i * stride)) };
                let s = StrRef {
                    ptr: s.cast_mut().cast(),
                    flavor: *flavor,
                };
                let d = StrRef {
                    ptr: d.cast(),
                    flavor: *flavor,
                };
                // SAFETY: initialized strings of their flavour; `d` writable.
                unsafe { string(op, s, d)? };
            }
        }
        Elem::WString(flavor) => {
            for i in 0..n {
                // SAFETY: element `i` of `n` wide strings at each.
                let (s, d) = unsafe { (src.add(i * stride), dst.add(i * stride)) };
                let s = WStrRef {
                    ptr: s.cast_mut().cast(),
                    flavor: *flavor,
                };
                let d = WStrRef {
                    ptr: d.cast(),
                    flavor: *flavor,
                };
                // SAFETY: initialized wide strings of their flavour; `d` writable.
                unsafe { wstring(op, s, d)? };
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
/// Initialized strings; `d` writable and distinct from `s`.
unsafe fn string(op: &FieldOp, s: StrRef, d: StrRef) -> Result<(), CdrError> {
    // SAFETY: an initialized string.
    let (data, size) = unsafe { s.parts() };
    check_bound(op, size, op.str_bound)?;
    let data = if size == 0 || data.is_null() {
        c"".as_ptr().cast()
    } else {
        data
    };
    // SAFETY: `d` is initialized and writable; `data` holds `size` bytes of another string.
    if !unsafe { d.assign(data, size) } {
        return Err(CdrError::Allocation {
            field: op.name.to_string(),
        });
    }
    Ok(())
}

/// # Safety
/// Initialized wide strings; `d` writable and distinct from `s`.
unsafe fn wstring(op: &FieldOp, s: WStrRef, d: WStrRef) -> Result<(), CdrError> {
    static EMPTY: [u16; 1] = [0];
    // SAFETY: an initialized wide string.
    let (data, size) = unsafe { s.parts() };
    check_bound(op, size, op.str_bound)?;
    let data = if size == 0 || data.is_null() {
        EMPTY.as_ptr()
    } else {
        data
    };
    // SAFETY: `d` is initialized and writable; `data` holds `size` code units of another
    // string.
    if !unsafe { d.assign(data, size) } {
        return Err(CdrError::Allocation {
            field: op.name.to_string(),
        });
    }
    Ok(())
}
