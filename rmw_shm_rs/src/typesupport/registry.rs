//! Resolution of type support handles to introspection data, and the process-wide cache of
//! message and service types.

use core::ffi::{c_char, CStr};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use super::cpp::CppMessageMembers;
use super::plan::{build_plan, c_str, Flavor};
use super::{Init, MessageType, ServiceType, TypeSupportError, INTROSPECTION_C, INTROSPECTION_CPP};
use crate::sys;

type MsgTs = sys::rosidl_message_type_support_t;
type SrvTs = sys::rosidl_service_type_support_t;
type MsgMembers = sys::rosidl_typesupport_introspection_c__MessageMembers;
type SrvMembers = sys::rosidl_typesupport_introspection_c__ServiceMembers;

/// Cache keys are addresses of static type support data (never dereferenced through the key).
#[derive(Default)]
struct Cache {
    /// By introspection `MessageMembers` address: one plan per type.
    by_members: HashMap<usize, Arc<MessageType>>,
    /// By the handle the caller passed (any flavour): skips `func` on repeated lookups.
    by_handle: HashMap<usize, Arc<MessageType>>,
    services_by_members: HashMap<usize, Arc<ServiceType>>,
    services_by_handle: HashMap<usize, Arc<ServiceType>>,
}

static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(Default::default);

fn cache() -> MutexGuard<'static, Cache> {
    // The cache holds only fully built entries, so a panic elsewhere cannot leave it torn.
    CACHE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Compares a type support identifier with `want` (pointer first, then contents).
///
/// # Safety
/// `id` is null or a NUL-terminated string.
unsafe fn id_is(id: *const c_char, want: &CStr) -> bool {
    // SAFETY: non-null and NUL-terminated per the contract.
    !id.is_null() && (id == want.as_ptr() || unsafe { CStr::from_ptr(id) } == want)
}

/// The linked `rosidl_typesupport_introspection_c__identifier` (its address is what the
/// generated dispatch functions hand out).
fn introspection_c_identifier() -> *const c_char {
    // SAFETY: reads a pointer-sized extern static that librosidl_typesupport_introspection_c
    // initializes at load time and never changes.
    unsafe { sys::rosidl_typesupport_introspection_c__identifier }
}

/// True for identifiers of type supports over C++ message memory (`rosidl_typesupport_cpp`,
/// `rosidl_typesupport_introspection_cpp`, `rosidl_typesupport_fastrtps_cpp`, ...).
///
/// # Safety
/// `id` is null or a NUL-terminated string.
unsafe fn is_cpp_id(id: *const c_char) -> bool {
    // SAFETY: non-null and NUL-terminated per the contract.
    !id.is_null() && unsafe { CStr::from_ptr(id) }.to_bytes().ends_with(b"_cpp")
}

/// Resolves a handle to its introspection handle of the same flavour through `func`, the
/// `get_message_typesupport_handle` dispatch of the handle's library: the flavour is fixed by
/// the handle passed (a `*_cpp` identifier means C++ message memory), never switched.
///
/// # Safety
/// `id` and `func` come from a valid type support handle `ts`.
unsafe fn resolve<T>(
    ts: *const T,
    id: *const c_char,
    func: Option<unsafe extern "C" fn(*const T, *const c_char) -> *const T>,
) -> Result<(*const T, Flavor), TypeSupportError> {
    // SAFETY: identifiers are NUL-terminated static strings.
    if unsafe { id_is(id, INTROSPECTION_C) } {
        return Ok((ts, Flavor::C));
    }
    // SAFETY: as above.
    if unsafe { id_is(id, INTROSPECTION_CPP) } {
        return Ok((ts, Flavor::Cpp));
    }
    let unknown = || TypeSupportError::UnknownTypeSupport {
        // SAFETY: as above.
        identifier: unsafe { c_str(id) },
    };
    let func = func.ok_or_else(unknown)?;
    // SAFETY: as above.
    let (want, flavor) = if unsafe { is_cpp_id(id) } {
        (INTROSPECTION_CPP.as_ptr(), Flavor::Cpp)
    } else {
        (introspection_c_identifier(), Flavor::C)
    };
    // SAFETY: `func` is the handle's own dispatch function; it returns null or a handle.
    let found = unsafe { func(ts, want) };
    if !found.is_null() {
        return Ok((found, flavor));
    }
    // The failed lookup set an rcutils error message; it is not ours to report.
    // SAFETY: resets the calling thread's rcutils error state; always safe to call.
    unsafe { sys::rcutils_reset_error() };
    Err(unknown())
}

fn ros_name(namespace: &str, name: &str) -> String {
    format!(
        "{}/{}",
        namespace.replace("__", "/").replace("::", "/"),
        name
    )
}

/// Formats a type hash like `rosidl_stringify_type_hash` (`RIHS01_<hex>`); `None` if unset.
///
/// # Safety
/// `ts` is a valid message type support handle.
unsafe fn type_hash(ts: *const MsgTs) -> Option<String> {
    // SAFETY: valid handle per the contract.
    let f = unsafe { (*ts).get_type_hash_func }?;
    // SAFETY: the handle's own hash function; returns null or a static hash.
    let h = unsafe { f(ts) };
    if h.is_null() {
        return None;
    }
    // SAFETY: non-null static hash.
    let h = unsafe { &*h };
    if h.version == 0 {
        return None;
    }
    let mut s = format!("RIHS{:02}_", h.version);
    for b in h.value {
        s.push_str(&format!("{b:02x}"));
    }
    Some(s)
}

/// Returns the cached type of the introspection `members` of `flavor`, building it (and its
/// nested types) if needed. `hash_ts` (nullable) is the handle whose type hash to report.
///
/// # Safety
/// `members` is null or valid static `MessageMembers` of `flavor` (the C++ struct has the C
/// layout, see `cpp.rs`); `hash_ts` is null or a valid handle.
unsafe fn get_or_build(
    cache: &mut Cache,
    members: *const MsgMembers,
    flavor: Flavor,
    hash_ts: *const MsgTs,
) -> Result<Arc<MessageType>, TypeSupportError> {
    if members.is_null() {
        return Err(TypeSupportError::NullMembers);
    }
    if let Some(t) = cache.by_members.get(&(members as usize)) {
        return Ok(Arc::clone(t));
    }
    let mut nested = |ts: *const MsgTs| {
        // SAFETY: nested member handles are valid static handles of the same library family.
        let (id, func) = unsafe { ((*ts).typesupport_identifier, (*ts).func) };
        // SAFETY: as above.
        let (nested_intro, nested_flavor) = unsafe { resolve(ts, id, func)? };
        if nested_flavor != flavor {
            return Err(TypeSupportError::InvalidMember {
                field: String::new(),
                reason: "nested message type support of another flavour",
            });
        }
        // SAFETY: `resolve` returned an introspection handle of `flavor`.
        unsafe { get_or_build_handle(cache, nested_intro, flavor) }
    };
    // SAFETY: introspection data of a valid handle is static and consistent.
    let plan = unsafe { build_plan(members, flavor, &mut nested)? };
    // SAFETY: `members` is valid static data.
    let mm = unsafe { &*members };
    let hash = if hash_ts.is_null() {
        None
    } else {
        // SAFETY: a valid handle per the contract.
        unsafe { type_hash(hash_ts) }
    };
    let t = Arc::new(MessageType {
        // SAFETY: static NUL-terminated strings.
        name: unsafe { ros_name(&c_str(mm.message_namespace_), &c_str(mm.message_name_)) },
        hash,
        plan,
        init: match flavor {
            Flavor::C => mm.init_function.map(Init::C),
            Flavor::Cpp => {
                let cpp = members.cast::<CppMessageMembers>();
                // SAFETY: C++ MessageMembers (per the contract) read through their own
                // declaration (the same layout, cpp.rs) for the C++ init signature.
                unsafe { (*cpp).init_function }.map(Init::Cpp)
            }
        },
        fini: mm.fini_function,
    });
    // A type built without a handle (no hash) is not cached, so that a later lookup through
    // its handle still gets the hash.
    if !hash_ts.is_null() {
        cache.by_members.insert(members as usize, Arc::clone(&t));
    }
    Ok(t)
}

/// [`get_or_build`] for an introspection handle (its data is the `MessageMembers`).
///
/// # Safety
/// `intro` is a valid introspection message handle of `flavor`.
unsafe fn get_or_build_handle(
    cache: &mut Cache,
    intro: *const MsgTs,
    flavor: Flavor,
) -> Result<Arc<MessageType>, TypeSupportError> {
    // SAFETY: valid handle per the contract.
    let members = unsafe { (*intro).data }.cast::<MsgMembers>();
    // SAFETY: an introspection handle's data is null or its static MessageMembers.
    unsafe { get_or_build(cache, members, flavor, intro) }
}

/// Returns the cached [`MessageType`] of any message type support handle.
///
/// The handle is resolved to its introspection handle through its `func`
/// (`get_message_typesupport_handle` semantics; this may load
/// `lib<pkg>__rosidl_typesupport_introspection_c.so` the first time): a `*_cpp` handle (e.g.
/// `rosidl_typesupport_cpp`, what rclcpp passes) to `rosidl_typesupport_introspection_cpp` and
/// C++ message memory, any other to `rosidl_typesupport_introspection_c`. The plan is built once
/// per type and shared by every caller and by types that nest it. Thread-safe.
///
/// # Errors
/// [`TypeSupportError::NullHandle`]; [`TypeSupportError::UnknownTypeSupport`] when no
/// introspection of the handle's flavour is reachable;
/// the plan-building errors for inconsistent introspection data.
///
/// # Safety
/// `ts` is null or a valid message type support handle whose libraries stay loaded.
pub unsafe fn message_type(ts: *const MsgTs) -> Result<Arc<MessageType>, TypeSupportError> {
    if ts.is_null() {
        return Err(TypeSupportError::NullHandle);
    }
    if let Some(t) = cache().by_handle.get(&(ts as usize)) {
        return Ok(Arc::clone(t));
    }
    // Resolve outside the lock: `func` may dlopen a library.
    // SAFETY: valid handle per the contract.
    let (intro, flavor) = unsafe { resolve(ts, (*ts).typesupport_identifier, (*ts).func)? };
    let mut c = cache();
    // SAFETY: `resolve` returned an introspection handle of `flavor`.
    let t = unsafe { get_or_build_handle(&mut c, intro, flavor)? };
    c.by_handle.insert(ts as usize, Arc::clone(&t));
    Ok(t)
}

/// Returns the cached [`ServiceType`] of any service type support handle (resolved like
/// [`message_type`]). The request and response types are the same cached [`MessageType`]s
/// that [`message_type`] returns for them.
///
/// # Errors
/// As [`message_type`].
///
/// # Safety
/// `ts` is null or a valid service type support handle whose libraries stay loaded.
pub unsafe fn service_type(ts: *const SrvTs) -> Result<Arc<ServiceType>, TypeSupportError> {
    if ts.is_null() {
        return Err(TypeSupportError::NullHandle);
    }
    if let Some(t) = cache().services_by_handle.get(&(ts as usize)) {
        return Ok(Arc::clone(t));
    }
    // SAFETY: valid handle per the contract.
    let (intro, flavor) = unsafe { resolve(ts, (*ts).typesupport_identifier, (*ts).func)? };
    // SAFETY: an introspection service handle's data is its ServiceMembers (the C++
    // `ServiceMembers` declares the same pointer fields in the same order).
    let members = unsafe { (*intro).data }.cast::<SrvMembers>();
    if members.is_null() {
        return Err(TypeSupportError::NullMembers);
    }
    let mut c = cache();
    if let Some(t) = c.services_by_members.get(&(members as usize)).cloned() {
        c.services_by_handle.insert(ts as usize, Arc::clone(&t));
        return Ok(t);
    }
    // SAFETY: static service members.
    let sm = unsafe { &*members };
    // The request/response handles carry the type hashes; fall back to bare members (no hash).
    let mut part = |handle: *const MsgTs, mm: *const MsgMembers| -> Result<_, TypeSupportError> {
        if !handle.is_null() {
            // SAFETY: a valid message handle of the service's library family.
            let (id, func) = unsafe { ((*handle).typesupport_identifier, (*handle).func) };
            // SAFETY: as above.
            let (h, f) = unsafe { resolve(handle, id, func)? };
            // SAFETY: an introspection handle of flavour `f`.
            return unsafe { get_or_build_handle(&mut c, h, f) };
        }
        // SAFETY: null or the service's static MessageMembers of its flavour.
        unsafe { get_or_build(&mut c, mm, flavor, core::ptr::null()) }
    };
    // SAFETY: fields of a valid handle.
    let (req_ts, resp_ts) =
        unsafe { ((*intro).request_typesupport, (*intro).response_typesupport) };
    let request = part(req_ts, sm.request_members_)?;
    let response = part(resp_ts, sm.response_members_)?;
    let t = Arc::new(ServiceType {
        // SAFETY: static NUL-terminated strings.
        name: unsafe { ros_name(&c_str(sm.service_namespace_), &c_str(sm.service_name_)) },
        request,
        response,
    });
    c.services_by_members
        .insert(members as usize, Arc::clone(&t));
    c.services_by_handle.insert(ts as usize, Arc::clone(&t));
    Ok(t)
}
