//! The one traversal of a C message along its [`Plan`], generic over a [`Pass`]: counting the
//! size ([`SizePass`]), writing CDR ([`WritePass`]) and reading CDR into the message
//! ([`ReadPass`]) all go through [`walk`], so the three cannot drift apart.
//!
//! Conventions shared by all passes (matching rmw_fastrtps_cpp):
//! - an empty sequence writes its count and nothing else (no alignment padding for elements);
//! - `bool` is written as 0/1; on reading any non-zero byte is `true` (Fast DDS does the same);
//! - a `wchar` and each wstring code unit take 4 bytes (aligned to 4); a wstring has a `u32`
//!   count of UTF-16 code units and no terminating NUL;
//! - bounds of bounded strings and sequences are enforced in both directions.

use core::ffi::c_void;

use super::cpp;
use super::plan::{CSequence, Elem, FieldOp, Plan, Prim, SeqAccess, Shape, StrRef, WStrRef};
use crate::cdr::{CdrError, CdrReader, CdrWriter, SizeCounter};

#[cfg(not(target_endian = "little"))]
compile_error!("the CDR codec bulk-copies primitives and supports little-endian hosts only");

/// One way of visiting the fields of a message. [`walk`] drives it.
pub(crate) trait Pass {
    /// True when the pass writes into the C message (deserialization): sequences are resized.
    const DECODES: bool;

    /// `count` (> 0) primitives stored contiguously at `ptr`.
    ///
    /// # Safety
    /// `ptr` points to `count` elements of `prim` in C memory (writable if `DECODES`).
    unsafe fn prims(
        &mut self,
        ptr: *mut u8,
        count: usize,
        prim: Prim,
        op: &FieldOp,
    ) -> Result<(), CdrError>;

    /// One string.
    ///
    /// # Safety
    /// `s` points to an initialized string of its flavour (writable if `DECODES`).
    unsafe fn string(&mut self, s: StrRef, op: &FieldOp) -> Result<(), CdrError>;

    /// One wide string.
    ///
    /// # Safety
    /// `s` points to an initialized wide string of its flavour (writable if `DECODES`).
    unsafe fn wstring(&mut self, s: WStrRef, op: &FieldOp) -> Result<(), CdrError>;

    /// A sequence count: encoders emit `current` and return it; the decoder reads the count,
    /// checks that `count * min_elem_wire` bytes remain, and returns it.
    fn seq_len(&mut self, current: usize, min_elem_wire: usize) -> Result<usize, CdrError>;
}

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

/// Visits every field of the message at `base` in declaration order.
///
/// # Safety
/// `base` points to an initialized C message of the plan's type (writable if `P::DECODES`;
/// encoders never write through it).
pub(crate) unsafe fn walk<P: Pass>(plan: &Plan, base: *mut u8, p: &mut P) -> Result<(), CdrError> {
    for op in &plan.ops {
        // SAFETY: the plan checked that offset + footprint <= size_of_.
        let field = unsafe { base.add(op.offset) };
        match &op.shape {
            // SAFETY: `field` holds one element of `op.elem`.
            Shape::Single => unsafe { elems(op, field, 1, p)? },
            // SAFETY: `field` holds `n` contiguous elements.
            Shape::Array(n) => unsafe { elems(op, field, *n, p)? },
            Shape::Sequence { bound, access } => {
                // SAFETY: the field holds a sequence of the plan's access kind.
                unsafe { sequence(op, field, *bound, access, p)? }
            }
        }
    }
    Ok(())
}

/// Visits the sequence at `field`.
///
/// # Safety
/// `field` points to an initialized sequence reached by `access` (writable if `P::DECODES`).
unsafe fn sequence<P: Pass>(
    op: &FieldOp,
    field: *mut u8,
    bound: Option<usize>,
    access: &SeqAccess,
    p: &mut P,
) -> Result<(), CdrError> {
    let alloc_err = || CdrError::Allocation {
        field: op.name.to_string(),
    };
    let member = field.cast::<c_void>();
    match access {
        SeqAccess::C { resize } => {
            let seq = field.cast::<CSequence>();
            // SAFETY: a C sequence struct lies at `field` (plan layout check).
            let current = unsafe { (*seq).size };
            let n = p.seq_len(current, op.min_elem_wire())?;
            check_bound(op, n, bound)?;
            if n == 0 && !P::DECODES {
                return Ok(());
            }
            // SAFETY: `resize` is the member's own resize_function for this sequence type;
            // it finalizes the old elements and initializes `n` new ones.
            if P::DECODES && n != current && !unsafe { resize(member, n) } {
                return Err(alloc_err());
            }
            if n == 0 {
                return Ok(());
            }
            // SAFETY: as above; read after a possible resize.
            let data = unsafe { (*seq).data }.cast::<u8>();
            if data.is_null() {
                return Err(CdrError::InvalidMessage {
                    field: op.name.to_string(),
                    reason: "sequence has a size but a null data pointer",
                });
            }
            // SAFETY: an initialized sequence's data holds `size` (== n) elements.
            unsafe { elems(op, data, n, p) }
        }
        SeqAccess::Cpp {
            size,
            get,
            get_const,
            resize,
        } => {
            // SAFETY: the member's own size_function on its std::vector / BoundedVector.
            let current = unsafe { size(member) };
            let n = p.seq_len(current, op.min_elem_wire())?;
            check_bound(op, n, bound)?;
            if P::DECODES && n != current {
                // SAFETY: the member's own resize_function on its initialized member.
                unsafe { cpp::resize(*resize, member, n, &op.name)? };
            }
            if n == 0 {
                return Ok(());
            }
            // SAFETY: the vector holds n >= 1 elements; element 0's address starts its
            // contiguous storage (std::vector<T>, T != bool).
            let data = unsafe {
                if P::DECODES {
                    get(member, 0)
                } else {
                    get_const(member, 0).cast_mut()
                }
            };
            // SAFETY: `n` contiguous initialized elements at `data`.
            unsafe { elems(op, data.cast(), n, p) }
        }
        SeqAccess::CppBool {
            size,
            fetch,
            assign,
            resize,
        } => {
            // SAFETY: the member's own size_function on its std::vector<bool>.
            let current = unsafe { size(member) };
            let n = p.seq_len(current, op.min_elem_wire())?;
            check_bound(op, n, bound)?;
            if P::DECODES && n != current {
                // SAFETY: the member's own resize_function on its initialized member.
                unsafe { cpp::resize(*resize, member, n, &op.name)? };
            }
            if n == 0 {
                return Ok(());
            }
            // Bit-packed: go through one byte per element. For the decoder `n` was checked
            // against the remaining input (at least one byte per element).
            let mut tmp = vec![0u8; n];
            if !P::DECODES {
                for (i, b) in tmp.iter_mut().enumerate() {
                    // SAFETY: index < size; fetch writes one `bool` into `b`.
                    unsafe { fetch(member, i, (b as *mut u8).cast()) };
                }
            }
            // SAFETY: `tmp` holds `n` valid bools (0/1), writable.
            unsafe { p.prims(tmp.as_mut_ptr(), n, Prim::Bool, op)? };
            if P::DECODES {
                for (i, &b) in tmp.iter().enumerate() {
                    let v = b != 0;
                    // SAFETY: index < size (resized above); `v` is a valid bool.
                    unsafe { assign(member, i, (&v as *const bool).cast()) };
                }
            }
            Ok(())
        }
    }
}

/// Visits `n` contiguous elements of `op.elem` starting at `ptr`.
///
/// # Safety
/// `ptr` points to `n` initialized elements (writable if `P::DECODES`).
unsafe fn elems<P: Pass>(op: &FieldOp, ptr: *mut u8, n: usize, p: &mut P) -> Result<(), CdrError> {
    let stride = op.elem_mem_size();
    match &op.elem {
        // SAFETY: forwarded contract.
        Elem::Prim(prim) => unsafe { p.prims(ptr, n, *prim, op) },
        Elem::String(flavor) => (0..n).try_for_each(|i| {
            // SAFETY: element `i` of `n` strings.
            let e = unsafe { ptr.add(i * stride) };
            let s = StrRef {
                ptr: e.cast(),
                flavor: *flavor,
            };
            // SAFETY: an initialized string of its flavour.
            unsafe { p.string(s, op) }
        }),
        Elem::WString(flavor) => (0..n).try_for_each(|i| {
            // SAFETY: element `i` of `n` wide strings.
            let e = unsafe { ptr.add(i * stride) };
            let s = WStrRef {
                ptr: e.cast(),
                flavor: *flavor,
            };
            // SAFETY: an initialized wide string of its flavour.
            unsafe { p.wstring(s, op) }
        }),
        Elem::Message(t) => (0..n).try_for_each(|i| {
            // SAFETY: element `i` of `n` nested messages of type `t`, inline, no alignment.
            unsafe { walk(&t.plan, ptr.add(i * stride), p) }
        }),
    }
}

/// Borrows the characters of a C string.
///
/// # Safety
/// `s` points to an initialized string whose `data` holds `size` bytes (or is null if empty).
unsafe fn chars<'a, T>(data: *const T, size: usize, op: &FieldOp) -> Result<&'a [T], CdrError> {
    if size == 0 {
        return Ok(&[]);
    }
    if data.is_null() {
        return Err(CdrError::InvalidMessage {
            field: op.name.to_string(),
            reason: "string data is null",
        });
    }
    // SAFETY: `data` holds `size` elements per the contract.
    Ok(unsafe { core::slice::from_raw_parts(data, size) })
}

/// Counts the exact encoded size.
pub(crate) struct SizePass(pub SizeCounter);

impl Pass for SizePass {
    const DECODES: bool = false;

    unsafe fn prims(
        &mut self,
        _ptr: *mut u8,
        count: usize,
        prim: Prim,
        _op: &FieldOp,
    ) -> Result<(), CdrError> {
        let align = match prim {
            Prim::LongDouble => 8,
            other => other.wire_size(),
        };
        self.0.add(align, count * prim.wire_size());
        Ok(())
    }

    unsafe fn string(&mut self, s: StrRef, op: &FieldOp) -> Result<(), CdrError> {
        // SAFETY: initialized string per the contract.
        let len = unsafe { s.parts() }.1;
        check_bound(op, len, op.str_bound)?;
        self.0.add_string(len);
        Ok(())
    }

    unsafe fn wstring(&mut self, s: WStrRef, op: &FieldOp) -> Result<(), CdrError> {
        // SAFETY: initialized string per the contract.
        let len = unsafe { s.parts() }.1;
        check_bound(op, len, op.str_bound)?;
        self.0.add_u32();
        if len > 0 {
            self.0.add(4, len * 4);
        }
        Ok(())
    }

    fn seq_len(&mut self, current: usize, _min: usize) -> Result<usize, CdrError> {
        self.0.add_u32();
        Ok(current)
    }
}

/// Writes CDR into a caller buffer.
pub(crate) struct WritePass<'a>(pub CdrWriter<'a>);

impl Pass for WritePass<'_> {
    const DECODES: bool = false;

    unsafe fn prims(
        &mut self,
        ptr: *mut u8,
        count: usize,
        prim: Prim,
        _op: &FieldOp,
    ) -> Result<(), CdrError> {
        match prim {
            Prim::WChar => (0..count).try_for_each(|i| {
                // SAFETY: `count` u16 elements at `ptr`.
                let c = unsafe { ptr.cast::<u16>().add(i).read_unaligned() };
                self.0.write_u32(u32::from(c))
            }),
            _ => {
                // SAFETY: `count` elements of `mem_size` bytes at `ptr`, initialized C memory.
                let bytes = unsafe { core::slice::from_raw_parts(ptr, count * prim.mem_size()) };
                match prim {
                    Prim::Bool => self.0.write_bools(bytes),
                    Prim::LongDouble => self.0.write_aligned(8, bytes),
                    _ => self.0.write_aligned(prim.wire_size(), bytes),
                }
            }
        }
    }

    unsafe fn string(&mut self, s: StrRef, op: &FieldOp) -> Result<(), CdrError> {
        // SAFETY: initialized string per the contract.
        let (data, len) = unsafe { s.parts() };
        check_bound(op, len, op.str_bound)?;
        // SAFETY: `data` holds `size` bytes.
        let bytes = unsafe { chars(data, len, op)? };
        self.0.write_string_bytes(bytes)
    }

    unsafe fn wstring(&mut self, s: WStrRef, op: &FieldOp) -> Result<(), CdrError> {
        // SAFETY: initialized string per the contract.
        let (data, len) = unsafe { s.parts() };
        check_bound(op, len, op.str_bound)?;
        // SAFETY: `data` holds `size` code units.
        let units = unsafe { chars(data, len, op)? };
        self.0.write_len(len)?;
        units
            .iter()
            .try_for_each(|&u| self.0.write_u32(u32::from(u)))
    }

    fn seq_len(&mut self, current: usize, _min: usize) -> Result<usize, CdrError> {
        self.0.write_len(current)?;
        Ok(current)
    }
}

/// Reads CDR into an initialized C message.
pub(crate) struct ReadPass<'a>(pub CdrReader<'a>);

impl ReadPass<'_> {
    fn wide(&mut self, op: &FieldOp) -> Result<u16, CdrError> {
        let v = self.0.read_u32()?;
        u16::try_from(v).map_err(|_| CdrError::InvalidWchar {
            field: op.name.to_string(),
            value: v,
        })
    }
}

impl Pass for ReadPass<'_> {
    const DECODES: bool = true;

    unsafe fn prims(
        &mut self,
        ptr: *mut u8,
        count: usize,
        prim: Prim,
        op: &FieldOp,
    ) -> Result<(), CdrError> {
        if prim == Prim::WChar {
            self.0.check_count(count as u64, 4)?;
            return (0..count).try_for_each(|i| {
                let c = self.wide(op)?;
                // SAFETY: `count` writable u16 elements at `ptr`.
                unsafe { ptr.cast::<u16>().add(i).write_unaligned(c) };
                Ok(())
            });
        }
        // Sequence counts were checked against the input (count * size <= remaining); fixed
        // array sizes come from the plan and fit in the struct, so this cannot overflow.
        let len = count * prim.mem_size();
        let align = if prim == Prim::LongDouble {
            8
        } else {
            prim.wire_size()
        };
        let src = self.0.read_aligned(align, len)?;
        if prim == Prim::Bool {
            for (i, b) in src.iter().enumerate() {
                // SAFETY: `count` writable bools at `ptr`; 0/1 keeps the C bool valid.
                unsafe { ptr.add(i).write(u8::from(*b != 0)) };
            }
        } else {
            // SAFETY: `src` has `len` bytes; `ptr` has `len` writable bytes that do not overlap
            // the input buffer (one is C message memory, the other the received bytes).
            unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), ptr, len) };
        }
        Ok(())
    }

    unsafe fn string(&mut self, s: StrRef, op: &FieldOp) -> Result<(), CdrError> {
        let bytes = self.0.read_string_bytes()?;
        check_bound(op, bytes.len(), op.str_bound)?;
        let src: *const u8 = if bytes.is_empty() {
            c"".as_ptr().cast()
        } else {
            bytes.as_ptr()
        };
        // SAFETY: `s` is an initialized, writable string; `src` holds `bytes.len()` bytes of
        // the input buffer.
        if !unsafe { s.assign(src, bytes.len()) } {
            return Err(CdrError::Allocation {
                field: op.name.to_string(),
            });
        }
        Ok(())
    }

    unsafe fn wstring(&mut self, s: WStrRef, op: &FieldOp) -> Result<(), CdrError> {
        let n = self.0.read_count(4)?;
        check_bound(op, n, op.str_bound)?;
        // Bounded by the input: n * 4 <= remaining bytes.
        let units = (0..n)
            .map(|_| self.wide(op))
            .collect::<Result<Vec<u16>, _>>()?;
        static EMPTY: [u16; 1] = [0];
        let src = if units.is_empty() {
            EMPTY.as_ptr()
        } else {
            units.as_ptr()
        };
        // SAFETY: `s` is an initialized, writable wide string; `src` holds `n` code units.
        if !unsafe { s.assign(src, n) } {
            return Err(CdrError::Allocation {
                field: op.name.to_string(),
            });
        }
        Ok(())
    }

    fn seq_len(&mut self, _current: usize, min_elem_wire: usize) -> Result<usize, CdrError> {
        self.0.read_count(min_elem_wire)
    }
}
