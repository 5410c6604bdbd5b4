//! ROS services over iceoryx2's request-response messaging pattern.
//!
//! One iceoryx2 request-response service per (domain, service name, service type): `[u8]` CDR
//! payloads both ways, a [`RequestHeader`] (client GID, ROS sequence number, timestamp) on each
//! request and a [`ResponseHeader`] on each response. A client's request goes to every server
//! connected to the service; iceoryx2 routes each response back over a channel of the one
//! client (and request) it answers, so a client never sees another client's responses.
//!
//! Wake-ups go through the contexts' doorbells (see `doorbell.rs`): a client rings every server
//! listed in the service's dynamic configuration after each request, a server rings the client
//! it answered.
//!
//! No lost reply: a server's wake-up target is registered before its server port exists, and
//! iceoryx2 registers a server port in the service's dynamic configuration only once its
//! resources exist. A client
//! reports a server available when that configuration lists one, and every request first
//! connects the client to every listed server (`update_connections` inside `send`) before it
//! is delivered into the server's queue (where it waits until the server looks), then rings
//! every listed server. So the first request after "available" is queued for that server and wakes
//! it.
//!
//! Resources: iceoryx2 keeps an `ActiveRequest` per taken request until it is answered, and a
//! `PendingResponse` per sent request until its response is taken; both are bounded by
//! [`ServiceLimits::max_pending`](super::ServiceLimits) per client (see [`ShmClient::send`]).

mod client;
mod server;

pub use super::config::ServiceLimits;
pub use client::ShmClient;
pub use server::ShmServer;

use iceoryx2::prelude::*;

use super::{ShmContext, Svc};

/// Metadata in front of every request.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, ZeroCopySend)]
#[type_name("rmw_shm_rs::RequestHeader.v1")]
pub struct RequestHeader {
    /// GID of the client that sent the request (`rmw_get_gid_for_client`).
    pub client_gid: [u8; 16],
    /// The client's sequence number of the request, starting at 1.
    pub sequence: i64,
    /// Nanoseconds since the Unix epoch when the request was sent.
    pub source_timestamp: i64,
}

/// Metadata in front of every response.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, ZeroCopySend)]
#[type_name("rmw_shm_rs::ResponseHeader.v1")]
pub struct ResponseHeader {
    /// The sequence number of the request it answers.
    pub sequence: i64,
    /// Nanoseconds since the Unix epoch when the response was sent.
    pub source_timestamp: i64,
}

/// The iceoryx2 service of one ROS service name and type.
pub(crate) type RequestResponseFactory =
    iceoryx2::service::port_factory::request_response::PortFactory<
        Svc,
        [u8],
        RequestHeader,
        [u8],
        ResponseHeader,
    >;

/// Initial slice length of requests and responses; larger ones grow the data segment by powers
/// of two.
const INITIAL_SLICE_LEN: usize = 256;

/// The iceoryx2 service name of a ROS service:
/// `rmw_shm_rs/d<domain>/s<service>/<type>/<request hash prefix><response hash prefix>`, or a
/// fixed-length digest of it when longer than 240 bytes. The `s` keeps services apart from
/// topics (`t`) of the same name.
pub fn service_name_of(
    ctx: &ShmContext,
    service: &str,
    type_name: &str,
    request_hash: Option<&str>,
    response_hash: Option<&str>,
) -> String {
    let short = |h: Option<&str>| {
        let h = h.map_or("nohash", |h| h.trim_start_matches("RIHS01_"));
        h[..h.len().min(16)].to_owned()
    };
    let name = format!(
        "rmw_shm_rs/d{}/s{}/{}/{}{}",
        ctx.domain_id(),
        service,
        type_name,
        short(request_hash),
        short(response_hash)
    );
    if name.len() <= 240 {
        name
    } else {
        format!("rmw_shm_rs/d{}/h{}", ctx.domain_id(), super::digest(&name))
    }
}

#[cfg(test)]
mod tests;
