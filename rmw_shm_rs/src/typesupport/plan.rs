//! Type plans: the flat list of field operations computed once per message type from rosidl
//! introspection data, shared by size counting, serialization and deserialization.

use core::ffi::{c_void, CStr};
use std::sync::Arc;

use super::{MessageType, TypeSupportError};
use crate::sys;

/// `resize_function` of a sequence member: finalizes the sequence and initializes it with
/// `size` default elements; returns false when allocation fails.
pub(crate) type ResizeFn = unsafe extern "C" fn(*mut c_void, usize) -> bool;

/// Layout shared by every rosidl C sequence (`rosidl_runtime_c__*__Sequence` and
/// `<pkg>__msg__<Type>__Sequence`).
#[repr(C)]
pub(crate) struct CSequence {
    pub data: *mut c_void,
    pub size: usize,
    pub capacity: usize,
}

/// A primitive as stored in a C message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prim {
    /// `bool`: 1 byte, 0 or 1 on the wire.
    Bool,
    /// Integers, floats, `char`, `byte`: the wire image is the little-endian memory image, so
    /// arrays are one bulk copy. The value is the size in bytes (1, 2, 4 or 8), also the wire
    /// alignment.
    Fixed(usize),
    /// `long double`: 16 bytes copied verbatim, aligned to 8 (x86-64 and aarch64 layout).
    /// No installed type uses it, so this is not verified against Fast DDS.
    LongDouble,
    /// `wchar`: a `uint16_t` in C, a 4-byte value on the wire (what Fast CDR writes for each
    /// `wchar_t`, as seen in its wstrings).
    WChar,
}

impl Prim {
    /// Size of one element in C memory.
    pub(crate) fn mem_size(self) -> usize {
        match self {
            Prim::Bool => 1,
            Prim::Fixed(n) => n,
            Prim::LongDouble => 16,
            Prim::WChar => 2,
        }
    }

    /// Size of one element on the wire.
    pub(crate) fn wire_size(self) -> usize {
        match self {
            Prim::WChar => 4,
            other => other.mem_size(),
        }
    }
}

/// What one element of a field is.
pub(crate) enum Elem {
    Prim(Prim),
    /// `rosidl_runtime_c__String`.
    String,
    /// `rosidl_runtime_c__U16String`.
    WString,
    /// A nested message, encoded inline with no alignment of its own.
    Message(Arc<MessageType>),
}

/// How a sequence is reached in memory. Only the C layout exists today; the C++ flavour
/// (`std::vector`, `std::vector<bool>`) will add a variant that goes through the member's
/// `size_function` / `get_function` / `resize_function` pointers.
pub(crate) enum SeqAccess {
    /// A [`CSequence`] at the field offset, resized with the member's `resize_function`.
    C { resize: ResizeFn },
}

/// How many elements a field has.
pub(crate) enum Shape {
    Single,
    /// Fixed-size array: no length on the wire.
    Array(usize),
    /// Sequence: `u32` count on the wire; `bound` for bounded sequences.
    Sequence {
        bound: Option<usize>,
        access: SeqAccess,
    },
}

/// One member of a message.
pub(crate) struct FieldOp {
    pub name: Box<str>,
    /// Byte offset of the member in the C struct.
    pub offset: usize,
    pub elem: Elem,
    pub shape: Shape,
    /// Upper bound of a bounded string or wstring (characters, NUL excluded).
    pub str_bound: Option<usize>,
}

impl FieldOp {
    /// Smallest encoded size of one element (used to bound untrusted counts).
    pub(crate) fn min_elem_wire(&self) -> usize {
        match &self.elem {
            Elem::Prim(p) => p.wire_size(),
            Elem::String | Elem::WString => 4,
            Elem::Message(t) => t.plan.min_wire,
        }
    }

    /// Size of one element in C memory.
    pub(crate) fn elem_mem_size(&self) -> usize {
        match &self.elem {
            Elem::Prim(p) => p.mem_size(),
            Elem::String => core::mem::size_of::<sys::rosidl_runtime_c__String>(),
            Elem::WString => core::mem::size_of::<sys::rosidl_runtime_c__U16String>(),
            Elem::Message(t) => t.plan.size_of,
        }
    }
}

/// The traversal plan of one message type.
pub(crate) struct Plan {
    pub ops: Vec<FieldOp>,
    /// `size_of_` of the C struct.
    pub size_of: usize,
    /// Fixed-size C struct without pointers (recursively).
    pub plain: bool,
    /// Lower bound of the encoded body size (alignment ignored), at least 1.
    pub min_wire: usize,
}

/// Reads a C string of the introspection data.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string.
pub(crate) unsafe fn c_str(p: *const core::ffi::c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: non-null and NUL-terminated per the contract.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn prim_of(type_id: u8) -> Option<Prim> {
    // Values of rosidl_typesupport_introspection_c_field_types (same numbers in the C++ flavour).
    Some(match type_id {
        1 => Prim::Fixed(4),             // float
        2 => Prim::Fixed(8),             // double
        3 => Prim::LongDouble,           // long double
        4 | 7 | 8 | 9 => Prim::Fixed(1), // char, octet, uint8, int8
        5 => Prim::WChar,                // wchar
        6 => Prim::Bool,                 // boolean
        10 | 11 => Prim::Fixed(2),       // uint16, int16
        12 | 13 => Prim::Fixed(4),       // uint32, int32
        14 | 15 => Prim::Fixed(8),       // uint64, int64
        _ => return None,
    })
}

const TYPE_STRING: u8 = 16;
const TYPE_WSTRING: u8 = 17;
const TYPE_MESSAGE: u8 = 18;

/// Builds the plan of the C introspection `members`; `nested` resolves the type support handle
/// of a nested message member (through the shared cache, so nested types share plans).
///
/// # Safety
/// `members` points to valid `rosidl_typesupport_introspection_c__MessageMembers` whose
/// `members_` array has `member_count_` entries, all of it alive for the process lifetime.
pub(crate) unsafe fn build_plan(
    members: *const sys::rosidl_typesupport_introspection_c__MessageMembers,
    nested: &mut dyn FnMut(
        *const sys::rosidl_message_type_support_t,
    ) -> Result<Arc<MessageType>, TypeSupportError>,
) -> Result<Plan, TypeSupportError> {
    // SAFETY: valid per the contract.
    let mm = unsafe { &*members };
    let count = mm.member_count_ as usize;
    if count > 0 && mm.members_.is_null() {
        return Err(TypeSupportError::InvalidMember {
            field: String::new(),
            reason: "member array is null",
        });
    }
    let mut ops = Vec::with_capacity(count);
    let mut plain = true;
    let mut min_wire: usize = 0;
    for i in 0..count {
        // SAFETY: `members_` has `member_count_` entries per the contract.
        let m = unsafe { &*mm.members_.add(i) };
        // SAFETY: introspection names are NUL-terminated static strings.
        let name = unsafe { c_str(m.name_) };
        let invalid = |reason| TypeSupportError::InvalidMember {
            field: name.clone(),
            reason,
        };
        let elem = match m.type_id_ {
            TYPE_STRING => Elem::String,
            TYPE_WSTRING => Elem::WString,
            TYPE_MESSAGE => {
                if m.members_.is_null() {
                    return Err(invalid("nested message type support is null"));
                }
                Elem::Message(nested(m.members_)?)
            }
            id => Elem::Prim(prim_of(id).ok_or(TypeSupportError::UnknownFieldType {
                field: name.clone(),
                type_id: id,
            })?),
        };
        let shape = if !m.is_array_ {
            Shape::Single
        } else if m.array_size_ > 0 && !m.is_upper_bound_ {
            Shape::Array(m.array_size_)
        } else {
            let resize = m
                .resize_function
                .ok_or_else(|| invalid("sequence has no resize_function"))?;
            let bound = m.is_upper_bound_.then_some(m.array_size_);
            Shape::Sequence {
                bound,
                access: SeqAccess::C { resize },
            }
        };
        let str_bound = (matches!(elem, Elem::String | Elem::WString) && m.string_upper_bound_ > 0)
            .then_some(m.string_upper_bound_);
        let op = FieldOp {
            name: name.clone().into(),
            offset: m.offset_ as usize,
            elem,
            shape,
            str_bound,
        };

        // Layout sanity: the member must lie inside the struct.
        let footprint = match op.shape {
            Shape::Single => Some(op.elem_mem_size()),
            Shape::Array(n) => op.elem_mem_size().checked_mul(n),
            Shape::Sequence { .. } => Some(core::mem::size_of::<CSequence>()),
        };
        match footprint.and_then(|f| f.checked_add(op.offset)) {
            Some(end) if end <= mm.size_of_ => {}
            _ => return Err(invalid("member lies outside the struct (size_of_)")),
        }

        let elem_plain = match &op.elem {
            Elem::Prim(_) => true,
            Elem::String | Elem::WString => false,
            Elem::Message(t) => t.plan.plain,
        };
        plain &= elem_plain && !matches!(op.shape, Shape::Sequence { .. });
        let field_min = match op.shape {
            Shape::Single => op.min_elem_wire(),
            Shape::Array(n) => op.min_elem_wire().saturating_mul(n),
            Shape::Sequence { .. } => 4,
        };
        min_wire = min_wire.saturating_add(field_min);
        ops.push(op);
    }
    Ok(Plan {
        ops,
        size_of: mm.size_of_,
        plain,
        min_wire: min_wire.max(1),
    })
}
