//! Test harness over the installed rosidl type support libraries, and tests of handle
//! resolution, names, hashes, services and the cache. Codec tests are in `tests_real.rs`.
//!
//! Needs the ROS libraries on the library path, e.g.
//! `LD_LIBRARY_PATH=$VENV/lib:$(ls -d $VENV/lib/python3.11/site-packages/ros_*.libs | paste -sd:)`.

use core::ffi::c_void;
use std::sync::Arc;

use super::plan::{CSequence, Elem, FieldOp, SeqAccess, Shape};
use super::*;

/// Install prefix the crate was built against (holds `lib/`).
const PREFIX: &str = env!("RMW_SHM_RS_ROS_PREFIX_AT_BUILD");

/// Loads `lib<pkg>__<flavour>.so` from the ROS prefix and keeps it loaded for the process.
fn library(pkg: &str, flavour: &str) -> &'static libloading::Library {
    let path = format!("{PREFIX}/lib/lib{pkg}__{flavour}.so");
    // SAFETY: rosidl type support libraries have no unsafe initialization side effects.
    let lib =
        unsafe { libloading::Library::new(&path) }.unwrap_or_else(|e| panic!("load {path}: {e}"));
    Box::leak(Box::new(lib))
}

/// Calls the exported getter `<flavour>__get_<kind>_type_support_handle__<pkg>__<sub>__<name>`.
pub(super) fn handle<T>(flavour: &str, kind: &str, pkg: &str, sub: &str, name: &str) -> *const T {
    let lib = library(pkg, flavour);
    let sym = format!("{flavour}__get_{kind}_type_support_handle__{pkg}__{sub}__{name}");
    // SAFETY: rosidl getters have this signature and return a static handle.
    let h = unsafe {
        let f: libloading::Symbol<'_, unsafe extern "C" fn() -> *const T> = lib
            .get(sym.as_bytes())
            .unwrap_or_else(|e| panic!("{sym}: {e}"));
        f()
    };
    assert!(!h.is_null(), "{sym} returned null");
    h
}

/// The C introspection message handle of `pkg/msg/name`.
pub(super) fn intro_c(pkg: &str, name: &str) -> *const sys::rosidl_message_type_support_t {
    handle(
        "rosidl_typesupport_introspection_c",
        "message",
        pkg,
        "msg",
        name,
    )
}

/// The [`MessageType`] of `pkg/msg/name` through its C introspection handle.
pub(super) fn msg_type(pkg: &str, name: &str) -> Arc<MessageType> {
    // SAFETY: a valid static handle from the loaded library.
    unsafe { message_type(intro_c(pkg, name)) }.expect("message_type")
}

/// An initialized C message in 8-aligned heap memory, finalized on drop.
pub(super) struct Msg {
    pub ty: Arc<MessageType>,
    buf: Vec<u64>,
}

impl Msg {
    pub fn new(ty: &Arc<MessageType>) -> Self {
        let mut buf = vec![0u64; ty.c_size().div_ceil(8).max(1)];
        // SAFETY: zeroed, 8-aligned memory of at least c_size bytes.
        assert!(unsafe { ty.init_message(buf.as_mut_ptr().cast()) });
        Self {
            ty: Arc::clone(ty),
            buf,
        }
    }

    pub fn ptr(&self) -> *const c_void {
        self.buf.as_ptr().cast()
    }

    pub fn mut_ptr(&mut self) -> *mut c_void {
        self.buf.as_mut_ptr().cast()
    }

    pub fn to_vec(&self) -> Vec<u8> {
        // SAFETY: an initialized message of its type.
        unsafe { self.ty.serialize_to_vec(self.ptr()) }.expect("serialize")
    }

    /// Decodes `bytes` into this message.
    pub fn read(&mut self, bytes: &[u8]) -> Result<(), CdrError> {
        let p = self.mut_ptr();
        // SAFETY: an initialized, exclusively borrowed message of its type.
        unsafe { self.ty.deserialize(bytes, p) }
    }

    /// A fresh message of the same type decoded from `bytes`.
    pub fn decoded(ty: &Arc<MessageType>, bytes: &[u8]) -> Self {
        let mut m = Self::new(ty);
        m.read(bytes).expect("deserialize");
        m
    }

    /// Offset of a field by dotted path (`"basic_types_value.int32_value"`, nested singles
    /// only) and the type that declares its last component.
    fn locate(&self, path: &str) -> (usize, Arc<MessageType>, String) {
        let mut ty = Arc::clone(&self.ty);
        let mut offset = 0;
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            let op = find(&ty, part);
            offset += op.offset;
            if parts.peek().is_none() {
                return (offset, ty, part.to_string());
            }
            let Elem::Message(t) = &op.elem else {
                panic!("{part} is not a message")
            };
            ty = Arc::clone(t);
        }
        unreachable!()
    }

    /// Pointer to a field by dotted path.
    pub fn field<T>(&mut self, path: &str) -> *mut T {
        let (offset, _, _) = self.locate(path);
        // SAFETY: the plan's offsets lie inside the struct.
        unsafe { self.mut_ptr().cast::<u8>().add(offset).cast() }
    }

    /// Resizes a C sequence field with its resize_function and returns its data pointer.
    pub fn resize<T>(&mut self, path: &str, n: usize) -> *mut T {
        let (_, ty, last) = self.locate(path);
        let Shape::Sequence {
            access: SeqAccess::C { resize },
            ..
        } = find(&ty, &last).shape
        else {
            panic!("{path} is not a sequence")
        };
        let seq = self.field::<CSequence>(path);
        // SAFETY: the member's resize function on its own sequence.
        assert!(unsafe { resize(seq.cast(), n) });
        // SAFETY: valid sequence struct.
        unsafe { (*seq).data.cast() }
    }

    /// Sets the string field (or string element) at `s`.
    pub fn set_str(s: *mut sys::rosidl_runtime_c__String, v: &str) {
        // SAFETY: `s` is an initialized string; `v` holds `len` bytes.
        assert!(unsafe { sys::rosidl_runtime_c__String__assignn(s, v.as_ptr().cast(), v.len()) });
    }
}

impl Drop for Msg {
    fn drop(&mut self) {
        let p = self.mut_ptr();
        // SAFETY: initialized in `new`, not used afterwards.
        unsafe { self.ty.fini_message(p) };
    }
}

fn find<'a>(ty: &'a MessageType, name: &str) -> &'a FieldOp {
    ty.plan
        .ops
        .iter()
        .find(|o| &*o.name == name)
        .unwrap_or_else(|| panic!("no field {name}"))
}

#[test]
fn names_hashes_and_layout_facts() {
    let s = msg_type("std_msgs", "String");
    assert_eq!(s.type_name(), "std_msgs/msg/String");
    assert_eq!(
        s.type_hash(),
        Some("RIHS01_df668c740482bbd48fb39d76a70dfd4bd59db1288021743503259e948f6b1a18")
    );
    assert!(!s.is_plain());
    assert_eq!(
        s.c_size(),
        core::mem::size_of::<sys::rosidl_runtime_c__String>()
    );

    let b = msg_type("test_msgs", "BasicTypes");
    assert_eq!(b.type_name(), "test_msgs/msg/BasicTypes");
    assert!(b.is_plain());
    assert_eq!(b.c_size(), 48);
    assert!(b
        .type_hash()
        .is_some_and(|h| h.starts_with("RIHS01_") && h.len() == 7 + 64));

    assert!(msg_type("test_msgs", "Arrays").c_size() > 0);
    assert!(!msg_type("test_msgs", "Arrays").is_plain()); // string[3]
    assert!(!msg_type("test_msgs", "BoundedSequences").is_plain());
    assert!(msg_type("test_msgs", "Nested").is_plain()); // only BasicTypes inside
    assert!(msg_type("test_msgs", "Empty").is_plain());
    assert!(!msg_type("sensor_msgs", "Image").is_plain());
}

#[test]
fn nested_types_share_plans() {
    let nested = msg_type("test_msgs", "Nested");
    let basic = msg_type("test_msgs", "BasicTypes");
    let Elem::Message(inner) = &find(&nested, "basic_types_value").elem else {
        panic!()
    };
    assert!(Arc::ptr_eq(inner, &basic));
    assert!(Arc::ptr_eq(&basic, &msg_type("test_msgs", "BasicTypes")));
}

#[test]
fn resolves_typesupport_c_handles() {
    let ts_c: *const sys::rosidl_message_type_support_t = handle(
        "rosidl_typesupport_c",
        "message",
        "test_msgs",
        "msg",
        "BasicTypes",
    );
    // SAFETY: valid static handle.
    let t = unsafe { message_type(ts_c) }.unwrap();
    assert!(Arc::ptr_eq(&t, &msg_type("test_msgs", "BasicTypes")));
    // Second lookup takes the by-handle fast path and returns the same type.
    // SAFETY: as above.
    assert!(Arc::ptr_eq(&t, &unsafe { message_type(ts_c) }.unwrap()));
}

#[test]
fn rejects_null_and_unknown_handles() {
    // SAFETY: null is allowed.
    let err = unsafe { message_type(core::ptr::null()) }.unwrap_err();
    assert_eq!(err, TypeSupportError::NullHandle);
    // SAFETY: null is allowed.
    let err = unsafe { service_type(core::ptr::null()) }.unwrap_err();
    assert_eq!(err, TypeSupportError::NullHandle);
    // A handle with an unknown identifier and no dispatch function.
    let fake = sys::rosidl_message_type_support_t {
        typesupport_identifier: c"some_other_typesupport".as_ptr(),
        ..Default::default()
    };
    // SAFETY: a valid (if useless) handle.
    let err = unsafe { message_type(&fake) }.unwrap_err();
    assert_eq!(
        err,
        TypeSupportError::UnknownTypeSupport {
            identifier: "some_other_typesupport".into()
        }
    );
}

#[test]
fn service_types() {
    let intro: *const sys::rosidl_service_type_support_t = handle(
        "rosidl_typesupport_introspection_c",
        "service",
        "test_msgs",
        "srv",
        "BasicTypes",
    );
    // SAFETY: valid static handle.
    let s = unsafe { service_type(intro) }.unwrap();
    assert_eq!(s.name, "test_msgs/srv/BasicTypes");
    assert_eq!(s.request.type_name(), "test_msgs/srv/BasicTypes_Request");
    assert_eq!(s.response.type_name(), "test_msgs/srv/BasicTypes_Response");
    assert_eq!(
        s.request.type_hash(),
        Some("RIHS01_1dafcf389e224692783e9c4f6066ba0db3fa75fdbd8f081ffbe7ed03144d73d4")
    );
    assert_eq!(
        s.response.type_hash(),
        Some("RIHS01_8479b3defe554d969e81c6cf8cdaf0b97b4fcd76928b2d644c6813b032673c0d")
    );
    let ts_c: *const sys::rosidl_service_type_support_t = handle(
        "rosidl_typesupport_c",
        "service",
        "test_msgs",
        "srv",
        "BasicTypes",
    );
    // SAFETY: valid static handle.
    let s2 = unsafe { service_type(ts_c) }.unwrap();
    assert!(Arc::ptr_eq(&s, &s2));

    // The request round-trips like any message.
    let mut req = Msg::new(&s.request);
    // SAFETY: field types from the .srv definition.
    unsafe {
        *req.field::<i32>("int32_value") = -7;
        *req.field::<bool>("bool_value") = true;
    }
    let bytes = req.to_vec();
    let back = Msg::decoded(&s.request, &bytes);
    assert_eq!(back.to_vec(), bytes);
}

#[test]
fn concurrent_lookups_agree() {
    let handles: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(|| Arc::as_ptr(&msg_type("test_msgs", "MultiNested")) as usize))
        .collect();
    let ptrs: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(ptrs.windows(2).all(|w| w[0] == w[1]));
}
