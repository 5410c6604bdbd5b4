//! Type plans: the flat list of field operations computed once per message type from rosidl
//! introspection data, shared by size counting, serialization and deserialization.

use core::ffi::{c_void, CStr};
use std::sync::Arc;

use super::cpp::{self, CppMessageMember, CppResizeFn};
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

/// Which generated code a message comes from: the memory layout of its strings and sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `rosidl_typesupport_introspection_c`: `rosidl_runtime_c__String`, C sequence structs.
    C,
    /// `rosidl_typesupport_introspection_cpp`: `std::string`, `std::u16string`, `std::vector`,
    /// `rosidl_runtime_cpp::BoundedVector`, `std::array`.
    Cpp,
}

/// What one element of a field is.
pub(crate) enum Elem {
    Prim(Prim),
    /// `rosidl_runtime_c__String` (C) or `std::string` (C++).
    String(Flavor),
    /// `rosidl_runtime_c__U16String` (C) or `std::u16string` (C++).
    WString(Flavor),
    /// A nested message, encoded inline with no alignment of its own.
    Message(Arc<MessageType>),
}

/// How a sequence is reached in memory.
pub(crate) enum SeqAccess {
    /// A [`CSequence`] at the field offset, resized with the member's `resize_function`.
    C { resize: ResizeFn },
    /// A C++ `std::vector<T>` / `BoundedVector<T, N>` (`T` not `bool`): elements are contiguous
    /// from `get(member, 0)`; sized through the member's function pointers.
    Cpp {
        size: CppSizeFn,
        get: CppGetFn,
        get_const: CppGetConstFn,
        resize: CppResizeFn,
    },
    /// A C++ `std::vector<bool>` / `BoundedVector<bool, N>` (bit-packed): element by element
    /// through `fetch` / `assign`.
    CppBool {
        size: CppSizeFn,
        fetch: CppFetchFn,
        assign: CppAssignFn,
        resize: CppResizeFn,
    },
}

pub(crate) type CppSizeFn = unsafe extern "C" fn(*const c_void) -> usize;
pub(crate) type CppGetFn = unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void;
pub(crate) type CppGetConstFn = unsafe extern "C" fn(*const c_void, usize) -> *const c_void;
pub(crate) type CppFetchFn = unsafe extern "C" fn(*const c_void, usize, *mut c_void);
pub(crate) type CppAssignFn = unsafe extern "C" fn(*mut c_void, usize, *const c_void);

/// A string (`rosidl_runtime_c__String` or `std::string`) in message memory.
#[derive(Clone, Copy)]
pub(crate) struct StrRef {
    pub ptr: *mut c_void,
    pub flavor: Flavor,
}

impl StrRef {
    /// The bytes (`data`, `size`); `data` may be null when `size` is 0.
    ///
    /// # Safety
    /// `ptr` points to an initialized string of `flavor`.
    pub(crate) unsafe fn parts(self) -> (*const u8, usize) {
        match self.flavor {
            Flavor::C => {
                let s = self.ptr.cast::<sys::rosidl_runtime_c__String>();
                // SAFETY: an initialized C string per the contract.
                unsafe { ((*s).data.cast_const().cast(), (*s).size) }
            }
            // SAFETY: an initialized std::string per the contract.
            Flavor::Cpp => unsafe {
                (
                    cpp::rmw_shm_rs_cpp_string_data(self.ptr),
                    cpp::rmw_shm_rs_cpp_string_size(self.ptr),
                )
            },
        }
    }

    /// Replaces the contents with `n` bytes at `data`; false when allocation failed.
    ///
    /// # Safety
    /// `ptr` points to an initialized, writable string of `flavor`; `data` is non-null and
    /// holds `n` bytes not inside the string.
    pub(crate) unsafe fn assign(self, data: *const u8, n: usize) -> bool {
        match self.flavor {
            // SAFETY: per the contract.
            Flavor::C => unsafe {
                sys::rosidl_runtime_c__String__assignn(self.ptr.cast(), data.cast(), n)
            },
            // SAFETY: per the contract.
            Flavor::Cpp => unsafe { cpp::rmw_shm_rs_cpp_string_assign(self.ptr, data, n) },
        }
    }
}

/// A wide string (`rosidl_runtime_c__U16String` or `std::u16string`) in message memory.
#[derive(Clone, Copy)]
pub(crate) struct WStrRef {
    pub ptr: *mut c_void,
    pub flavor: Flavor,
}

impl WStrRef {
    /// The code units (`data`, `size`); `data` may be null when `size` is 0.
    ///
    /// # Safety
    /// `ptr` points to an initialized wide string of `flavor`.
    pub(crate) unsafe fn parts(self) -> (*const u16, usize) {
        match self.flavor {
            Flavor::C => {
                let s = self.ptr.cast::<sys::rosidl_runtime_c__U16String>();
                // SAFETY: an initialized C wide string per the contract.
                unsafe { ((*s).data.cast_const(), (*s).size) }
            }
            // SAFETY: an initialized std::u16string per the contract.
            Flavor::Cpp => unsafe {
                (
                    cpp::rmw_shm_rs_cpp_u16string_data(self.ptr),
                    cpp::rmw_shm_rs_cpp_u16string_size(self.ptr),
                )
            },
        }
    }

    /// Replaces the contents with `n` code units at `data`; false when allocation failed.
    ///
    /// # Safety
    /// `ptr` points to an initialized, writable wide string of `flavor`; `data` is non-null
    /// and holds `n` code units not inside the string.
    pub(crate) unsafe fn assign(self, data: *const u16, n: usize) -> bool {
        match self.flavor {
            // SAFETY: per the contract.
            Flavor::C => unsafe {
                sys::rosidl_runtime_c__U16String__assignn(self.ptr.cast(), data, n)
            },
            // SAFETY: per the contract.
            Flavor::Cpp => unsafe { cpp::rmw_shm_rs_cpp_u16string_assign(self.ptr, data, n) },
        }
    }
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
            Elem::String(_) | Elem::WString(_) => 4,
            Elem::Message(t) => t.plan.min_wire,
        }
    }

    /// Size of one element in C memory.
    pub(crate) fn elem_mem_size(&self) -> usize {
        match &self.elem {
            Elem::Prim(p) => p.mem_size(),
            Elem::String(Flavor::C) => core::mem::size_of::<sys::rosidl_runtime_c__String>(),
            Elem::WString(Flavor::C) => core::mem::size_of::<sys::rosidl_runtime_c__U16String>(),
            Elem::String(Flavor::Cpp) => cpp::size_of(cpp::SIZEOF_STRING),
            Elem::WString(Flavor::Cpp) => cpp::size_of(cpp::SIZEOF_U16STRING),
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

/// Builds the plan of the introspection `members` of `flavor`; `nested` resolves the type
/// support handle of a nested message member (through the shared cache, so nested types share
/// plans).
///
/// # Safety
/// `members` points to valid `MessageMembers` of `flavor` (C:
/// `rosidl_typesupport_introspection_c__MessageMembers`, C++:
/// `rosidl_typesupport_introspection_cpp::MessageMembers`, same field layout, see `cpp.rs`)
/// whose `members_` array has `member_count_` entries, all of it alive for the process lifetime.
pub(crate) unsafe fn build_plan(
    members: *const sys::rosidl_typesupport_introspection_c__MessageMembers,
    flavor: Flavor,
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
        // SAFETY: `members_` has `member_count_` entries per the contract. The fields read
        // through the C struct have the same offsets and types in the C++ one (cpp.rs).
        let m = unsafe { &*mm.members_.add(i) };
        // SAFETY: the same entry through the C++ declaration (identical layout, cpp.rs);
        // used for the function pointers of C++ members only.
        let mcpp = unsafe { &*mm.members_.add(i).cast::<CppMessageMember>() };
        // SAFETY: introspection names are NUL-terminated static strings.
        let name = unsafe { c_str(m.name_) };
        let invalid = |reason| TypeSupportError::InvalidMember {
            field: name.clone(),
            reason,
        };
        let elem = match m.type_id_ {
            TYPE_STRING => Elem::String(flavor),
            TYPE_WSTRING => Elem::WString(flavor),
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
            // C arrays and std::array<T, N> (std::array<bool, N> too) are inline.
            Shape::Array(m.array_size_)
        } else {
            let bound = m.is_upper_bound_.then_some(m.array_size_);
            let access = match flavor {
                Flavor::C => SeqAccess::C {
                    resize: m
                        .resize_function
                        .ok_or_else(|| invalid("sequence has no resize_function"))?,
                },
                Flavor::Cpp => {
                    let missing = || invalid("C++ sequence lacks an accessor function");
                    let size = mcpp.size_function.ok_or_else(missing)?;
                    let resize = mcpp.resize_function.ok_or_else(missing)?;
                    if matches!(elem, Elem::Prim(Prim::Bool)) {
                        SeqAccess::CppBool {
                            size,
                            fetch: mcpp.fetch_function.ok_or_else(missing)?,
                            assign: mcpp.assign_function.ok_or_else(missing)?,
                            resize,
                        }
                    } else {
                        SeqAccess::Cpp {
                            size,
                            get: mcpp.get_function.ok_or_else(missing)?,
                            get_const: mcpp.get_const_function.ok_or_else(missing)?,
                            resize,
                        }
                    }
                }
            };
            Shape::Sequence { bound, access }
        };
        let str_bound = (matches!(elem, Elem::String(_) | Elem::WString(_))
            && m.string_upper_bound_ > 0)
            .then_some(m.string_upper_bound_);
        let op = FieldOp {
            name: name.clone().into(),
            offset: m.offset_ as usize,
            elem,
            shape,
            str_bound,
        };

        // Layout sanity: the member must lie inside the struct.
        let footprint = match &op.shape {
            Shape::Single => Some(op.elem_mem_size()),
            Shape::Array(n) => op.elem_mem_size().checked_mul(*n),
            Shape::Sequence { access, .. } => Some(match access {
                SeqAccess::C { .. } => core::mem::size_of::<CSequence>(),
                // BoundedVector wraps a std::vector of the same size.
                SeqAccess::Cpp { .. } => cpp::size_of(cpp::SIZEOF_VECTOR),
                SeqAccess::CppBool { .. } => cpp::size_of(cpp::SIZEOF_VECTOR_BOOL),
            }),
        };
        match footprint.and_then(|f| f.checked_add(op.offset)) {
            Some(end) if end <= mm.size_of_ => {}
            _ => return Err(invalid("member lies outside the struct (size_of_)")),
        }

        let elem_plain = match &op.elem {
            Elem::Prim(_) => true,
            Elem::String(_) | Elem::WString(_) => false,
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
