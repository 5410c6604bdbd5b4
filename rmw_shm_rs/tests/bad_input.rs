//! Bad input through the C ABI, for every export of `rmw_exports.txt`: each pointer argument in
//! turn is null, each handle in turn is zero-initialized or carries another implementation's
//! identifier (`rmw_zenoh_cpp`), with every other argument valid. Each call must return the
//! code the rmw header documents (`RMW_RET_INVALID_ARGUMENT`,
//! `RMW_RET_INCORRECT_RMW_IMPLEMENTATION`, ...; null for the functions that return a handle)
//! and set an error message naming the function, never crash, never panic inside.
//!
//! The calls are generated: `bad_input/table.rs` holds bindgen's signature of every export
//! (written by `scripts/gen_bad_input.py`); the `exports!` macro below turns each line into a
//! call whose arguments come from their types (`bad_input/args.rs`, pointing into the live
//! objects of `bad_input/fixture.rs`), and [`cases`] derives the bad cases and their documented
//! outcome from each argument's type and name. No message may overwrite another one
//! (`bad_input/stderr.rs` watches for rcutils' report of that). A new export
//! in `rmw_exports.txt` fails `table_is_current` until the table has it, and then needs no
//! more than a value for any new argument type (a compile error says which).
//!
//! A crash kills the test process before it can report: rerun with `-- --nocapture`, each case
//! is printed before it runs.

use std::ffi::{c_void, CStr};

use rmw_shm_rs::error::*;
use rmw_shm_rs::sys::*;

mod common;
use common::error_text;

#[path = "bad_input/args.rs"]
mod args;
#[path = "bad_input/fixture.rs"]
mod fixture;
#[path = "bad_input/stderr.rs"]
mod stderr;
use args::Value;
use fixture::Fixture;
use stderr::{Stderr, STDERR};

/// Every module of `rmw_shm_rs::ffi` that defines exports.
mod ffi {
    pub use rmw_shm_rs::ffi::{
        callback::*, client::*, event::*, graph::*, init::*, loan::*, node::*, publisher::*,
        qos::*, serialize::*, service::*, subscription::*, unsupported::*, wait::*,
    };
}

/// The identifier of the foreign handles. Not the DDS delegate's (`rmw_fastrtps_cpp`): handles
/// carrying that one are forwarded to the delegate on purpose (src/ffi/forward.rs).
const FOREIGN: &CStr = c"rmw_zenoh_cpp";
/// Above the last DDS domain id (232): the contexts of this test never start a DDS participant.
const DOMAIN: usize = 242;

/// What is wrong with the argument under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Case {
    /// A null pointer.
    Null,
    /// A zero-initialized struct: a handle or type support without identifier, an allocator
    /// without functions.
    Zero,
    /// A copy of a valid handle whose implementation identifier is [`FOREIGN`]; a type support
    /// of an unknown type support library.
    Foreign,
    /// An output argument that must be zero-initialized (or point to null) but is not.
    NotZero,
    /// An enumerator or count the header rules out.
    OutOfRange,
    /// No bad input possible (no arguments): the call itself.
    Call,
}

/// The documented outcome of a case.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// This code (null for functions returning a handle) and an error message containing the
    /// function's name and `msg`.
    Fail { code: rmw_ret_t, msg: &'static str },
    /// `false`, no error message (the `*_supported` queries).
    False,
    /// This string, no error message.
    Str(&'static str),
}

const fn fail(code: rmw_ret_t, msg: &'static str) -> Expect {
    Expect::Fail { code, msg }
}

/// What a call returned.
#[derive(Debug)]
enum Outcome {
    Ret(rmw_ret_t),
    Ptr(*const c_void),
    Bool(bool),
}

trait IntoOutcome {
    fn outcome(self) -> Outcome;
}
impl IntoOutcome for rmw_ret_t {
    fn outcome(self) -> Outcome {
        Outcome::Ret(self)
    }
}
impl IntoOutcome for bool {
    fn outcome(self) -> Outcome {
        Outcome::Bool(self)
    }
}
impl<T> IntoOutcome for *const T {
    fn outcome(self) -> Outcome {
        Outcome::Ptr(self.cast())
    }
}
impl<T> IntoOutcome for *mut T {
    fn outcome(self) -> Outcome {
        Outcome::Ptr(self.cast_const().cast())
    }
}

/// The argument being built: its function and name.
#[derive(Clone, Copy)]
struct Site {
    func: &'static str,
    arg: &'static str,
}

/// One export: its bindgen signature and a caller that builds every argument valid except
/// `bad`, the argument under test and its case.
struct Export {
    name: &'static str,
    args: Vec<(&'static str, &'static str)>,
    ret: &'static str,
    call: fn(&mut Fixture, Option<(&'static str, Case)>) -> Outcome,
}

fn pick(bad: Option<(&'static str, Case)>, arg: &str) -> Option<Case> {
    bad.filter(|(a, _)| *a == arg).map(|(_, c)| c)
}

macro_rules! exports {
    ($(fn $name:ident($($arg:ident : $ty:ty),*) -> $ret:ty;)*) => {
        fn table() -> Vec<Export> {
            vec![$(Export {
                name: stringify!($name),
                args: vec![$((stringify!($arg), stringify!($ty))),*],
                ret: stringify!($ret),
                call: |fixture: &mut Fixture, bad: Option<(&'static str, Case)>| -> Outcome {
                    let _ = (&fixture, bad); // unused by the exports without arguments
                    $(
                        let $arg: $ty = Value::make(
                            fixture,
                            Site { func: stringify!($name), arg: stringify!($arg) },
                            pick(bad, stringify!($arg)),
                        );
                    )*
                    // SAFETY: every argument is valid for the function or deliberately bad in
                    // a way the rmw header says the function must reject (null, zero-initialized,
                    // foreign); what they point to lives in the fixture during the call.
                    let r = unsafe { ffi::$name($($arg),*) };
                    r.outcome()
                },
            }),*]
        }
    };
}

include!("bad_input/table.rs");

/// Exports that rmw_shm_rs does not implement (src/ffi/unsupported.rs), with the handle
/// arguments they still check; any other argument, bad or not, gives RMW_RET_UNSUPPORTED.
const UNSUPPORTED: &[(&str, &[&str])] = &[
    ("rmw_init_publisher_allocation", &[]),
    ("rmw_fini_publisher_allocation", &[]),
    ("rmw_init_subscription_allocation", &[]),
    ("rmw_fini_subscription_allocation", &[]),
    ("rmw_publisher_get_network_flow_endpoints", &["publisher"]),
    (
        "rmw_subscription_get_network_flow_endpoints",
        &["subscription"],
    ),
    ("rmw_take_dynamic_message", &["subscription"]),
    ("rmw_take_dynamic_message_with_info", &["subscription"]),
    ("rmw_serialization_support_init", &[]),
    ("rmw_subscription_set_content_filter", &["subscription"]),
    ("rmw_subscription_get_content_filter", &["subscription"]),
];

/// Output structs that must be zero-initialized: zero is their valid value.
const OUT_ZERO: &[(&str, &str)] = &[
    ("rmw_init", "context"),
    ("rmw_init_options_init", "init_options"),
    ("rmw_init_options_copy", "dst"),
    ("rmw_publisher_event_init", "rmw_event"),
    ("rmw_subscription_event_init", "rmw_event"),
];

fn out_zero(site: Site) -> bool {
    OUT_ZERO.contains(&(site.func, site.arg))
}

/// The type's last path segment and its pointer depth: `*mut *mut ::std::os::raw::c_void` is
/// `("c_void", 2)`.
fn base_type(ty: &str) -> (&str, usize) {
    let depth = ty.matches('*').count();
    let base = ty
        .rsplit(|c: char| c.is_whitespace() || c == ':' || c == '*')
        .find(|s| !s.is_empty())
        .unwrap_or(ty);
    (base, depth)
}

const HANDLES: &[&str] = &[
    "rmw_init_options_t",
    "rmw_context_t",
    "rmw_node_t",
    "rmw_publisher_t",
    "rmw_subscription_t",
    "rmw_service_t",
    "rmw_client_t",
    "rmw_guard_condition_t",
    "rmw_wait_set_t",
    "rmw_event_t",
    "rmw_gid_t",
];

/// Whether an argument of type `ty` (last path segment `base`, one pointer) is a handle: a
/// `*mut rmw_gid_t` is an out-argument (`rmw_get_gid_for_*`), not one.
fn is_handle(base: &str, ty: &str) -> bool {
    HANDLES.contains(&base) && !(base == "rmw_gid_t" && ty.contains("mut"))
}

/// The bad cases of one argument and their documented outcomes (rmw/*.h): null pointers are
/// RMW_RET_INVALID_ARGUMENT, zero-initialized handles RMW_RET_INVALID_ARGUMENT (init.h's rule
/// for contexts and options, applied to every handle), foreign handles
/// RMW_RET_INCORRECT_RMW_IMPLEMENTATION, an unknown type support RMW_RET_ERROR; optional
/// pointers (allocations, bounds, wait arrays and timeout, user data) and plain values have none.
fn cases(func: &'static str, arg: &'static str, ty: &str) -> Vec<(Case, Expect)> {
    use Case::*;
    let (base, depth) = base_type(ty);
    let null = (Null, fail(RET_INVALID_ARGUMENT, "is null"));
    let not_zero = (NotZero, fail(RET_INVALID_ARGUMENT, "zero-initialized"));
    let unsupported = UNSUPPORTED.iter().find(|(f, _)| *f == func);
    let mut v = match (base, depth) {
        (h, 1) if is_handle(h, ty) => {
            if out_zero(Site { func, arg }) {
                if h == "rmw_event_t" {
                    vec![null]
                } else {
                    vec![null, not_zero]
                }
            } else {
                vec![
                    null,
                    (
                        Zero,
                        fail(RET_INVALID_ARGUMENT, "no implementation identifier"),
                    ),
                    (
                        Foreign,
                        fail(RET_INCORRECT_RMW_IMPLEMENTATION, "'rmw_zenoh_cpp'"),
                    ),
                ]
            }
        }
        ("rmw_publisher_allocation_t" | "rmw_subscription_allocation_t", 1) => {
            if unsupported.is_some() {
                vec![null, (Zero, null.1), (Foreign, null.1)]
            } else {
                vec![]
            }
        }
        ("rosidl_message_type_support_t" | "rosidl_service_type_support_t", 1) => vec![
            null,
            (Zero, fail(RET_ERROR, "type support")),
            (Foreign, fail(RET_ERROR, "type support")),
        ],
        ("rcutils_allocator_t", 1) => vec![
            null,
            (Zero, fail(RET_INVALID_ARGUMENT, "allocator is invalid")),
        ],
        ("rcutils_allocator_t", 0) => {
            vec![(Zero, fail(RET_INVALID_ARGUMENT, "allocator is invalid"))]
        }
        (
            "rcutils_string_array_t" | "rmw_names_and_types_t" | "rmw_topic_endpoint_info_array_t",
            1,
        ) => vec![null, not_zero],
        ("c_void", 2) => vec![null, (NotZero, fail(RET_INVALID_ARGUMENT, "must be null"))],
        (
            "rmw_subscriptions_t"
            | "rmw_guard_conditions_t"
            | "rmw_services_t"
            | "rmw_clients_t"
            | "rmw_events_t"
            | "rosidl_runtime_c__Sequence__bound"
            | "rmw_time_t",
            1,
        ) => vec![],
        ("c_void", 1) if arg == "user_data" => vec![],
        (_, 0) => match (func, arg) {
            ("rmw_set_log_severity", "severity") => {
                vec![(OutOfRange, fail(RET_INVALID_ARGUMENT, "severity"))]
            }
            ("rmw_publisher_event_init" | "rmw_subscription_event_init", "event_type") => {
                vec![(OutOfRange, fail(RET_UNSUPPORTED, "not supported"))]
            }
            ("rmw_feature_supported", _) | ("rmw_event_type_is_supported", _) => {
                vec![(OutOfRange, Expect::False)]
            }
            ("rmw_take_sequence", "count") => {
                vec![(OutOfRange, fail(RET_INVALID_ARGUMENT, "count"))]
            }
            _ => vec![],
        },
        _ => vec![null],
    };
    if let Some((_, checked)) = unsupported {
        if !checked.contains(&arg) {
            for (_, e) in &mut v {
                *e = fail(RET_UNSUPPORTED, "not supported");
            }
        }
    }
    v
}

/// This thread's rcutils error message, if one is set; resets it.
fn take_error() -> Option<String> {
    // SAFETY: reads this thread's rcutils error state.
    if unsafe { rcutils_error_is_set() } {
        Some(error_text())
    } else {
        None
    }
}

/// Checks one outcome against its expectation; the reason when it does not match.
fn check(
    name: &str,
    outcome: &Outcome,
    error: Option<&str>,
    expect: Expect,
) -> std::result::Result<(), String> {
    match expect {
        Expect::Fail { code, msg } => {
            match *outcome {
                Outcome::Ret(r) if r == code => {}
                Outcome::Ptr(p) if p.is_null() => {}
                ref o => return Err(format!("returned {o:?}, documented: {code} (or null)")),
            }
            let e = error.ok_or("no error message set")?;
            if !e.contains(name) || !e.contains(msg) {
                return Err(format!("error message {e:?} lacks {name:?} or {msg:?}"));
            }
            if e.contains("internal panic") {
                return Err(format!("panicked inside: {e:?}"));
            }
        }
        Expect::False => {
            if !matches!(outcome, Outcome::Bool(false)) || error.is_some() {
                return Err(format!(
                    "returned {outcome:?} (error {error:?}), expected false"
                ));
            }
        }
        Expect::Str(s) => {
            let ok = match *outcome {
                // SAFETY: a non-null return of these exports is a static C string.
                Outcome::Ptr(p) if !p.is_null() => unsafe { CStr::from_ptr(p.cast()) }
                    .to_str()
                    .is_ok_and(|t| t == s),
                _ => false,
            };
            if !ok || error.is_some() {
                return Err(format!(
                    "returned {outcome:?} (error {error:?}), expected {s:?}"
                ));
            }
        }
    }
    Ok(())
}

fn exports_list() -> Vec<&'static str> {
    include_str!("rmw_exports.txt").split_whitespace().collect()
}

/// Every (export, argument, case) of the table, run against one context; all mismatches are
/// reported together.
#[test]
fn every_export_rejects_bad_input_with_the_documented_code() {
    // With the DDS delegate loaded every forwarding check (`forward(..)` in src/ffi) runs on the
    // foreign identifiers too; it is not loaded when the remote path is off.
    if let Err(e) = rmw_shm_rs::delegate::Delegate::get() {
        eprintln!("bad_input: DDS delegate not loaded ({e}); forwarding checks not exercised");
    }
    let table = table();
    let _fd2 = STDERR.lock().unwrap_or_else(|e| e.into_inner());
    let mut fx = Fixture::new();
    let mut stderr = Stderr::new();
    let mut failures = Vec::new();
    let mut pairs = 0;
    let mut per_case = std::collections::BTreeMap::<String, usize>::new();
    for e in &table {
        let mut runs: Vec<(Option<(&'static str, Case)>, Expect)> = Vec::new();
        for &(arg, ty) in &e.args {
            for (case, expect) in cases(e.name, arg, ty) {
                runs.push((Some((arg, case)), expect));
            }
        }
        if e.args.is_empty() {
            let s = match e.name {
                "rmw_get_implementation_identifier" => "rmw_shm_rs",
                "rmw_get_serialization_format" => "cdr",
                other => panic!("{other} has no arguments: say what it returns"),
            };
            runs.push((None, Expect::Str(s)));
        }
        assert!(
            !runs.is_empty(),
            "{}: no case applies to any of its arguments",
            e.name
        );
        for (bad, expect) in runs {
            let (arg, case) = bad.unwrap_or(("", Case::Call));
            eprintln!("bad_input: {}({arg}: {case:?})", e.name);
            // SAFETY: resets this thread's rcutils error state.
            unsafe { rcutils_reset_error() };
            let (outcome, written) = stderr.capture(|| (e.call)(&mut fx, bad));
            fx.arena.clear();
            let error = take_error();
            if let Err(why) = check(e.name, &outcome, error.as_deref(), expect) {
                failures.push(format!("{}({arg}: {case:?}): {why}", e.name));
            }
            eprint!("{written}");
            if written.contains("being overwritten") {
                failures.push(format!(
                    "{}({arg}: {case:?}): set an error message over another one: {written}",
                    e.name
                ));
            }
            pairs += 1;
            *per_case.entry(format!("{case:?}")).or_default() += 1;
        }
    }
    eprintln!(
        "bad_input: {pairs} (export, argument, case) calls over {} exports: {per_case:?}",
        table.len()
    );
    fx.fini();
    assert!(
        failures.is_empty(),
        "{} of {pairs} calls differ from the documented outcome:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Strips whitespace and the trailing comma of bindgen's multi-line argument lists.
fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<String>().replace(",)", ")")
}

/// The table covers exactly `rmw_exports.txt`, in its order, with bindgen's signatures: a new
/// export, or a changed header, fails here until `scripts/gen_bad_input.py` has been run.
#[test]
fn table_is_current() {
    let table = table();
    let names: Vec<_> = table.iter().map(|e| e.name).collect();
    let exports = exports_list();
    let missing: Vec<_> = exports.iter().filter(|n| !names.contains(n)).collect();
    let extra: Vec<_> = names.iter().filter(|n| !exports.contains(n)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "tests/bad_input/table.rs lacks {missing:?} and has {extra:?} beyond rmw_exports.txt: \
         run scripts/gen_bad_input.py"
    );
    assert_eq!(
        names, exports,
        "tests/bad_input/table.rs is out of order: run scripts/gen_bad_input.py"
    );
    let bindings = include_str!(concat!(env!("OUT_DIR"), "/bindings.rs"));
    for e in &table {
        let start = bindings
            .find(&format!("pub fn {}(", e.name))
            .unwrap_or_else(|| panic!("bindgen declares no {}", e.name));
        let end = start + bindings[start..].find(';').unwrap();
        let args: Vec<String> = e.args.iter().map(|(a, t)| format!("{a}:{t}")).collect();
        let ours = format!("pub fn {}({}) -> {}", e.name, args.join(","), e.ret);
        assert_eq!(
            normalize(&ours),
            normalize(&bindings[start..end]),
            "tests/bad_input/table.rs is stale for {}: run scripts/gen_bad_input.py",
            e.name
        );
    }
}

/// The overwrite detector of the main test sees what rcutils reports.
#[test]
fn stderr_capture_sees_an_overwritten_error() {
    let _fd2 = STDERR.lock().unwrap_or_else(|e| e.into_inner());
    let mut stderr = Stderr::new();
    let ((), text) = stderr.capture(|| {
        // SAFETY: sets this thread's rcutils error state twice (static C strings), then resets.
        unsafe {
            rcutils_set_error_state(c"first".as_ptr(), c"bad_input".as_ptr(), 1);
            rcutils_set_error_state(c"second".as_ptr(), c"bad_input".as_ptr(), 2);
            rcutils_reset_error();
        }
    });
    assert!(text.contains("being overwritten"), "{text:?}");
}

/// The case derivation itself: every export gets at least one case, every handle argument all
/// three, and the foreign identifier is never the delegate's.
#[test]
fn every_handle_argument_gets_null_zero_and_foreign() {
    assert_ne!(FOREIGN, c"rmw_fastrtps_cpp");
    for e in table() {
        for &(arg, ty) in &e.args {
            let (base, depth) = base_type(ty);
            if depth == 1 && is_handle(base, ty) && !out_zero(Site { func: e.name, arg }) {
                let got: Vec<Case> = cases(e.name, arg, ty).iter().map(|c| c.0).collect();
                assert_eq!(
                    got,
                    [Case::Null, Case::Zero, Case::Foreign],
                    "{}({arg})",
                    e.name
                );
            }
        }
    }
}
