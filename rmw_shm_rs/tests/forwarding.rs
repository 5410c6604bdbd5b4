//! Every export hands objects of the DDS delegate (rmw_fastrtps_cpp, loaded privately by
//! `Delegate::get`) back to the delegate: rmw_fastrtps_cpp calls some of its public functions
//! through the global scope, where ours answer (issue 5). Objects made by the delegate's own
//! functions go through OUR exports here; a foreign identifier that is not the delegate's is
//! still rejected.

use std::ffi::CStr;
use std::ptr::null_mut;

use rmw_shm_rs::delegate::Delegate;
use rmw_shm_rs::error::*;
use rmw_shm_rs::ffi::{graph::*, init::*, node::*, publisher::*};
use rmw_shm_rs::sys::{
    rcutils_allocator_t, rcutils_get_default_allocator, rcutils_get_zero_initialized_string_array,
    rcutils_string_array_fini,
    rmw_automatic_discovery_range_e_RMW_AUTOMATIC_DISCOVERY_RANGE_LOCALHOST as LOCALHOST,
    rmw_context_t, rmw_get_default_publisher_options, rmw_get_zero_initialized_context,
    rmw_get_zero_initialized_init_options, rmw_get_zero_initialized_topic_endpoint_info_array,
    rmw_init_options_t, rmw_node_t, rmw_qos_profile_t, rmw_ret_t,
    rmw_topic_endpoint_info_array_fini,
};

mod common;
use common::{child, error_text, StringType};

/// The delegate. The tests that load it run in a child process (common/child.rs) with the
/// ROS libraries on LD_LIBRARY_PATH and Fast DDS on UDP over loopback only.
fn delegate() -> &'static Delegate {
    Delegate::get().unwrap_or_else(|e| panic!("cannot load the delegate: {e}"))
}

fn random_domain() -> usize {
    child::random_domain() as usize
}

fn is_delegates(d: &Delegate, id: *const std::ffi::c_char) -> bool {
    // SAFETY: identifiers are null or static C strings of the implementation.
    !id.is_null() && unsafe { CStr::from_ptr(id) } == d.identifier()
}

type OptionsInit = unsafe extern "C" fn(*mut rmw_init_options_t, rcutils_allocator_t) -> rmw_ret_t;

#[test]
fn delegate_objects_go_to_the_delegate() {
    if !child::is_child() {
        return child::assert_passes("delegate_objects_go_to_the_delegate");
    }
    let d = delegate();
    let ty = StringType::load();
    // SAFETY: the rcl sequence through our exports, on structs the delegate initializes.
    unsafe {
        let init_options_init = d.sym::<OptionsInit>(c"rmw_init_options_init").unwrap();
        let mut opts = rmw_get_zero_initialized_init_options();
        assert_eq!(
            init_options_init(&mut opts, rcutils_get_default_allocator()),
            RET_OK
        );
        assert!(is_delegates(d, opts.implementation_identifier));
        opts.domain_id = random_domain();
        opts.discovery_options.automatic_discovery_range = LOCALHOST;
        // The delegate's own verdict comes back unchanged: its rmw_init wants an enclave.
        let mut ctx: rmw_context_t = rmw_get_zero_initialized_context();
        assert_eq!(rmw_init(&opts, &mut ctx), RET_INVALID_ARGUMENT);
        let message = error_text();
        assert!(
            message.contains("enclave") && !message.contains("rmw_shm_rs"),
            "{message}"
        );
        // As rcl does: the enclave belongs to the options (their fini frees it).
        let enclave = (opts.allocator.allocate.unwrap())(2, opts.allocator.state).cast::<u8>();
        enclave.copy_from_nonoverlapping(c"/".as_ptr().cast(), 2);
        opts.enclave = enclave.cast();

        let mut copy = rmw_get_zero_initialized_init_options();
        assert_eq!(
            rmw_init_options_copy(&opts, &mut copy),
            RET_OK,
            "{}",
            error_text()
        );
        assert!(is_delegates(d, copy.implementation_identifier));
        assert_eq!(copy.domain_id, opts.domain_id);

        assert_eq!(rmw_init(&opts, &mut ctx), RET_OK, "{}", error_text());
        assert!(is_delegates(d, ctx.implementation_identifier));
        let node = rmw_create_node(&mut ctx, c"fwd_node".as_ptr(), c"/fwd".as_ptr());
        assert!(!node.is_null(), "{}", error_text());
        assert!(is_delegates(d, (*node).implementation_identifier));
        assert!(is_delegates(
            d,
            (*rmw_node_get_graph_guard_condition(node)).implementation_identifier
        ));

        let qos = rmw_qos_profile_t {
            history: 1,
            depth: 10,
            reliability: 1,
            durability: 2,
            ..Default::default()
        };
        let popts = rmw_get_default_publisher_options();
        let publisher = rmw_create_publisher(node, ty.ts, c"/fwd_chatter".as_ptr(), &qos, &popts);
        assert!(!publisher.is_null(), "{}", error_text());
        assert!(is_delegates(d, (*publisher).implementation_identifier));
        let mut actual = rmw_qos_profile_t::default();
        assert_eq!(rmw_publisher_get_actual_qos(publisher, &mut actual), RET_OK);
        assert_eq!((actual.depth, actual.reliability), (10, 1));

        let mut allocator = rcutils_get_default_allocator();
        let mut info = rmw_get_zero_initialized_topic_endpoint_info_array();
        let r = rmw_get_publishers_info_by_topic(
            node,
            &mut allocator,
            c"/fwd_chatter".as_ptr(),
            false,
            &mut info,
        );
        assert_eq!(r, RET_OK, "{}", error_text());
        assert_eq!(info.size, 1);
        assert_eq!(CStr::from_ptr((*info.info_array).node_name), c"fwd_node");
        assert_eq!(
            rmw_topic_endpoint_info_array_fini(&mut info, &mut allocator),
            RET_OK
        );

        let (mut names, mut namespaces) = (
            rcutils_get_zero_initialized_string_array(),
            rcutils_get_zero_initialized_string_array(),
        );
        assert_eq!(
            rmw_get_node_names(node, &mut names, &mut namespaces),
            RET_OK,
            "{}",
            error_text()
        );
        let listed: Vec<String> = (0..names.size)
            .map(|i| {
                CStr::from_ptr(*names.data.add(i))
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert!(listed.iter().any(|n| n == "fwd_node"), "{listed:?}");
        assert_eq!(rcutils_string_array_fini(&mut names), 0);
        assert_eq!(rcutils_string_array_fini(&mut namespaces), 0);

        assert_eq!(
            rmw_destroy_publisher(node, publisher),
            RET_OK,
            "{}",
            error_text()
        );
        assert_eq!(rmw_destroy_node(node), RET_OK, "{}", error_text());
        assert_eq!(rmw_shutdown(&mut ctx), RET_OK, "{}", error_text());
        assert_eq!(rmw_context_fini(&mut ctx), RET_OK, "{}", error_text());
        assert!(ctx.implementation_identifier.is_null());
        for o in [&mut copy, &mut opts] {
            assert_eq!(rmw_init_options_fini(o), RET_OK, "{}", error_text());
            assert!(o.implementation_identifier.is_null());
        }
    }
}

#[test]
fn foreign_identifiers_other_than_the_delegates_are_rejected() {
    if !child::is_child() {
        return child::assert_passes("foreign_identifiers_other_than_the_delegates_are_rejected");
    }
    let d = delegate();
    assert_ne!(d.identifier(), c"rmw_other");
    // SAFETY: our exports on structs carrying another implementation's identifier; none of
    // them is dereferenced beyond the identifier.
    unsafe {
        let mut foreign = rmw_get_zero_initialized_init_options();
        foreign.implementation_identifier = c"rmw_other".as_ptr();
        let mut dst = rmw_get_zero_initialized_init_options();
        assert_eq!(
            rmw_init_options_copy(&foreign, &mut dst),
            RET_INCORRECT_RMW_IMPLEMENTATION
        );
        assert!(error_text().contains("rmw_other"));
        assert_eq!(
            rmw_init_options_fini(&mut foreign),
            RET_INCORRECT_RMW_IMPLEMENTATION
        );
        let _ = error_text();
        let mut ctx = rmw_get_zero_initialized_context();
        assert_eq!(
            rmw_init(&foreign, &mut ctx),
            RET_INCORRECT_RMW_IMPLEMENTATION
        );
        let _ = error_text();

        let node = rmw_node_t {
            implementation_identifier: c"rmw_other".as_ptr(),
            data: null_mut(),
            name: c"n".as_ptr(),
            namespace_: c"/".as_ptr(),
            context: null_mut(),
        };
        let (mut names, mut namespaces) = (
            rcutils_get_zero_initialized_string_array(),
            rcutils_get_zero_initialized_string_array(),
        );
        assert_eq!(
            rmw_get_node_names(&node, &mut names, &mut namespaces),
            RET_INCORRECT_RMW_IMPLEMENTATION
        );
        let _ = error_text();
        let ty = StringType::load();
        let qos = rmw_qos_profile_t {
            history: 1,
            depth: 10,
            reliability: 1,
            durability: 2,
            ..Default::default()
        };
        let p = rmw_create_publisher(
            &node,
            ty.ts,
            c"/x".as_ptr(),
            &qos,
            &rmw_get_default_publisher_options(),
        );
        assert!(p.is_null());
        assert!(error_text().contains("rmw_other"));
    }
    // Our own objects are still ours while the delegate is loaded.
    let c = common::init(random_domain());
    common::fini(c);
}

/// The rmw structs whose implementation identifier decides which implementation a call is for.
const HANDLE_TYPES: &[&str] = &[
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
    "rmw_publisher_allocation_t",
    "rmw_subscription_allocation_t",
];

/// Exports whose only handle is a zero-initialized output, which no implementation owns yet.
const OUTPUT_ONLY: &[&str] = &[
    "rmw_init_options_init",
    "rmw_init_publisher_allocation",
    "rmw_init_subscription_allocation",
];

/// Every export written in src/ffi that takes a handle has a `forward(...)` clause (or, in
/// unsupported.rs, a checked `[handle]`, which is forwarded).
#[test]
fn every_export_taking_a_handle_forwards() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ffi");
    let (mut forwarded, mut missing) = (0, Vec::new());
    for entry in std::fs::read_dir(dir).unwrap() {
        let src = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let lines: Vec<&str> = src.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(rest) = line.trim_start().strip_prefix("fn ") else {
                continue;
            };
            let name = &rest[..rest.find('(').unwrap_or(0)];
            if !(name.starts_with("rmw_") || name == "$name") || OUTPUT_ONLY.contains(&name) {
                continue;
            }
            // The parameter list, up to the closing parenthesis, over several lines if need be.
            let text = lines[i..].join("\n");
            let params = &text[..text.find(") ").unwrap_or(text.len())];
            let takes_handle = params
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|t| HANDLE_TYPES.contains(&t));
            if !takes_handle {
                continue;
            }
            let clause = lines[..i]
                .last()
                .is_some_and(|l| l.trim_start().starts_with("forward("));
            let checked = line.contains(") [") && !line.contains(") []");
            if clause || checked {
                forwarded += 1;
            } else {
                missing.push(name.to_owned());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "exports taking a handle without `forward`: {missing:?}"
    );
    assert!(forwarded > 70, "only {forwarded} forwarding exports found");
}
