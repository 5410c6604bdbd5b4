//! The C++ flavour (`rosidl_typesupport_introspection_cpp`): the introspection structs, and the
//! accessors of `cpp_shim.cpp` for what Rust cannot reach through them (`std::string`,
//! `std::u16string`, exception-safe calls of the C++ function pointers).
//!
//! `rosidl_typesupport_introspection_cpp::MessageMember` / `MessageMembers` have the field
//! layout of the C structs (the headers declare the same fields in the same order; Kilted adds
//! `is_key_` / `has_any_key_member_` to both). Only two signatures differ: the C++
//! `resize_function` returns `void` (C: `bool`), and `init_function` takes
//! `rosidl_runtime_cpp::MessageInitialization` (an `enum class` over `int`; C: the C enum).
//! The structs below declare those signatures; the const assertions at the end check every
//! offset against the bindgen C structs of the distro built against.

use core::ffi::{c_char, c_int, c_void};
use core::mem::offset_of;

use crate::sys;

/// `rosidl_typesupport_introspection_cpp::MessageMember`.
#[repr(C)]
pub(crate) struct CppMessageMember {
    pub name_: *const c_char,
    pub type_id_: u8,
    pub string_upper_bound_: usize,
    pub members_: *const sys::rosidl_message_type_support_t,
    #[cfg(ros_introspection_keys)]
    pub is_key_: bool,
    pub is_array_: bool,
    pub array_size_: usize,
    pub is_upper_bound_: bool,
    pub offset_: u32,
    pub default_value_: *const c_void,
    pub size_function: Option<unsafe extern "C" fn(*const c_void) -> usize>,
    pub get_const_function: Option<unsafe extern "C" fn(*const c_void, usize) -> *const c_void>,
    pub get_function: Option<unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void>,
    pub fetch_function: Option<unsafe extern "C" fn(*const c_void, usize, *mut c_void)>,
    pub assign_function: Option<unsafe extern "C" fn(*mut c_void, usize, *const c_void)>,
    pub resize_function: Option<CppResizeFn>,
}

/// The C++ `init_function`: `void (*)(void *, rosidl_runtime_cpp::MessageInitialization)`.
pub(crate) type CppInitFn = unsafe extern "C" fn(*mut c_void, c_int);
/// The C++ `resize_function` (may throw: call it through [`rmw_shm_rs_cpp_call_resize`]).
pub(crate) type CppResizeFn = unsafe extern "C" fn(*mut c_void, usize);

/// `rosidl_typesupport_introspection_cpp::MessageMembers`.
#[repr(C)]
pub(crate) struct CppMessageMembers {
    pub message_namespace_: *const c_char,
    pub message_name_: *const c_char,
    pub member_count_: u32,
    pub size_of_: usize,
    #[cfg(ros_introspection_keys)]
    pub has_any_key_member_: bool,
    pub members_: *const CppMessageMember,
    pub init_function: Option<CppInitFn>,
    pub fini_function: Option<unsafe extern "C" fn(*mut c_void)>,
}

type CMember = sys::rosidl_typesupport_introspection_c__MessageMember;
type CMembers = sys::rosidl_typesupport_introspection_c__MessageMembers;

macro_rules! same_layout {
    ($cpp:ty, $c:ty: $($f:ident),*) => {
        const _: () = {
            assert!(core::mem::size_of::<$cpp>() == core::mem::size_of::<$c>());
            assert!(core::mem::align_of::<$cpp>() == core::mem::align_of::<$c>());
            $(assert!(offset_of!($cpp, $f) == offset_of!($c, $f));)*
        };
    };
}

same_layout!(CppMessageMember, CMember: name_, type_id_, string_upper_bound_, members_,
    is_array_, array_size_, is_upper_bound_, offset_, default_value_, size_function,
    get_const_function, get_function, fetch_function, assign_function, resize_function);
#[cfg(ros_introspection_keys)]
same_layout!(CppMessageMember, CMember: is_key_);
same_layout!(CppMessageMembers, CMembers: message_namespace_, message_name_, member_count_,
    size_of_, members_, init_function, fini_function);
#[cfg(ros_introspection_keys)]
same_layout!(CppMessageMembers, CMembers: has_any_key_member_);

/// What [`rmw_shm_rs_cpp_sizeof`] reports the size of.
pub(crate) const SIZEOF_STRING: c_int = 0;
pub(crate) const SIZEOF_U16STRING: c_int = 1;
pub(crate) const SIZEOF_VECTOR: c_int = 2;
pub(crate) const SIZEOF_VECTOR_BOOL: c_int = 3;

extern "C" {
    /// `sizeof` of `std::string` (0), `std::u16string` (1), `std::vector<uint8_t>` (2),
    /// `std::vector<bool>` (3); 0 otherwise.
    pub(crate) fn rmw_shm_rs_cpp_sizeof(what: c_int) -> usize;
    pub(crate) fn rmw_shm_rs_cpp_string_size(s: *const c_void) -> usize;
    pub(crate) fn rmw_shm_rs_cpp_string_data(s: *const c_void) -> *const u8;
    /// Returns false when allocation failed (the string is unchanged).
    pub(crate) fn rmw_shm_rs_cpp_string_assign(s: *mut c_void, data: *const u8, n: usize) -> bool;
    pub(crate) fn rmw_shm_rs_cpp_u16string_size(s: *const c_void) -> usize;
    pub(crate) fn rmw_shm_rs_cpp_u16string_data(s: *const c_void) -> *const u16;
    /// Returns false when allocation failed (the string is unchanged).
    pub(crate) fn rmw_shm_rs_cpp_u16string_assign(
        s: *mut c_void,
        data: *const u16,
        n: usize,
    ) -> bool;
    /// Calls `resize(member, n)`; false when it threw.
    pub(crate) fn rmw_shm_rs_cpp_call_resize(
        resize: CppResizeFn,
        member: *mut c_void,
        n: usize,
    ) -> bool;
    /// Calls `init(msg, MessageInitialization::ALL)`; false when it threw.
    pub(crate) fn rmw_shm_rs_cpp_call_init(init: CppInitFn, msg: *mut c_void) -> bool;
}

/// `sizeof` of a C++ member type ([`SIZEOF_STRING`], ...).
pub(crate) fn size_of(what: c_int) -> usize {
    // SAFETY: a pure function of its argument.
    unsafe { rmw_shm_rs_cpp_sizeof(what) }
}

/// Resizes a C++ sequence member with its `resize_function` (through the shim, so a throw is
/// caught and reported as [`CdrError::Allocation`]).
///
/// # Safety
/// `member` points to an initialized, writable member of the type `resize` belongs to.
pub(crate) unsafe fn resize(
    resize: CppResizeFn,
    member: *mut c_void,
    n: usize,
    field: &str,
) -> Result<(), crate::cdr::CdrError> {
    // SAFETY: per the contract; the shim only calls `resize` inside a try block.
    if unsafe { rmw_shm_rs_cpp_call_resize(resize, member, n) } {
        Ok(())
    } else {
        Err(crate::cdr::CdrError::Allocation {
            field: field.to_string(),
        })
    }
}
