//! The C++ flavour over the installed `rosidl_typesupport_cpp` / `_introspection_cpp` libraries:
//! what the C flavour writes (defaults and random instances of every test type), decoded into C++
//! messages (made by their constructors), must re-encode to the same bytes; deep copies between
//! C++ messages too. `std::vector<bool>`, `std::u16string` and `BoundedVector` included.

use core::ffi::c_void;
use std::sync::Arc;

use super::plan::{CSequence, Elem, Flavor, Plan, Prim, SeqAccess, Shape, StrRef, WStrRef};
use super::tests::{handle, msg_type, Msg};
use super::tests_real::fixture;
use super::*;
use crate::cdr::CdrError;

/// The [`MessageType`] of `pkg/msg/name` through its `rosidl_typesupport_cpp` handle (what
/// rclcpp passes).
fn cpp_type(pkg: &str, name: &str) -> Arc<MessageType> {
    let h: *const sys::rosidl_message_type_support_t =
        handle("rosidl_typesupport_cpp", "message", pkg, "msg", name);
    // SAFETY: a valid static handle from the loaded library.
    unsafe { message_type(h) }.unwrap_or_else(|e| panic!("{pkg}/{name}: {e}"))
}

/// xorshift64*: deterministic test data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Fills the C message at `base` with random contents (sequences of up to 4 elements within
/// their bounds, strings of up to 8 characters within theirs).
///
/// # Safety
/// `base` points to an initialized, writable C message of the plan's type.
unsafe fn fill(plan: &Plan, base: *mut u8, rng: &mut Rng) {
    for op in &plan.ops {
        // SAFETY: offsets lie inside the struct.
        let field = unsafe { base.add(op.offset) };
        match &op.shape {
            // SAFETY: one element.
            Shape::Single => unsafe { fill_elems(op, field, 1, rng) },
            // SAFETY: `n` inline elements.
            Shape::Array(n) => unsafe { fill_elems(op, field, *n, rng) },
            Shape::Sequence {
                bound,
                access: SeqAccess::C { resize },
            } => {
                let n = rng.below(bound.unwrap_or(4).min(4) + 1);
                let seq = field.cast::<CSequence>();
                // SAFETY: the member's resize function on its own sequence.
                assert!(unsafe { resize(seq.cast(), n) });
                if n > 0 {
                    // SAFETY: the sequence now holds `n` initialized elements.
                    unsafe { fill_elems(op, (*seq).data.cast(), n, rng) };
                }
            }
            Shape::Sequence { .. } => panic!("fill: C messages only"),
        }
    }
}

/// # Safety
/// `ptr` points to `n` initialized, writable C elements of `op.elem`.
unsafe fn fill_elems(op: &super::plan::FieldOp, ptr: *mut u8, n: usize, rng: &mut Rng) {
    let stride = op.elem_mem_size();
    let str_len = |rng: &mut Rng| rng.below(op.str_bound.unwrap_or(8).min(8) + 1);
    for i in 0..n {
        // SAFETY: element `i` of `n`.
        let e = unsafe { ptr.add(i * stride) };
        match &op.elem {
            // SAFETY: a C bool.
            Elem::Prim(Prim::Bool) => unsafe { e.write((rng.next() & 1) as u8) },
            Elem::Prim(p) => {
                for k in 0..p.mem_size() {
                    // SAFETY: `mem_size` bytes of a number; any bit pattern is valid.
                    unsafe { e.add(k).write(rng.next() as u8) };
                }
            }
            Elem::String(_) => {
                let len = str_len(rng);
                let s: Vec<u8> = (0..len).map(|_| b' ' + rng.below(95) as u8).collect();
                // SAFETY: an initialized C string; `s` holds `len` bytes.
                assert!(unsafe {
                    sys::rosidl_runtime_c__String__assignn(e.cast(), s.as_ptr().cast(), len)
                });
            }
            Elem::WString(_) => {
                let len = str_len(rng);
                let s: Vec<u16> = (0..len).map(|_| rng.next() as u16).collect();
                // SAFETY: an initialized C wide string; `s` holds `len` units.
                assert!(unsafe {
                    sys::rosidl_runtime_c__U16String__assignn(e.cast(), s.as_ptr(), len)
                });
            }
            // SAFETY: an initialized nested C message.
            Elem::Message(t) => unsafe { fill(&t.plan, e, rng) },
        }
    }
}

fn copy(ty: &MessageType, src: &Msg, dst: &mut Msg) {
    let d = dst.mut_ptr();
    // SAFETY: distinct initialized messages of `ty`.
    unsafe { ty.copy_message(src.ptr(), d) }.expect("copy");
}

/// Every strict prefix of `bytes` fails to decode into a C++ message (without crashing).
fn prefixes_fail(t: &Arc<MessageType>, bytes: &[u8]) {
    for cut in 0..bytes.len() {
        assert!(
            Msg::new(t).read(&bytes[..cut]).is_err(),
            "{}: prefix {cut} decoded",
            t.type_name()
        );
    }
}

/// The C flavour's bytes of defaults and random instances decode into C++ messages and
/// re-encode identically; deep copies between C++ messages (fresh and holding other contents)
/// serialize identically.
fn check_type(pkg: &str, name: &str) {
    let c = msg_type(pkg, name);
    let cpp = cpp_type(pkg, name);
    assert_eq!(c.type_name(), cpp.type_name());
    assert_eq!(c.type_hash(), cpp.type_hash());
    assert_eq!(c.is_plain(), cpp.is_plain(), "{name}");
    assert_eq!(
        Msg::new(&cpp).to_vec(),
        Msg::new(&c).to_vec(),
        "{name} defaults"
    );

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
    let mut reuse = Msg::new(&cpp);
    let mut copy_into = Msg::new(&cpp);
    for i in 0..12 {
        let mut cm = Msg::new(&c);
        if i > 0 {
            // SAFETY: an initialized C message of `c`.
            unsafe { fill(&c.plan, cm.mut_ptr().cast(), &mut rng) };
        }
        let bytes = cm.to_vec();
        let m = Msg::decoded(&cpp, &bytes);
        assert_eq!(m.to_vec(), bytes, "{name} #{i}");
        // SAFETY: an initialized message.
        assert_eq!(unsafe { cpp.serialized_size(m.ptr()) }, Ok(bytes.len()));
        // Decoding over older contents replaces them.
        reuse.read(&bytes).unwrap();
        assert_eq!(reuse.to_vec(), bytes, "{name} #{i} reused");
        // Deep copies: into a fresh message and over the previous instance.
        let mut fresh = Msg::new(&cpp);
        copy(&cpp, &m, &mut fresh);
        assert_eq!(fresh.to_vec(), bytes, "{name} #{i} copy");
        copy(&cpp, &m, &mut copy_into);
        assert_eq!(copy_into.to_vec(), bytes, "{name} #{i} copy over");
        // And back into C.
        assert_eq!(Msg::decoded(&c, &m.to_vec()).to_vec(), bytes);
        if i == 1 {
            prefixes_fail(&cpp, &bytes);
        }
    }
}

#[test]
fn cpp_matches_c_for_every_test_type() {
    let mut types = vec![
        ("test_msgs", "BasicTypes"),
        ("test_msgs", "Builtins"),
        ("test_msgs", "Constants"),
        ("test_msgs", "Defaults"),
        ("test_msgs", "Strings"),
        ("test_msgs", "WStrings"),
        ("test_msgs", "Arrays"),
        ("test_msgs", "BoundedPlainSequences"),
        ("test_msgs", "BoundedSequences"),
        ("test_msgs", "UnboundedSequences"),
        ("test_msgs", "Nested"),
        ("test_msgs", "MultiNested"),
        ("test_msgs", "Empty"),
        ("std_msgs", "String"),
        ("sensor_msgs", "Image"),
        ("sensor_msgs", "PointCloud2"),
    ];
    if cfg!(ros_kilted) {
        types.extend([
            ("test_msgs", "KeyedLong"),
            ("test_msgs", "KeyedString"),
            ("test_msgs", "ComplexNestedKey"),
            ("test_msgs", "NonKeyedWithNestedKey"),
        ]);
    }
    for (pkg, name) in types {
        check_type(pkg, name);
    }
}

#[test]
fn cpp_handles_resolve_to_one_type() {
    let t = cpp_type("test_msgs", "MultiNested");
    let intro: *const sys::rosidl_message_type_support_t = handle(
        "rosidl_typesupport_introspection_cpp",
        "message",
        "test_msgs",
        "msg",
        "MultiNested",
    );
    // SAFETY: a valid static handle.
    assert!(Arc::ptr_eq(&t, &unsafe { message_type(intro) }.unwrap()));
    // Nested C++ types share plans, and are C++ plans.
    let Elem::Message(inner) = &t.plan.ops[0].elem else {
        panic!()
    };
    assert!(Arc::ptr_eq(inner, &cpp_type("test_msgs", "Arrays")));
    assert!(!Arc::ptr_eq(&t, &msg_type("test_msgs", "MultiNested")));
    // Plain C++ types: only primitives, fixed arrays and plain nested messages.
    assert!(cpp_type("test_msgs", "BasicTypes").is_plain());
    assert!(cpp_type("test_msgs", "Nested").is_plain());
    assert!(cpp_type("test_msgs", "Empty").is_plain());
    assert!(!cpp_type("test_msgs", "Arrays").is_plain());
    assert!(!cpp_type("test_msgs", "BoundedPlainSequences").is_plain());
    assert!(!cpp_type("std_msgs", "String").is_plain());
    // A plain type has the same memory image in both flavours (raw samples may cross).
    for name in ["BasicTypes", "Nested", "Empty"] {
        let (c, cpp) = (msg_type("test_msgs", name), cpp_type("test_msgs", name));
        assert_eq!(c.c_size(), cpp.c_size(), "{name}");
        let offsets = |t: &MessageType| t.plan.ops.iter().map(|o| o.offset).collect::<Vec<_>>();
        assert_eq!(offsets(&c), offsets(&cpp), "{name}");
    }
}

fn op<'a>(t: &'a MessageType, name: &str) -> &'a super::plan::FieldOp {
    t.plan.ops.iter().find(|o| &*o.name == name).unwrap()
}

/// Reads a C++ `std::vector<bool>` member through its plan accessors.
fn cpp_bools(t: &MessageType, m: &Msg, name: &str) -> Vec<bool> {
    let o = op(t, name);
    let Shape::Sequence {
        access: SeqAccess::CppBool { size, fetch, .. },
        ..
    } = &o.shape
    else {
        panic!("{name} is not a C++ bool sequence")
    };
    // SAFETY: the member lies at its offset in an initialized message.
    let member = unsafe { m.ptr().cast::<u8>().add(o.offset) }.cast::<c_void>();
    // SAFETY: the member's own accessors; indices below its size.
    (0..unsafe { size(member) })
        .map(|i| {
            let mut b = false;
            // SAFETY: as above.
            unsafe { fetch(member, i, (&mut b as *mut bool).cast()) };
            b
        })
        .collect()
}

#[test]
fn vector_of_bool() {
    let (c, cpp) = (
        msg_type("test_msgs", "UnboundedSequences"),
        cpp_type("test_msgs", "UnboundedSequences"),
    );
    let mut cm = Msg::new(&c);
    let b = cm.resize::<bool>("bool_values", 5);
    // SAFETY: five bools.
    unsafe {
        [true, false, true, true, false]
            .iter()
            .enumerate()
            .for_each(|(i, v)| *b.add(i) = *v)
    };
    let bytes = cm.to_vec();
    let m = Msg::decoded(&cpp, &bytes);
    assert_eq!(
        cpp_bools(&cpp, &m, "bool_values"),
        [true, false, true, true, false]
    );
    assert_eq!(m.to_vec(), bytes);

    // BoundedVector<bool, 3>: the bound holds in both directions.
    let bs = cpp_type("test_msgs", "BoundedSequences");
    let err = Msg::new(&bs)
        .read(&[0, 1, 0, 0, 4, 0, 0, 0, 1, 1, 1, 1])
        .unwrap_err();
    assert_eq!(
        err,
        CdrError::BoundExceeded {
            field: "bool_values".into(),
            len: 4,
            bound: 3
        }
    );
    // std::array<bool, 3> is inline.
    let arrays = cpp_type("test_msgs", "Arrays");
    assert!(matches!(op(&arrays, "bool_values").shape, Shape::Array(3)));
}

#[test]
fn strings_and_u16strings() {
    let (c, cpp) = (
        msg_type("test_msgs", "WStrings"),
        cpp_type("test_msgs", "WStrings"),
    );
    let mut cm = Msg::new(&c);
    let v: Vec<u16> = "a\u{e9}\u{1F600}".encode_utf16().collect();
    let f = cm.field::<sys::rosidl_runtime_c__U16String>("wstring_value");
    // SAFETY: an initialized wide string; `v` holds its units.
    assert!(unsafe { sys::rosidl_runtime_c__U16String__assignn(f, v.as_ptr(), v.len()) });
    let seq = cm.resize::<sys::rosidl_runtime_c__U16String>("unbounded_sequence_of_wstrings", 2);
    // SAFETY: element 1 of 2.
    assert!(unsafe { sys::rosidl_runtime_c__U16String__assignn(seq.add(1), v.as_ptr(), 2) });
    let bytes = cm.to_vec();
    let mut m = Msg::decoded(&cpp, &bytes);
    let o = op(&cpp, "wstring_value");
    assert!(matches!(o.elem, Elem::WString(Flavor::Cpp)));
    let w = WStrRef {
        ptr: m.field("wstring_value"),
        flavor: Flavor::Cpp,
    };
    // SAFETY: an initialized std::u16string.
    let (data, len) = unsafe { w.parts() };
    // SAFETY: `len` units at `data`.
    assert_eq!(unsafe { core::slice::from_raw_parts(data, len) }, &v[..]);
    assert_eq!(m.to_vec(), bytes);

    let (c, cpp) = (
        msg_type("test_msgs", "Strings"),
        cpp_type("test_msgs", "Strings"),
    );
    let mut cm = Msg::new(&c);
    Msg::set_str(cm.field("string_value"), "hello, C++");
    let bytes = cm.to_vec();
    let mut m = Msg::decoded(&cpp, &bytes);
    let s = StrRef {
        ptr: m.field("string_value"),
        flavor: Flavor::Cpp,
    };
    // SAFETY: an initialized std::string.
    let (data, len) = unsafe { s.parts() };
    // SAFETY: `len` bytes at `data`.
    let got = unsafe { core::slice::from_raw_parts(data, len) };
    assert_eq!(got, b"hello, C++");
    // A bounded std::string over its bound is refused when encoding.
    let long = "x".repeat(23);
    let b = StrRef {
        ptr: m.field("bounded_string_value"),
        flavor: Flavor::Cpp,
    };
    // SAFETY: an initialized, writable std::string.
    assert!(unsafe { b.assign(long.as_ptr(), long.len()) });
    // SAFETY: an initialized message.
    let err = unsafe { cpp.serialized_size(m.ptr()) }.unwrap_err();
    assert!(
        matches!(
            err,
            CdrError::BoundExceeded {
                len: 23,
                bound: 22,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn fastrtps_fixtures_decode_into_cpp() {
    for (file, pkg, name) in [
        ("basic_types", "test_msgs", "BasicTypes"),
        ("std_string", "std_msgs", "String"),
        ("strings", "test_msgs", "Strings"),
        ("wstrings", "test_msgs", "WStrings"),
        ("arrays", "test_msgs", "Arrays"),
        ("bounded_sequences", "test_msgs", "BoundedSequences"),
        ("unbounded_sequences", "test_msgs", "UnboundedSequences"),
        ("nested", "test_msgs", "Nested"),
        ("multi_nested", "test_msgs", "MultiNested"),
        ("image", "sensor_msgs", "Image"),
    ] {
        let theirs = fixture(file);
        let c = Msg::decoded(&msg_type(pkg, name), theirs).to_vec();
        let cpp = Msg::decoded(&cpp_type(pkg, name), theirs).to_vec();
        assert_eq!(cpp, c, "{file}");
    }
}

#[test]
fn owned_cpp_message_and_large_image() {
    let cpp = cpp_type("sensor_msgs", "Image");
    let c = msg_type("sensor_msgs", "Image");
    let mut cm = Msg::new(&c);
    let n = 4 << 20;
    let data = cm.resize::<u8>("data", n);
    // SAFETY: `data` has `n` bytes.
    unsafe { core::slice::from_raw_parts_mut(data, n) }
        .iter_mut()
        .enumerate()
        .for_each(|(i, b)| *b = i as u8);
    Msg::set_str(cm.field("encoding"), "rgb8");
    let bytes = cm.to_vec();
    let mut owned = OwnedMessage::new(Arc::clone(&cpp)).unwrap();
    owned.deserialize(&bytes).unwrap();
    assert_eq!(owned.to_cdr().unwrap(), bytes);
    let copy = OwnedMessage::copy_of(Arc::clone(&cpp), &owned.as_message_ref()).unwrap();
    assert_eq!(copy.to_cdr().unwrap(), bytes);
}

#[test]
fn cpp_service_types() {
    let ts: *const sys::rosidl_service_type_support_t = handle(
        "rosidl_typesupport_cpp",
        "service",
        "test_msgs",
        "srv",
        "Arrays",
    );
    // SAFETY: a valid static handle.
    let s = unsafe { service_type(ts) }.unwrap();
    assert_eq!(s.name, "test_msgs/srv/Arrays");
    let c = {
        let ts: *const sys::rosidl_service_type_support_t = handle(
            "rosidl_typesupport_c",
            "service",
            "test_msgs",
            "srv",
            "Arrays",
        );
        // SAFETY: a valid static handle.
        unsafe { service_type(ts) }.unwrap()
    };
    assert!(!Arc::ptr_eq(&s, &c));
    for (cpp_t, c_t) in [(&s.request, &c.request), (&s.response, &c.response)] {
        assert_eq!(cpp_t.type_name(), c_t.type_name());
        assert_eq!(cpp_t.type_hash(), c_t.type_hash());
        let mut rng = Rng(7);
        let mut cm = Msg::new(c_t);
        // SAFETY: an initialized C message of `c_t`.
        unsafe { fill(&c_t.plan, cm.mut_ptr().cast(), &mut rng) };
        let bytes = cm.to_vec();
        assert_eq!(Msg::decoded(cpp_t, &bytes).to_vec(), bytes);
    }
}
