//! Request/response between two iceoryx2 nodes of this process (two rmw contexts).

use std::mem::MaybeUninit;

use super::*;
use crate::error::Result;

fn ctx() -> ShmContext {
    ShmContext::new(231).expect("shm context")
}

fn name(test: &str) -> String {
    format!("rmw_shm_rs_test/{}/{test}", std::process::id())
}

fn fill(bytes: &[u8]) -> impl FnOnce(&mut [MaybeUninit<u8>]) -> Result<usize> + '_ {
    move |buf| {
        for (d, s) in buf.iter_mut().zip(bytes) {
            d.write(*s);
        }
        Ok(bytes.len())
    }
}

fn header(gid: u8, sequence: i64) -> RequestHeader {
    RequestHeader {
        client_gid: [gid; 16],
        sequence,
        source_timestamp: 1,
    }
}

fn wake() -> std::sync::Arc<crate::transport::shm::Wake> {
    std::sync::Arc::new(crate::transport::shm::Wake::new().unwrap())
}

fn as_target(
    w: &std::sync::Arc<crate::transport::shm::Wake>,
) -> std::sync::Weak<dyn crate::transport::shm::Ring> {
    let w: std::sync::Arc<dyn crate::transport::shm::Ring> = w.clone();
    std::sync::Arc::downgrade(&w)
}

/// A wake-up target that is gone: rings for it are dropped.
fn nowhere() -> std::sync::Weak<dyn crate::transport::shm::Ring> {
    std::sync::Weak::<crate::transport::shm::Wake>::new()
}

fn answer(server: &ShmServer) -> Option<RequestHeader> {
    let (bytes, h) = server.take(|b, _| Ok(b.to_vec())).unwrap()?;
    let mut reply = bytes.clone();
    reply.reverse();
    let rh = ResponseHeader {
        sequence: h.sequence,
        source_timestamp: 2,
    };
    server
        .respond(h.client_gid, h.sequence, reply.len(), rh, fill(&reply))
        .unwrap();
    Some(h)
}

#[test]
fn first_request_after_available_is_answered() {
    let (a, b) = (ctx(), ctx());
    let n = name("first");
    let (client_wake, server_wake) = (wake(), wake());
    let client = ShmClient::new(&a, &n, as_target(&client_wake)).unwrap();
    assert!(!client.server_available());
    let server = ShmServer::new(&b, &n, as_target(&server_wake)).unwrap();
    assert!(client.server_available());
    // Sent before the server ever looked at its ports.
    assert_eq!(client.send(3, header(1, 1), fill(b"abc")).unwrap(), 1);
    assert!(server.has_requests());
    // The request rang the server's context, the response the client's.
    assert_eq!(b.doorbell().drain(), 1);
    assert_eq!(server_wake.drain(), 1);
    assert_eq!(answer(&server).unwrap().sequence, 1);
    assert_eq!(server.unanswered(), 0);
    assert!(client.has_response());
    assert_eq!(a.doorbell().drain(), 1);
    assert_eq!(client_wake.drain(), 1);
    let got = client
        .take(|bytes, h| Ok((bytes.to_vec(), h.sequence)))
        .unwrap();
    assert_eq!(got, Some((b"cba".to_vec(), 1)));
    assert_eq!(client.pending(), 0);
    drop(server);
    assert!(!client.server_available());
}

#[test]
fn responses_go_only_to_the_client_that_asked() {
    let (a, b, c) = (ctx(), ctx(), ctx());
    let n = name("two_clients");
    let server = ShmServer::new(&a, &n, nowhere()).unwrap();
    let c1 = ShmClient::new(&b, &n, nowhere()).unwrap();
    let c2 = ShmClient::new(&c, &n, nowhere()).unwrap();
    for seq in 1..=3 {
        c1.send(2, header(1, seq), fill(&[1, seq as u8])).unwrap();
        c2.send(2, header(2, seq), fill(&[2, seq as u8])).unwrap();
    }
    while answer(&server).is_some() {}
    for (client, who) in [(&c1, 1u8), (&c2, 2u8)] {
        let mut got = vec![];
        while let Some(r) = client.take(|b, h| Ok((b.to_vec(), h.sequence))).unwrap() {
            got.push(r);
        }
        let want: Vec<_> = (1..=3).map(|s| (vec![s as u8, who], s as i64)).collect();
        assert_eq!(got, want);
    }
}

#[test]
fn pending_requests_are_capped_and_reported() {
    let (a, b) = (ctx(), ctx());
    let n = name("cap");
    let _server = ShmServer::new(&a, &n, nowhere()).unwrap();
    let client = ShmClient::new(&b, &n, nowhere()).unwrap();
    let max = ServiceLimits::get().max_pending;
    for seq in 1..=max as i64 {
        client.send(1, header(1, seq), fill(b"x")).unwrap();
    }
    let err = client.send(1, header(1, 99), fill(b"x")).unwrap_err();
    assert!(
        err.to_string().contains("RMW_SHM_RS_MAX_PENDING_REQUESTS"),
        "{err}"
    );
}

#[test]
fn a_dropped_request_frees_the_clients_slot() {
    let (a, b) = (ctx(), ctx());
    let n = name("dropped");
    let server = ShmServer::new(&a, &n, nowhere()).unwrap();
    let client = ShmClient::new(&b, &n, nowhere()).unwrap();
    client.send(1, header(1, 1), fill(b"x")).unwrap();
    // The server fails to decode it: the request is dropped, the client stops waiting.
    assert!(server
        .take(|_, _| -> Result<()> { Err(crate::error::Error::invalid("bad")) })
        .is_err());
    assert_eq!(client.take(|_, _| Ok(())).unwrap(), None);
    assert_eq!(client.pending(), 0);
}

#[test]
fn no_server_means_the_request_is_dropped() {
    let a = ctx();
    let client = ShmClient::new(&a, &name("nobody"), nowhere()).unwrap();
    assert_eq!(client.send(1, header(1, 1), fill(b"x")).unwrap(), 0);
    assert_eq!(client.pending(), 0);
}
