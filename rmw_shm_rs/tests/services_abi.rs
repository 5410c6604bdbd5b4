//! Services and clients through the C ABI as rcl uses them: availability, send/take of requests
//! and responses with their request ids, wait-set readiness, and the documented errors.

use std::ptr::null_mut;

use rmw_shm_rs::error::*;
use rmw_shm_rs::ffi::{client::*, node::*, service::*, wait::*};
use rmw_shm_rs::sys::{
    rmw_clients_t, rmw_gid_t, rmw_node_t, rmw_qos_profile_t, rmw_request_id_t, rmw_service_info_t,
    rmw_services_t, rmw_time_t, rmw_wait_set_t,
};

mod common;
use common::basic_types::Srv;
use common::error_text;

/// Asserts `ret` is RMW_RET_INVALID_ARGUMENT and clears the error message it set.
fn invalid(ret: rmw_shm_rs::sys::rmw_ret_t) {
    assert_eq!(ret, RET_INVALID_ARGUMENT);
    assert!(error_text().contains("is null"));
}

/// A context (common helpers) with one node.
struct Ctx {
    base: common::Ctx,
    node: *mut rmw_node_t,
}

fn init(domain: usize) -> Ctx {
    let mut base = common::init(domain);
    // SAFETY: a context initialized by `common::init`.
    let node = unsafe { rmw_create_node(&mut *base.context, c"srv_abi".as_ptr(), c"/".as_ptr()) };
    assert!(!node.is_null(), "{}", error_text());
    Ctx { base, node }
}

fn fini(c: Ctx) {
    // SAFETY: the node created by `init`.
    unsafe { assert_eq!(rmw_destroy_node(c.node), RET_OK) };
    common::fini(c.base);
}

/// One `rmw_wait` on one service and one client; returns which are ready.
///
/// # Safety
/// `srv` and `cli` are live `data` pointers of a service and a client; `ws` a wait set.
unsafe fn wait(
    srv: *mut std::ffi::c_void,
    cli: *mut std::ffi::c_void,
    ws: *mut rmw_wait_set_t,
    secs: u64,
) -> (rmw_shm_rs::sys::rmw_ret_t, bool, bool) {
    let mut s = [srv];
    let mut c = [cli];
    let mut services = rmw_services_t {
        service_count: 1,
        services: s.as_mut_ptr(),
    };
    let mut clients = rmw_clients_t {
        client_count: 1,
        clients: c.as_mut_ptr(),
    };
    let t = rmw_time_t { sec: secs, nsec: 0 };
    // SAFETY: arrays of live entries, per the caller.
    let ret = unsafe {
        rmw_wait(
            null_mut(),
            null_mut(),
            &mut services,
            &mut clients,
            null_mut(),
            ws,
            &t,
        )
    };
    (ret, !s[0].is_null(), !c[0].is_null())
}

#[test]
fn request_and_response_roundtrip_with_request_ids() {
    let srv = Srv::load();
    let mut c = init(78);
    let qos = rmw_qos_profile_t {
        history: 1,
        depth: 10,
        reliability: 1,
        durability: 2,
        ..Default::default()
    };
    // SAFETY: the C ABI used as rcl uses it, with valid arguments.
    unsafe {
        let client = rmw_create_client(c.node, srv.ts, c"/abi_srv".as_ptr(), &qos);
        assert!(!client.is_null(), "{}", error_text());
        let mut available = true;
        assert_eq!(
            rmw_service_server_is_available(c.node, client, &mut available),
            RET_OK
        );
        assert!(!available);
        let service = rmw_create_service(c.node, srv.ts, c"/abi_srv".as_ptr(), &qos);
        assert!(!service.is_null(), "{}", error_text());
        assert_eq!(
            rmw_service_server_is_available(c.node, client, &mut available),
            RET_OK
        );
        assert!(available);
        let ws = rmw_create_wait_set(&mut *c.base.context, 2);
        let (sd, cd) = ((*service).data, (*client).data);
        assert_eq!(wait(sd, cd, ws, 0), (RET_TIMEOUT, false, false));

        let mut gid = rmw_gid_t::default();
        assert_eq!(rmw_get_gid_for_client(client, &mut gid), RET_OK);
        let req = (srv.create[0])();
        let mut seqs = vec![];
        for i in 1..=3 {
            (*req).int64_value = -7 * i;
            (*req).uint16_value = 1000 + i as u16;
            let mut seq = 0i64;
            assert_eq!(
                rmw_send_request(client, req.cast(), &mut seq),
                RET_OK,
                "{}",
                error_text()
            );
            seqs.push(seq);
        }
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(wait(sd, cd, ws, 5), (RET_OK, true, false));

        // Take all three, answer them in reverse order.
        let got = (srv.create[0])();
        let mut ids = vec![];
        for i in 1..=3 {
            let mut info = rmw_service_info_t::default();
            let mut taken = false;
            assert_eq!(
                rmw_take_request(service, &mut info, got.cast(), &mut taken),
                RET_OK
            );
            assert!(taken);
            assert_eq!(info.request_id.writer_guid, gid.data);
            assert_eq!(info.request_id.sequence_number, i);
            assert_eq!((*got).int64_value, -7 * i);
            assert!(info.source_timestamp > 0 && info.received_timestamp >= info.source_timestamp);
            ids.push(info.request_id);
        }
        let mut taken = true;
        let mut info = rmw_service_info_t::default();
        assert_eq!(
            rmw_take_request(service, &mut info, got.cast(), &mut taken),
            RET_OK
        );
        assert!(!taken);
        let resp = (srv.create[1])();
        for id in ids.iter_mut().rev() {
            (*resp).int64_value = id.sequence_number * 100;
            assert_eq!(
                rmw_send_response(service, id, resp.cast()),
                RET_OK,
                "{}",
                error_text()
            );
        }
        // Answered already: a second response to the same request is an error.
        assert_eq!(
            rmw_send_response(service, &mut ids[0], resp.cast()),
            RET_INVALID_ARGUMENT
        );
        assert!(error_text().contains("already answered"));
        assert_eq!(wait(sd, cd, ws, 5), (RET_OK, false, true));

        let out = (srv.create[1])();
        let mut answered = vec![];
        loop {
            let mut info = rmw_service_info_t::default();
            let mut taken = false;
            assert_eq!(
                rmw_take_response(client, &mut info, out.cast(), &mut taken),
                RET_OK
            );
            if !taken {
                break;
            }
            assert_eq!(info.request_id.writer_guid, gid.data);
            assert_eq!((*out).int64_value, info.request_id.sequence_number * 100);
            answered.push(info.request_id.sequence_number);
        }
        answered.sort();
        assert_eq!(answered, [1, 2, 3]);
        assert_eq!(wait(sd, cd, ws, 0), (RET_TIMEOUT, false, false));

        let mut q = rmw_qos_profile_t::default();
        assert_eq!(
            rmw_service_request_subscription_get_actual_qos(service, &mut q),
            RET_OK
        );
        assert_eq!(q.depth, 10);
        assert_eq!(
            rmw_client_response_subscription_get_actual_qos(client, &mut q),
            RET_OK
        );
        assert_eq!(q.depth, 10);

        for m in [req, got] {
            (srv.destroy[0])(m);
        }
        for m in [resp, out] {
            (srv.destroy[1])(m);
        }
        assert_eq!(rmw_destroy_wait_set(ws), RET_OK);
        assert_eq!(rmw_destroy_service(c.node, service), RET_OK);
        assert_eq!(
            rmw_service_server_is_available(c.node, client, &mut available),
            RET_OK
        );
        assert!(!available);
        assert_eq!(rmw_destroy_client(c.node, client), RET_OK);
    }
    fini(c);
}

#[test]
fn null_arguments_are_invalid() {
    let srv = Srv::load();
    let c = init(79);
    let qos = rmw_qos_profile_t {
        history: 1,
        depth: 10,
        reliability: 1,
        durability: 2,
        ..Default::default()
    };
    // SAFETY: the C ABI with deliberately null arguments, which it must reject.
    unsafe {
        let client = rmw_create_client(c.node, srv.ts, c"/abi_null".as_ptr(), &qos);
        let service = rmw_create_service(c.node, srv.ts, c"/abi_null".as_ptr(), &qos);
        let req = (srv.create[0])();
        let mut seq = 0;
        let mut taken = false;
        let mut info = rmw_service_info_t::default();
        let mut id = rmw_request_id_t::default();
        invalid(rmw_send_request(client, req.cast(), null_mut()));
        invalid(rmw_send_request(null_mut(), req.cast(), &mut seq));
        invalid(rmw_take_request(service, &mut info, req.cast(), null_mut()));
        invalid(rmw_take_response(
            client,
            null_mut(),
            req.cast(),
            &mut taken,
        ));
        invalid(rmw_send_response(service, &mut id, null_mut()));
        invalid(rmw_service_server_is_available(c.node, client, null_mut()));
        (srv.destroy[0])(req);
        assert_eq!(rmw_destroy_service(c.node, service), RET_OK);
        assert_eq!(rmw_destroy_client(c.node, client), RET_OK);
    }
    fini(c);
}
