//! What another process on the host can put into shared memory for us: samples with their
//! `SampleHeader` (publisher GID, sequence number, timestamp, lifespan, format RAW or CDR),
//! requests with their `RequestHeader` (client GID, sequence number) and responses with their
//! `ResponseHeader`, each with a payload. They go through real iceoryx2 ports into real
//! entities of this crate (a `Subscription` per topic type, a `Service` and a `Client` per
//! service type), which take them as `rmw_take`, `rmw_take_serialized_message`,
//! `rmw_take_loaned_message`, `rmw_take_request` and `rmw_take_response` do.
//!
//! Input (structure-aware, `arbitrary`): a list of operations; payloads are raw bytes, a
//! test_msgs fixture of the right type (fuzz/seeds/cdr_decode) with bytes overwritten or cut,
//! or a raw C struct of a fixed-size type with bytes overwritten.
//!
//! Findings: a crash or sanitizer report (overflow checks are on); a take allocating more than
//! 8 x (payload bytes sent) + 16 KiB at once or 64 x + 16 KiB in all (alloc.rs).
//!
//! Entities live for the whole run (as in a long-running node): the state they keep per peer
//! (sequence numbers per publisher GID, unanswered requests) carries over from input to input.

#![no_main]

use std::ffi::c_void;
use std::sync::Arc;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use rmw_shm_rs::delegate::{DiscoveryOptions, ServiceTypeSupportHandle, TypeSupportHandle};
use rmw_shm_rs::entity::{now_ns, qos, Client, Context, Node, Service, Subscription};
use rmw_shm_rs::transport::shm::{
    service_name_of, write_bytes, RequestHeader, ResponseHeader, SampleHeader, ShmClient,
    ShmPublisher, ShmServer, Wake,
};
use rmw_shm_rs::typesupport::{MessageMut, MessageType, OwnedMessage, ServiceType};
use rmw_shm_rs_fuzz::{alloc, types};

const FACTOR: usize = 8;
const PEAK_FACTOR: usize = 64;
/// Allocations of a take that do not depend on the payload (a loaned take's message, error
/// texts), bytes.
const SLACK: usize = 16 << 10;
/// Operations per input (the subscriptions queue 32 samples).
const MAX_OPS: usize = 32;

const TOPIC_TYPES: &[&str] = &[
    "test_msgs/msg/BasicTypes",
    "test_msgs/msg/Nested",
    "test_msgs/msg/Builtins",
    "test_msgs/msg/Empty",
    "test_msgs/msg/Strings",
    "test_msgs/msg/WStrings",
    "test_msgs/msg/Arrays",
    "test_msgs/msg/UnboundedSequences",
    "test_msgs/msg/BoundedSequences",
    "test_msgs/msg/MultiNested",
    "sensor_msgs/msg/Image",
];

const SERVICE_TYPES: &[&str] = &[
    "test_msgs/srv/BasicTypes",
    "test_msgs/srv/Arrays",
    "test_msgs/srv/Empty",
];

/// A ROS domain no DDS node can join (DDS ends at 232), so that the fuzzing node stays out of
/// the graphs of the ROS processes on the host.
const FUZZ_DOMAIN: usize = 900;

/// Peers' GIDs: a few, so that their sequence numbers interact.
const GIDS: [[u8; 16]; 4] = [[1; 16], [2; 16], [3; 16], [4; 16]];

struct Topic {
    ty: Arc<MessageType>,
    sub: Arc<Subscription>,
    /// The peer: a publisher port of the topic's service, writing any header it likes.
    peer: ShmPublisher,
    fixtures: Vec<Vec<u8>>,
    /// The default message's raw C struct (fixed-size types only).
    raw: Option<Vec<u8>>,
    /// rcl's message, reused from take to take.
    msg: std::sync::Mutex<OwnedMessage>,
}

struct Srv {
    ty: Arc<ServiceType>,
    /// Ours, taking requests from `peer_client`.
    server: Service,
    peer_client: ShmClient,
    /// Ours, taking responses from `peer_server`.
    client: Client,
    peer_server: ShmServer,
    requests: Vec<Vec<u8>>,
    responses: Vec<Vec<u8>>,
}

struct Harness {
    /// Keeps the context (and its shared-memory node) alive.
    _ctx: Arc<Context>,
    topics: Vec<Topic>,
    services: Vec<Srv>,
}

fn harness() -> &'static Harness {
    static H: std::sync::OnceLock<&'static Harness> = std::sync::OnceLock::new();
    H.get_or_init(|| Box::leak(Box::new(setup())))
}

fn setup() -> Harness {
    // Same host only: no DDS delegate.
    std::env::set_var("RMW_SHM_RS_REMOTE", "0");
    let pid = std::process::id();
    let ctx = Arc::new(
        Context::new(
            FUZZ_DOMAIN,
            "/".into(),
            DiscoveryOptions {
                range: 0,
                static_peers: Vec::new(),
            },
        )
        .expect("context"),
    );
    let node = Arc::new(Node::new(ctx.clone(), "fuzz", "/").expect("node"));
    let mut q = qos::services_default();
    q.depth = 32;
    let topics = TOPIC_TYPES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let ty = types::load(name, "c");
            let topic = format!("/fuzz_{pid}/t{i}");
            let sub = Subscription::new(
                node.clone(),
                &topic,
                ty.clone(),
                TypeSupportHandle(types::message_handle(name)),
                &q,
            )
            .expect("subscription");
            let service = ctx
                .shm()
                .topic_service_name(&topic, ty.type_name(), ty.type_hash());
            let peer = ShmPublisher::new(ctx.shm(), &service, false).expect("peer publisher");
            let raw = ty.is_plain().then(|| {
                let m = OwnedMessage::new(ty.clone()).expect("init");
                // SAFETY: an initialized message of c_size bytes, read while `m` lives.
                unsafe { std::slice::from_raw_parts(m.as_ptr().cast::<u8>(), ty.c_size()) }.to_vec()
            });
            Topic {
                msg: std::sync::Mutex::new(OwnedMessage::new(ty.clone()).expect("init")),
                fixtures: types::fixtures(name),
                ty,
                sub,
                peer,
                raw,
            }
        })
        .collect();
    let services = SERVICE_TYPES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (h, ty) = types::load_service(name);
            let iox = |s: &str| {
                service_name_of(
                    ctx.shm(),
                    s,
                    &ty.name,
                    ty.request.type_hash(),
                    ty.response.type_hash(),
                )
            };
            let (req_name, resp_name) =
                (format!("/fuzz_{pid}/rq{i}"), format!("/fuzz_{pid}/rs{i}"));
            let sq = qos::services_default();
            let server = Service::new(
                node.clone(),
                &req_name,
                ty.clone(),
                ServiceTypeSupportHandle(h),
                &sq,
            )
            .expect("service");
            // The peers are driven directly, never waited on: no wake-up target.
            let nowhere = std::sync::Weak::<Wake>::new;
            let peer_client =
                ShmClient::new(ctx.shm(), &iox(&req_name), nowhere()).expect("peer client");
            let client = Client::new(
                node.clone(),
                &resp_name,
                ty.clone(),
                ServiceTypeSupportHandle(h),
                &sq,
            )
            .expect("client");
            let peer_server =
                ShmServer::new(ctx.shm(), &iox(&resp_name), nowhere()).expect("peer server");
            Srv {
                requests: types::fixtures(&format!("{}_Request", name)),
                responses: types::fixtures(&format!("{}_Response", name)),
                ty,
                server,
                peer_client,
                client,
                peer_server,
            }
        })
        .collect();
    let h = Harness {
        _ctx: ctx,
        topics,
        services,
    };
    // Connect every port to its peer now: iceoryx2 maps a new peer's segments (about 300 KB
    // of bookkeeping per connection, bounded by the service's port limits) on the first
    // receive after the peer appeared, which is not what a sample's payload makes us allocate.
    let no_ops = Touched {
        topics: u64::MAX,
        services: u64::MAX,
    };
    drain(&h, &no_ops);
    for s in &h.services {
        let resp = OwnedMessage::new(s.ty.response.clone()).expect("init");
        // SAFETY: an initialized message of the response type, ours.
        let mut target = unsafe { MessageMut::new(resp.as_ptr(), &s.ty.response) };
        let _ = s.client.take_response(&mut target);
        let _ = s.peer_client.server_available();
    }
    h
}

#[derive(Arbitrary, Debug)]
enum Payload {
    Bytes(Vec<u8>),
    /// A test_msgs fixture of the right type, damaged.
    Fixture {
        which: u8,
        edits: Vec<(u16, u8)>,
        cut: Option<u16>,
    },
    /// The default raw C struct of a fixed-size type, damaged.
    Raw {
        edits: Vec<(u16, u8)>,
    },
}

impl Payload {
    fn bytes(&self, fixtures: &[Vec<u8>], raw: Option<&Vec<u8>>) -> Vec<u8> {
        let (mut b, edits, cut) = match self {
            Payload::Bytes(b) => return b.clone(),
            Payload::Fixture { which, edits, cut } => match fixtures {
                [] => (Vec::new(), edits, *cut),
                f => (f[usize::from(*which) % f.len()].clone(), edits, *cut),
            },
            Payload::Raw { edits } => (raw.cloned().unwrap_or_default(), edits, None),
        };
        for &(at, v) in edits {
            if !b.is_empty() {
                let i = usize::from(at) % b.len();
                b[i] = v;
            }
        }
        if let Some(cut) = cut {
            b.truncate(usize::from(cut));
        }
        b
    }
}

#[derive(Arbitrary, Debug)]
enum Format {
    Cdr,
    Raw,
    Other(u32),
}

#[derive(Arbitrary, Debug)]
enum Timestamp {
    /// Nanoseconds before now.
    Age(i64),
    Absolute(i64),
}

#[derive(Arbitrary, Debug)]
enum TakeKind {
    Copy,
    Serialized,
    Loan,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Sample {
        topic: u8,
        publisher: u8,
        sequence: u64,
        timestamp: Timestamp,
        lifespan: u64,
        format: Format,
        reserved: u32,
        payload: Payload,
    },
    Take {
        topic: u8,
        how: TakeKind,
    },
    Request {
        service: u8,
        client: u8,
        sequence: i64,
        timestamp: i64,
        payload: Payload,
    },
    Response {
        service: u8,
        sequence: i64,
        timestamp: i64,
        payload: Payload,
    },
}

/// Runs `f` under the allocation check against `sent` payload bytes.
fn checked<R>(what: &str, sent: usize, f: impl FnOnce() -> R) -> R {
    let (r, stats) = alloc::measure(f);
    alloc::check(what, stats, sent, FACTOR, PEAK_FACTOR, SLACK);
    r
}

fn take(t: &Topic, how: &TakeKind, sent: usize) -> bool {
    match how {
        TakeKind::Copy => {
            let msg = t.msg.lock().unwrap_or_else(|e| e.into_inner());
            // SAFETY: an initialized message of the topic's type, ours while locked.
            let mut target = unsafe { MessageMut::new(msg.as_ptr(), &t.ty) };
            let r = checked("take", sent, || t.sub.take(&mut target));
            // Whatever it decoded must encode again.
            if let Ok(Some(_)) = r {
                msg.to_cdr().expect("a taken message does not encode");
            }
            !matches!(r, Ok(None))
        }
        TakeKind::Serialized => {
            let r = checked("take serialized", sent, || t.sub.take_with(|b| Ok(b.len())));
            !matches!(r, Ok(None))
        }
        TakeKind::Loan => {
            if !t.sub.can_loan() {
                return false;
            }
            let r = checked("take loaned", sent, || t.sub.take_loan());
            if let Ok(Some((ptr, _))) = r {
                // The application reads the loaned message.
                // SAFETY: a loaned message of the subscription's type, valid until returned.
                let m = unsafe {
                    rmw_shm_rs::typesupport::MessageRef::new(
                        ptr.cast_const().cast::<c_void>(),
                        &t.ty,
                    )
                };
                m.to_cdr().expect("a loaned message does not encode");
                t.sub.return_loan(ptr).expect("return loan");
            }
            !matches!(r, Ok(None))
        }
    }
}

/// Topics and services an input used (bit i: topic or service i).
#[derive(Default)]
struct Touched {
    topics: u64,
    services: u64,
}

fn run(h: &Harness, op: &Op, sent: &mut usize, touched: &mut Touched) {
    match op {
        Op::Sample {
            topic,
            publisher,
            sequence,
            timestamp,
            lifespan,
            format,
            reserved,
            payload,
        } => {
            let i = usize::from(*topic) % h.topics.len();
            touched.topics |= 1 << i;
            let t = &h.topics[i];
            let bytes = payload.bytes(&t.fixtures, t.raw.as_ref());
            *sent += bytes.len();
            let header = SampleHeader {
                publisher_gid: GIDS[usize::from(*publisher) % GIDS.len()],
                sequence: *sequence,
                source_timestamp: match timestamp {
                    Timestamp::Age(age) => now_ns().wrapping_sub(*age),
                    Timestamp::Absolute(t) => *t,
                },
                lifespan: *lifespan,
                format: match format {
                    Format::Cdr => SampleHeader::CDR,
                    Format::Raw => SampleHeader::RAW,
                    Format::Other(v) => *v,
                },
                reserved: *reserved,
            };
            let len = bytes.len();
            let _ = t.peer.publish(
                header,
                0,
                || Ok(len),
                |buf| {
                    write_bytes(buf, &bytes);
                    Ok(len)
                },
                |_| Ok(()),
            );
        }
        Op::Take { topic, how } => {
            let t = &h.topics[usize::from(*topic) % h.topics.len()];
            take(t, how, *sent);
        }
        Op::Request {
            service,
            client,
            sequence,
            timestamp,
            payload,
        } => {
            let i = usize::from(*service) % h.services.len();
            touched.services |= 1 << i;
            let s = &h.services[i];
            let bytes = payload.bytes(&s.requests, None);
            *sent += bytes.len();
            let header = RequestHeader {
                client_gid: GIDS[usize::from(*client) % GIDS.len()],
                sequence: *sequence,
                source_timestamp: *timestamp,
            };
            let len = bytes.len();
            let _ = s.peer_client.send(len, header, |buf| {
                write_bytes(buf, &bytes);
                Ok(len)
            });
            let req = OwnedMessage::new(s.ty.request.clone()).expect("init");
            // SAFETY: an initialized message of the request type, ours.
            let mut target = unsafe { MessageMut::new(req.as_ptr(), &s.ty.request) };
            let taken = checked("take request", *sent, || s.server.take_request(&mut target));
            if let Ok(Some(info)) = taken {
                req.to_cdr().expect("a taken request does not encode");
                let resp = OwnedMessage::new(s.ty.response.clone()).expect("init");
                let _ = s
                    .server
                    .send_response(&info.request_id, &resp.as_message_ref());
            }
        }
        Op::Response {
            service,
            sequence,
            timestamp,
            payload,
        } => {
            let i = usize::from(*service) % h.services.len();
            touched.services |= 1 << i;
            let s = &h.services[i];
            let bytes = payload.bytes(&s.responses, None);
            *sent += bytes.len();
            let req = OwnedMessage::new(s.ty.request.clone()).expect("init");
            if s.client.send_request(&req.as_message_ref()).is_err() {
                return;
            }
            let Ok(Some(((), asked))) = s.peer_server.take(|_, _| Ok(())) else {
                return;
            };
            let len = bytes.len();
            let header = ResponseHeader {
                sequence: *sequence,
                source_timestamp: *timestamp,
            };
            let _ = s
                .peer_server
                .respond(asked.client_gid, asked.sequence, len, header, |buf| {
                    write_bytes(buf, &bytes);
                    Ok(len)
                });
            let resp = OwnedMessage::new(s.ty.response.clone()).expect("init");
            // SAFETY: an initialized message of the response type, ours.
            let mut target = unsafe { MessageMut::new(resp.as_ptr(), &s.ty.response) };
            if let Ok(Some(_)) = checked("take response", *sent, || {
                s.client.take_response(&mut target)
            }) {
                resp.to_cdr().expect("a taken response does not encode");
            }
        }
    }
}

/// Empties the queues an input used, so that the next input starts from the same queues (the
/// entities' per-peer state stays).
fn drain(h: &Harness, touched: &Touched) {
    let used = |mask: u64, i: usize| mask & (1 << i) != 0;
    for (_, t) in h
        .topics
        .iter()
        .enumerate()
        .filter(|(i, _)| used(touched.topics, *i))
    {
        for _ in 0..64 {
            if matches!(t.sub.take_with(|_| Ok(())), Ok(None)) {
                break;
            }
        }
    }
    for (_, s) in h
        .services
        .iter()
        .enumerate()
        .filter(|(i, _)| used(touched.services, *i))
    {
        for _ in 0..64 {
            let resp = OwnedMessage::new(s.ty.response.clone()).expect("init");
            let req = OwnedMessage::new(s.ty.request.clone()).expect("init");
            // SAFETY: an initialized message of the request type, ours.
            let mut target = unsafe { MessageMut::new(req.as_ptr(), &s.ty.request) };
            let taken = s.server.take_request(&mut target);
            let more = match taken {
                Ok(Some(info)) => {
                    let _ = s
                        .server
                        .send_response(&info.request_id, &resp.as_message_ref());
                    true
                }
                Ok(None) => false,
                Err(_) => true,
            };
            let answers = !matches!(s.peer_client.take(|_, _| Ok(())), Ok(None));
            drop(req);
            if !more && !answers {
                break;
            }
        }
        while let Ok(Some(_)) = s.peer_server.take(|_, _| Ok(())) {}
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let h = harness();
    let mut sent = 0;
    let mut touched = Touched::default();
    for op in ops.iter().take(MAX_OPS) {
        run(h, op, &mut sent, &mut touched);
    }
    drain(h, &touched);
});
