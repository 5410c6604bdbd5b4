//! The message types under test, loaded from the ROS install the crate was built against
//! (`RMW_SHM_RS_ROS_PREFIX`, set by target/rmw_shm_rs.env): each type of `types.txt` in both
//! flavours, through its C introspection type support (what rclpy hands over) and its C++ one
//! (what rclcpp hands over).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use rmw_shm_rs::sys::{rosidl_message_type_support_t, rosidl_service_type_support_t};
use rmw_shm_rs::typesupport::{message_type, service_type, MessageType, ServiceType};

/// The `package/subfolder/Type` lines of `types.txt`.
pub const TYPE_LIST: &str = include_str!("../types.txt");

/// One message type in both flavours.
pub struct TypeEntry {
    /// `package/subfolder/Type`.
    pub name: &'static str,
    /// Through `rosidl_typesupport_introspection_c` (C message memory).
    pub c: Arc<MessageType>,
    /// Through `rosidl_typesupport_introspection_cpp` (C++ message memory).
    pub cpp: Arc<MessageType>,
}

/// The ROS install prefix (holds `lib/`).
pub fn prefix() -> PathBuf {
    std::env::var_os("RMW_SHM_RS_ROS_PREFIX")
        .map(PathBuf::from)
        .expect("RMW_SHM_RS_ROS_PREFIX is not set: source target/rmw_shm_rs.env first")
}

fn library(file: &str) -> Result<&'static libloading::Library, String> {
    // Loaded once per file and kept in a static (reachable, so LeakSanitizer stays quiet).
    static LIBS: Mutex<BTreeMap<String, &'static libloading::Library>> =
        Mutex::new(BTreeMap::new());
    let mut libs = LIBS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(lib) = libs.get(file) {
        return Ok(lib);
    }
    let path = prefix().join("lib").join(file);
    // SAFETY: rosidl type support libraries have no unsafe initialization side effects; the
    // library is never unloaded, so its handles stay valid.
    let lib = unsafe { libloading::Library::new(&path) }
        .map_err(|e| format!("load {}: {e}", path.display()))?;
    let lib: &'static libloading::Library = Box::leak(Box::new(lib));
    libs.insert(file.to_owned(), lib);
    Ok(lib)
}

/// Calls the introspection handle getter of `pkg/sub/name` (`kind` `message` or `service`) of
/// the type support `flavour` (`c` or `cpp`); an error when the install lacks it.
fn try_handle<T>(name: &str, kind: &str, flavour: &str) -> Result<*const T, String> {
    let mut parts = name.split('/');
    let (Some(pkg), Some(sub), Some(ty), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        panic!("`{name}` is not package/subfolder/Type");
    };
    let ts = format!("rosidl_typesupport_introspection_{flavour}");
    let lib = library(&format!("lib{pkg}__{ts}.so"))?;
    let sym = format!("{ts}__get_{kind}_type_support_handle__{pkg}__{sub}__{ty}");
    // SAFETY: rosidl handle getters take no arguments and return a static handle; the library
    // stays loaded (leaked).
    let h = unsafe {
        let get: libloading::Symbol<'_, unsafe extern "C" fn() -> *const T> =
            lib.get(sym.as_bytes()).map_err(|e| format!("{sym}: {e}"))?;
        get()
    };
    if h.is_null() {
        return Err(format!("{sym} returned null"));
    }
    Ok(h)
}

fn handle<T>(name: &str, kind: &str, flavour: &str) -> *const T {
    try_handle(name, kind, flavour).unwrap_or_else(|e| panic!("{e}"))
}

/// The C introspection handle of message `pkg/sub/name` (what entities are created with).
pub fn message_handle(name: &str) -> *const rosidl_message_type_support_t {
    handle(name, "message", "c")
}

/// The [`MessageType`] of `pkg/sub/name` through the introspection type support `flavour`
/// (`c` or `cpp`).
pub fn load(name: &str, flavour: &str) -> Arc<MessageType> {
    let h = handle::<rosidl_message_type_support_t>(name, "message", flavour);
    // SAFETY: a valid static handle of a loaded library.
    unsafe { message_type(h) }.unwrap_or_else(|e| panic!("{name} ({flavour}): {e}"))
}

/// The C introspection handle of service `pkg/srv/name` and its [`ServiceType`].
pub fn load_service(name: &str) -> (*const rosidl_service_type_support_t, Arc<ServiceType>) {
    let h = handle::<rosidl_service_type_support_t>(name, "service", "c");
    // SAFETY: a valid static handle of a loaded library.
    let ty = unsafe { service_type(h) }.unwrap_or_else(|e| panic!("{name}: {e}"));
    (h, ty)
}

/// Every type of `types.txt` the ROS install has (Jazzy's test_msgs lacks the keyed types),
/// loaded once.
pub fn all() -> &'static [TypeEntry] {
    static ALL: OnceLock<Vec<TypeEntry>> = OnceLock::new();
    ALL.get_or_init(|| {
        names()
            .into_iter()
            .filter(|name| {
                try_handle::<rosidl_message_type_support_t>(name, "message", "c").is_ok()
            })
            .map(|name| TypeEntry {
                name,
                c: load(name, "c"),
                cpp: load(name, "cpp"),
            })
            .collect()
    })
}

/// The type-list names, in order (without loading anything).
pub fn names() -> Vec<&'static str> {
    TYPE_LIST
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// The seed CDR encodings (without their selector byte) of type `name`, from
/// `seeds/cdr_decode` (written by gen_seeds.py).
pub fn fixtures(name: &str) -> Vec<Vec<u8>> {
    let Some(index) = names().iter().position(|n| *n == name) else {
        return Vec::new();
    };
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/seeds/cdr_decode");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<Vec<u8>> = entries
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .filter(|b| b.first() == Some(&(index as u8)))
        .map(|b| b[1..].to_vec())
        .collect();
    out.sort();
    out
}

/// The type a selector byte picks.
pub fn pick(selector: u8) -> &'static TypeEntry {
    let all = all();
    &all[usize::from(selector) % all.len()]
}
