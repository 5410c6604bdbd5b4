//! Drives the DDS delegate through its own rmw functions (`Delegate::sym`) the way the remote
//! path does: init, a node, a BEST_AVAILABLE publisher and subscription of std_msgs/String
//! carrying CDR written by our codec, listener callback, wait set, QoS event, a service and a
//! client of test_msgs/srv/BasicTypes, graph queries, then the whole teardown.

use std::ffi::{c_void, CStr};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rmw_shm_rs::delegate::Delegate;
use rmw_shm_rs::error::RET_OK;
use rmw_shm_rs::ffi::serialize::{rmw_deserialize, rmw_serialize};
use rmw_shm_rs::sys::*;

use super::common::basic_types::Srv;
use super::common::{error_text, text, StringType};

/// Calls the delegate's own definition of `$name`, typed with bindgen's declaration of it.
macro_rules! dcall {
    ($name:ident($($a:expr),* $(,)?)) => {{
        let template: unsafe extern "C" fn($(dcall!(@ty $a)),*) -> _ = rmw_shm_rs::sys::$name;
        let name = concat!(stringify!($name), "\0").as_bytes();
        delegate_sym(template, CStr::from_bytes_with_nul(name).unwrap())($($a),*)
    }};
    (@ty $a:expr) => { _ };
}

fn delegate_sym<F: Copy>(_template: F, name: &'static CStr) -> F {
    let d = Delegate::get().expect("load the delegate");
    // SAFETY: `F` is bindgen's function pointer type of the rmw function `name`.
    unsafe { d.sym::<F>(name) }.unwrap()
}

fn ok(r: rmw_ret_t) {
    assert_eq!(r, RET_OK, "{}", error_text());
}

/// Polls `f` every 5 ms until it is true; panics after 10 s.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

const TOPIC: &CStr = c"/drift_chatter";
const SERVICE: &CStr = c"/drift_service";

static NEW_MESSAGES: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_new_message(_user_data: *const c_void, n: usize) {
    NEW_MESSAGES.fetch_add(n, Ordering::SeqCst);
}

/// The child's whole run.
pub fn run() {
    let ty = StringType::load();
    let srv = Srv::load();
    let domain: usize = std::env::var("ROS_DOMAIN_ID").unwrap().parse().unwrap();
    // SAFETY: the rcl sequence on the delegate, with structs it initializes and valid arguments.
    unsafe {
        let mut opts = rmw_get_zero_initialized_init_options();
        ok(dcall!(rmw_init_options_init(
            &mut opts,
            rcutils_get_default_allocator()
        )));
        opts.domain_id = domain;
        opts.discovery_options.automatic_discovery_range =
            rmw_automatic_discovery_range_e_RMW_AUTOMATIC_DISCOVERY_RANGE_LOCALHOST;
        let enclave = (opts.allocator.allocate.unwrap())(2, opts.allocator.state).cast::<u8>();
        enclave.copy_from_nonoverlapping(c"/".as_ptr().cast(), 2);
        opts.enclave = enclave.cast();
        let mut ctx = rmw_get_zero_initialized_context();
        ok(dcall!(rmw_init(&opts, &mut ctx)));
        let node = dcall!(rmw_create_node(
            &mut ctx,
            c"drift_node".as_ptr(),
            c"/".as_ptr()
        ));
        assert!(!node.is_null(), "{}", error_text());
        assert!(!dcall!(rmw_node_get_graph_guard_condition(node)).is_null());
        pub_sub(&mut ctx, node, &ty);
        services(node, &srv);
        ok(dcall!(rmw_destroy_node(node)));
        ok(dcall!(rmw_shutdown(&mut ctx)));
        ok(dcall!(rmw_context_fini(&mut ctx)));
        ok(dcall!(rmw_init_options_fini(&mut opts)));
    }
}

/// Waits on `ws` until `sub` has data.
///
/// # Safety
/// Live delegate handles.
unsafe fn wait_for_data(ws: *mut rmw_wait_set_t, sub: *mut rmw_subscription_t) {
    eventually("data on the subscription", || {
        let mut entries = [(*sub).data];
        let mut subs = rmw_subscriptions_t {
            subscriber_count: 1,
            subscribers: entries.as_mut_ptr(),
        };
        let timeout = rmw_time_t {
            sec: 0,
            nsec: 100_000_000,
        };
        let nulls = (null_mut(), null_mut(), null_mut(), null_mut());
        let r = dcall!(rmw_wait(
            &mut subs, nulls.0, nulls.1, nulls.2, nulls.3, ws, &timeout
        ));
        assert!(
            r == RET_OK || r == RMW_RET_TIMEOUT as rmw_ret_t,
            "{}",
            error_text()
        );
        !entries[0].is_null()
    });
}

/// A BEST_AVAILABLE publisher and subscription (the delegate then asks the graph through
/// `rmw_get_*_info_by_topic`), two messages of our CDR, and the graph queries.
///
/// # Safety
/// A live delegate context and node.
unsafe fn pub_sub(ctx: &mut rmw_context_t, node: *mut rmw_node_t, ty: &StringType) {
    let qos = rmw_qos_profile_t {
        history: rmw_qos_history_policy_e_RMW_QOS_POLICY_HISTORY_KEEP_LAST,
        depth: 10,
        reliability: rmw_qos_reliability_policy_e_RMW_QOS_POLICY_RELIABILITY_BEST_AVAILABLE,
        durability: rmw_qos_durability_policy_e_RMW_QOS_POLICY_DURABILITY_BEST_AVAILABLE,
        ..Default::default()
    };
    let popts = rmw_get_default_publisher_options();
    let publisher = dcall!(rmw_create_publisher(
        node,
        ty.ts,
        TOPIC.as_ptr(),
        &qos,
        &popts
    ));
    assert!(!publisher.is_null(), "{}", error_text());
    let sopts = rmw_get_default_subscription_options();
    let sub = dcall!(rmw_create_subscription(
        node,
        ty.ts,
        TOPIC.as_ptr(),
        &qos,
        &sopts
    ));
    assert!(!sub.is_null(), "{}", error_text());
    let cb: rmw_event_callback_t = Some(on_new_message);
    ok(dcall!(rmw_subscription_set_on_new_message_callback(
        sub,
        cb,
        null()
    )));
    let mut event = rmw_get_zero_initialized_event();
    let matched = rmw_event_type_e_RMW_EVENT_PUBLICATION_MATCHED;
    ok(dcall!(rmw_publisher_event_init(
        &mut event, publisher, matched
    )));
    let ws = dcall!(rmw_create_wait_set(ctx, 1));
    assert!(!ws.is_null(), "{}", error_text());

    // Our codec's bytes out, the delegate's bytes back: the same CDR.
    let mut alloc = rcutils_get_default_allocator();
    let msg = ty.new_msg("hello drift");
    let mut bytes = rcutils_get_zero_initialized_uint8_array();
    assert_eq!(rcutils_uint8_array_init(&mut bytes, 0, &alloc), 0);
    ok(rmw_serialize(msg.cast(), ty.ts, &mut bytes));
    ok(dcall!(rmw_publish_serialized_message(
        publisher,
        &bytes,
        null_mut()
    )));
    wait_for_data(ws, sub);
    let mut got = rcutils_get_zero_initialized_uint8_array();
    assert_eq!(rcutils_uint8_array_init(&mut got, 0, &alloc), 0);
    let (mut taken, mut info) = (false, rmw_get_zero_initialized_message_info());
    ok(dcall!(rmw_take_serialized_message_with_info(
        sub,
        &mut got,
        &mut taken,
        &mut info,
        null_mut()
    )));
    assert!(taken);
    let received = std::slice::from_raw_parts(got.buffer, got.buffer_length);
    assert_eq!(
        received,
        std::slice::from_raw_parts(bytes.buffer, bytes.buffer_length)
    );
    let out = (ty.create)();
    ok(rmw_deserialize(&got, ty.ts, out.cast()));
    assert_eq!(text(out), "hello drift");
    let (mut gid, mut same) = (rmw_gid_t::default(), false);
    ok(dcall!(rmw_get_gid_for_publisher(publisher, &mut gid)));
    ok(dcall!(rmw_compare_gids_equal(
        &gid,
        &info.publisher_gid,
        &mut same
    )));
    assert!(same, "message_info.publisher_gid is the publisher's GID");

    ok(dcall!(rmw_publish_serialized_message(
        publisher,
        &bytes,
        null_mut()
    )));
    wait_for_data(ws, sub);
    ok(dcall!(rmw_take_serialized_message(
        sub,
        &mut got,
        &mut taken,
        null_mut()
    )));
    assert!(taken);
    eventually("the new-message callback", || {
        NEW_MESSAGES.load(Ordering::SeqCst) >= 2
    });
    ok(dcall!(rmw_subscription_set_on_new_message_callback(
        sub,
        None,
        null()
    )));

    let mut status = rmw_matched_status_t::default();
    let status_ptr: *mut c_void = (&raw mut status).cast();
    ok(dcall!(rmw_take_event(&event, status_ptr, &mut taken)));
    assert!(
        taken && status.current_count == 1,
        "matched {}",
        status.current_count
    );
    let mut actual = rmw_qos_profile_t::default();
    ok(dcall!(rmw_subscription_get_actual_qos(sub, &mut actual)));
    println!(
        "BEST_AVAILABLE resolved to reliability {} durability {}",
        actual.reliability, actual.durability
    );
    graph(node, &mut alloc);

    ok(rmw_event_fini(&mut event));
    ok(dcall!(rmw_destroy_wait_set(ws)));
    ok(dcall!(rmw_destroy_subscription(node, sub)));
    ok(dcall!(rmw_destroy_publisher(node, publisher)));
    (ty.destroy)(msg);
    (ty.destroy)(out);
    assert_eq!(rcutils_uint8_array_fini(&mut bytes), 0);
    assert_eq!(rcutils_uint8_array_fini(&mut got), 0);
}

/// Graph queries while the publisher and subscription exist.
///
/// # Safety
/// A live delegate node.
unsafe fn graph(node: *mut rmw_node_t, alloc: &mut rcutils_allocator_t) {
    let mut names = rcutils_get_zero_initialized_string_array();
    let mut namespaces = rcutils_get_zero_initialized_string_array();
    ok(dcall!(rmw_get_node_names(
        node,
        &mut names,
        &mut namespaces
    )));
    let listed: Vec<&CStr> = (0..names.size)
        .map(|i| CStr::from_ptr(*names.data.add(i)))
        .collect();
    assert!(listed.contains(&c"drift_node"), "{listed:?}");
    assert_eq!(rcutils_string_array_fini(&mut names), 0);
    assert_eq!(rcutils_string_array_fini(&mut namespaces), 0);
    let mut topics = rmw_get_zero_initialized_names_and_types();
    ok(dcall!(rmw_get_topic_names_and_types(
        node,
        alloc,
        false,
        &mut topics
    )));
    ok(rmw_names_and_types_fini(&mut topics));
    let mut count = 0usize;
    ok(dcall!(rmw_count_publishers(
        node,
        TOPIC.as_ptr(),
        &mut count
    )));
    assert_eq!(count, 1);
    let mut info = rmw_get_zero_initialized_topic_endpoint_info_array();
    ok(dcall!(rmw_get_subscriptions_info_by_topic(
        node,
        alloc,
        TOPIC.as_ptr(),
        false,
        &mut info
    )));
    assert_eq!(info.size, 1);
    ok(rmw_topic_endpoint_info_array_fini(&mut info, alloc));
}

/// One request and its response between a service and a client of the delegate.
///
/// # Safety
/// A live delegate node.
unsafe fn services(node: *mut rmw_node_t, srv: &Srv) {
    let qos = rmw_qos_profile_t {
        history: rmw_qos_history_policy_e_RMW_QOS_POLICY_HISTORY_KEEP_LAST,
        depth: 10,
        reliability: rmw_qos_reliability_policy_e_RMW_QOS_POLICY_RELIABILITY_RELIABLE,
        durability: rmw_qos_durability_policy_e_RMW_QOS_POLICY_DURABILITY_VOLATILE,
        ..Default::default()
    };
    let service = dcall!(rmw_create_service(node, srv.ts, SERVICE.as_ptr(), &qos));
    assert!(!service.is_null(), "{}", error_text());
    let client = dcall!(rmw_create_client(node, srv.ts, SERVICE.as_ptr(), &qos));
    assert!(!client.is_null(), "{}", error_text());
    eventually("the server", || {
        let mut available = false;
        ok(dcall!(rmw_service_server_is_available(
            node,
            client,
            &mut available
        )));
        available
    });
    let [request, response] = [(srv.create[0])(), (srv.create[1])()];
    let [request_in, response_in] = [(srv.create[0])(), (srv.create[1])()];
    (*request).int64_value = 42;
    let mut sequence = 0i64;
    ok(dcall!(rmw_send_request(
        client,
        request.cast(),
        &mut sequence
    )));
    let mut header = rmw_service_info_t::default();
    eventually("the request", || {
        let mut taken = false;
        ok(dcall!(rmw_take_request(
            service,
            &mut header,
            request_in.cast(),
            &mut taken
        )));
        taken
    });
    assert_eq!((*request_in).int64_value, 42);
    (*response).int64_value = 43;
    ok(dcall!(rmw_send_response(
        service,
        &mut header.request_id,
        response.cast()
    )));
    let mut answer = rmw_service_info_t::default();
    eventually("the response", || {
        let mut taken = false;
        ok(dcall!(rmw_take_response(
            client,
            &mut answer,
            response_in.cast(),
            &mut taken
        )));
        taken
    });
    assert_eq!(
        (
            answer.request_id.sequence_number,
            (*response_in).int64_value
        ),
        (sequence, 43)
    );
    for (i, m) in [request, response, request_in, response_in]
        .into_iter()
        .enumerate()
    {
        (srv.destroy[i % 2])(m);
    }
    ok(dcall!(rmw_destroy_client(node, client)));
    ok(dcall!(rmw_destroy_service(node, service)));
}
