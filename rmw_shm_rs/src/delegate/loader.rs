//! Loading the DDS delegate: the installed `librmw_fastrtps_cpp.so` (or the library named by
//! `RMW_SHM_RS_DELEGATE`), opened with `dlopen(RTLD_NOW | RTLD_LOCAL)`; every function is taken
//! with `dlsym(handle, name)`, which returns the delegate's own definition even where our
//! library exports the same name globally. Never `RTLD_DEEPBIND` (C++ programs using iostreams
//! crash once Fast DDS logs) nor `dlmopen` (deadlocked here): see ../shared/FACTS.md.
//!
//! The delegate still calls a few of its own public functions through the global scope, where
//! ours answer; the exported functions forward objects carrying the delegate's implementation
//! identifier back to it (`rmw_export!`'s `forward` clause).
//!
//! Loaded once per process, on first need (lazily: a process that never reaches another host
//! never loads it). `RMW_SHM_RS_REMOTE=0` turns the remote path off: [`Delegate::get`] fails.

use std::collections::HashMap;
use std::ffi::{c_char, CStr};
use std::sync::{Mutex, OnceLock};

use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};

use crate::error::{Error, Result};

/// The loaded delegate RMW.
pub struct Delegate {
    library: Library,
    name: String,
    identifier: &'static CStr,
    symbols: Mutex<HashMap<&'static CStr, usize>>,
}

static DELEGATE: OnceLock<std::result::Result<Delegate, String>> = OnceLock::new();

/// Whether the remote path is enabled (`RMW_SHM_RS_REMOTE`, default on).
pub fn remote_enabled() -> bool {
    !matches!(
        std::env::var("RMW_SHM_RS_REMOTE").as_deref(),
        Ok("0") | Ok("off") | Ok("false")
    )
}

fn library_name() -> String {
    std::env::var("RMW_SHM_RS_DELEGATE")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "librmw_fastrtps_cpp.so".to_owned())
}

impl Delegate {
    fn load() -> std::result::Result<Delegate, String> {
        if !remote_enabled() {
            return Err("the remote path is off (RMW_SHM_RS_REMOTE=0)".into());
        }
        let name = library_name();
        // SAFETY: loading a shared library runs its initializers; the delegate is an rmw
        // implementation built for this ROS distro, whose initializers only set up statics.
        let library = unsafe { Library::open(Some(&name), RTLD_NOW | RTLD_LOCAL) }
            .map_err(|e| format!("cannot load the DDS delegate '{name}': {e}"))?;
        // SAFETY: every rmw implementation exports this function with this signature.
        let id_fn = unsafe {
            library.get::<unsafe extern "C" fn() -> *const c_char>(
                b"rmw_get_implementation_identifier\0",
            )
        }
        .map_err(|e| format!("'{name}' is not an rmw implementation: {e}"))?;
        // SAFETY: returns a pointer to a static NUL-terminated string of the library.
        let id = unsafe { id_fn() };
        if id.is_null() {
            return Err(format!("'{name}' has no implementation identifier"));
        }
        // SAFETY: non-null static string; the library is never unloaded (kept in the static).
        let identifier: &'static CStr = unsafe { CStr::from_ptr(id) };
        if identifier == crate::ffi::handles::IDENTIFIER {
            return Err(format!("'{name}' is rmw_shm_rs itself, not a DDS delegate"));
        }
        tracing::info!(target: "rmw_shm_rs::delegate", library = name, identifier = ?identifier, "DDS delegate loaded");
        Ok(Delegate {
            library,
            name,
            identifier,
            symbols: Mutex::new(HashMap::new()),
        })
    }

    /// The delegate, loading it on first use.
    ///
    /// # Errors
    /// When the remote path is off or the library cannot be loaded (the message says which).
    pub fn get() -> Result<&'static Delegate> {
        DELEGATE
            .get_or_init(Delegate::load)
            .as_ref()
            .map_err(|e| Error::Unsupported(e.clone()))
    }

    /// The delegate if it has been loaded already (never loads it).
    pub fn loaded() -> Option<&'static Delegate> {
        DELEGATE.get().and_then(|r| r.as_ref().ok())
    }

    /// The delegate's implementation identifier, e.g. `rmw_fastrtps_cpp`.
    pub fn identifier(&self) -> &'static CStr {
        self.identifier
    }

    /// The library name it was loaded from.
    pub fn library(&self) -> &str {
        &self.name
    }

    /// Whether `id` (an object's implementation identifier) is the delegate's.
    ///
    /// # Safety
    /// `id` is null or a NUL-terminated string.
    pub unsafe fn owns(&self, id: *const c_char) -> bool {
        if id.is_null() {
            return false;
        }
        // SAFETY: per the caller.
        std::ptr::eq(id, self.identifier.as_ptr())
            || unsafe { CStr::from_ptr(id) } == self.identifier
    }

    /// The delegate's own definition of function `name`, as a function pointer of type `F`.
    ///
    /// # Safety
    /// `F` is the function pointer type of the rmw function `name` as its header declares it.
    pub unsafe fn sym<F: Copy>(&self, name: &'static CStr) -> Result<F> {
        assert_eq!(size_of::<F>(), size_of::<usize>());
        let mut cache = self.symbols.lock().unwrap_or_else(|e| e.into_inner());
        let addr = match cache.get(name) {
            Some(a) => *a,
            None => {
                // SAFETY: looking up a symbol; the pointer is only used as the caller's type.
                let s = unsafe { self.library.get::<*const ()>(name.to_bytes_with_nul()) }
                    .map_err(|e| Error::Other(format!("{}: no {name:?}: {e}", self.name)))?;
                let a = *s as usize;
                cache.insert(name, a);
                a
            }
        };
        // SAFETY: `addr` is the address of the function `name` in the delegate; the caller
        // guarantees `F` is its pointer type (same size as usize, checked).
        Ok(unsafe { std::mem::transmute_copy::<usize, F>(&addr) })
    }
}
