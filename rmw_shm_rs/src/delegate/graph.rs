//! The remote part of the graph: what the delegate's DDS discovery knows, turned into one
//! synthetic [`Participant`] that the graph queries append to the shared-memory view. This
//! host's own rmw_shm_rs processes are left out (their nodes by name, their endpoints by DDS
//! participant prefix), so nothing is counted twice.

use std::collections::HashSet;
use std::ffi::{c_char, CStr, CString};

use super::api::{self, check};
use super::DdsNode;
use crate::error::Result;
use crate::graph::model::{Endpoint, EndpointKind, NodeEntry, Participant, Qos};
use crate::graph::query::GraphView;
use crate::sys::*;

/// Reads a string array the delegate filled, then frees it.
///
/// # Safety
/// `arr` was filled by an rmw function (or is zero-initialized).
unsafe fn strings(arr: &mut rcutils_string_array_t) -> Vec<String> {
    let out = (0..arr.size)
        .map(|i| {
            // SAFETY: `size` entries, each null or a C string.
            let p = unsafe { *arr.data.add(i) };
            if p.is_null() {
                String::new()
            } else {
                // SAFETY: non-null C string.
                unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
            }
        })
        .collect();
    // SAFETY: filled by the delegate with its allocator (recorded in the array).
    unsafe { rcutils_string_array_fini(arr) };
    out
}

/// Reads a names-and-types result (name, first type), then frees it.
///
/// # Safety
/// `nat` was filled by an rmw function.
unsafe fn names_and_types(nat: &mut rmw_names_and_types_t) -> Vec<(String, Vec<String>)> {
    let n = nat.names.size;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        // SAFETY: `names` has `n` entries and `types` `n` arrays.
        unsafe {
            let name = CStr::from_ptr(*nat.names.data.add(i))
                .to_string_lossy()
                .into_owned();
            let types = &*nat.types.add(i);
            let types = (0..types.size)
                .map(|j| {
                    CStr::from_ptr(*types.data.add(j))
                        .to_string_lossy()
                        .into_owned()
                })
                .collect();
            out.push((name, types));
        }
    }
    // SAFETY: filled by the delegate.
    unsafe { rmw_names_and_types_fini(nat) };
    out
}

fn hash_string(h: &rosidl_type_hash_t) -> String {
    if h.version != 1 {
        return String::new();
    }
    let hex: String = h.value.iter().map(|b| format!("{b:02x}")).collect();
    format!("RIHS01_{hex}")
}

type Query = unsafe extern "C" fn(
    *const rmw_node_t,
    *mut rcutils_allocator_t,
    *const c_char,
    bool,
    *mut rmw_topic_endpoint_info_array_t,
) -> rmw_ret_t;

/// Endpoint infos of one topic: (node name, namespace, endpoint).
fn topic_endpoints(
    node: &DdsNode,
    topic: &CStr,
    kind: EndpointKind,
    query: Query,
) -> Result<Vec<(String, String, Endpoint)>> {
    // SAFETY: zero-initialized array and default allocator.
    let (mut arr, mut alloc) = unsafe {
        (
            rmw_get_zero_initialized_topic_endpoint_info_array(),
            rcutils_get_default_allocator(),
        )
    };
    check(
        // SAFETY: a live delegate node, valid allocator, topic and out-array.
        unsafe { query(node.node, &mut alloc, topic.as_ptr(), false, &mut arr) },
        "info by topic",
    )?;
    let name = topic.to_string_lossy().into_owned();
    let mut out = Vec::with_capacity(arr.size);
    for i in 0..arr.size {
        // SAFETY: `size` initialized entries with C strings (or null).
        let info = unsafe { &*arr.info_array.add(i) };
        let s = |p: *const c_char| {
            if p.is_null() {
                String::new()
            } else {
                // SAFETY: a C string owned by the array.
                unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
            }
        };
        out.push((
            s(info.node_name),
            s(info.node_namespace),
            Endpoint {
                kind,
                name: name.clone(),
                type_name: s(info.topic_type),
                type_hash: hash_string(&info.topic_type_hash),
                gid: info.endpoint_gid,
                qos: Qos::from(&info.qos_profile),
            },
        ));
    }
    // SAFETY: filled by the delegate with this allocator.
    unsafe { rmw_topic_endpoint_info_array_fini(&mut arr, &mut alloc) };
    Ok(out)
}

/// The nodes and endpoints the delegate sees that are not this host's rmw_shm_rs processes
/// (those are in `local` already).
///
/// DDS keeps a killed process's participant until its lease runs out (about 20 s with Fast
/// DDS), and its nodes and endpoints must not come back as another host's meanwhile: `known`
/// holds the DDS prefixes of this host's delegates seen so far (also of processes that have
/// left the shared-memory graph), whose endpoints are left out, and `departed` the names of
/// the nodes of this host's processes that died recently. A node is left out when none of its
/// topic endpoints is another host's and it has one with a known prefix or a departed name (its
/// endpoints may go from the DDS graph before the node does).
pub fn remote_participant(
    node: &DdsNode,
    local: &GraphView,
    known: &HashSet<[u8; 12]>,
    departed: &HashSet<(String, String)>,
) -> Result<Participant> {
    let d = node.delegate();
    let local_nodes: HashSet<(String, String)> = local
        .node_names()
        .into_iter()
        .map(|n| (n.name, n.namespace))
        .collect();
    let mut prefixes = local.remote_prefixes();
    prefixes.extend(known);
    // SAFETY: zero-initialized arrays, as the API wants them.
    let (mut names, mut nss, mut encl) = unsafe {
        (
            rcutils_get_zero_initialized_string_array(),
            rcutils_get_zero_initialized_string_array(),
            rcutils_get_zero_initialized_string_array(),
        )
    };
    let f = api::rmw_get_node_names_with_enclaves(d)?;
    check(
        // SAFETY: a live delegate node and zero-initialized out-arrays.
        unsafe { f(node.node, &mut names, &mut nss, &mut encl) },
        "rmw_get_node_names_with_enclaves",
    )?;
    // SAFETY: filled just above.
    let (names, nss, encl) =
        unsafe { (strings(&mut names), strings(&mut nss), strings(&mut encl)) };
    let mut nodes: Vec<NodeEntry> = names
        .into_iter()
        .zip(nss)
        .zip(encl)
        .filter(|((n, ns), _)| !local_nodes.contains(&(n.clone(), ns.clone())))
        .enumerate()
        .map(|(i, ((name, namespace), enclave))| NodeEntry {
            id: i as u64,
            name,
            namespace,
            enclave,
            endpoints: Vec::new(),
        })
        .collect();
    if nodes.is_empty() {
        return Ok(Participant::default());
    }
    let mut alloc = unsafe_default_allocator();
    let mut nat = zero_names_and_types();
    check(
        // SAFETY: a live delegate node, allocator and zero-initialized out-struct.
        unsafe { api::rmw_get_topic_names_and_types(d)?(node.node, &mut alloc, false, &mut nat) },
        "topic names",
    )?;
    // SAFETY: filled just above.
    let topics = unsafe { names_and_types(&mut nat) };
    // Nodes with an endpoint of one of this host's delegates.
    let mut ours: HashSet<(String, String)> = HashSet::new();
    for (topic, _) in topics {
        let Ok(t) = CString::new(topic) else { continue };
        for (kind, query) in [
            (
                EndpointKind::Publisher,
                api::rmw_get_publishers_info_by_topic(d)? as Query,
            ),
            (
                EndpointKind::Subscription,
                api::rmw_get_subscriptions_info_by_topic(d)?,
            ),
        ] {
            for (n, ns, e) in topic_endpoints(node, &t, kind, query)? {
                if prefixes.iter().any(|p| e.gid.starts_with(p)) {
                    ours.insert((n, ns));
                    continue;
                }
                if let Some(entry) = nodes.iter_mut().find(|x| x.name == n && x.namespace == ns) {
                    entry.endpoints.push(e);
                }
            }
        }
    }
    // A node of a process of this host that left the shared-memory graph (killed): DDS still
    // lists it until the participant's lease ends.
    nodes.retain(|x| {
        let key = (x.name.clone(), x.namespace.clone());
        !x.endpoints.is_empty() || !(ours.contains(&key) || departed.contains(&key))
    });
    for entry in &mut nodes {
        let (Ok(n), Ok(ns)) = (
            CString::new(entry.name.as_str()),
            CString::new(entry.namespace.as_str()),
        ) else {
            continue;
        };
        for (kind, f) in [
            (
                EndpointKind::Service,
                api::rmw_get_service_names_and_types_by_node(d)?,
            ),
            (
                EndpointKind::Client,
                api::rmw_get_client_names_and_types_by_node(d)?,
            ),
        ] {
            let mut nat = zero_names_and_types();
            // SAFETY: a live delegate node, allocator, C strings and zero-initialized out.
            if unsafe { f(node.node, &mut alloc, n.as_ptr(), ns.as_ptr(), &mut nat) }
                != crate::error::RET_OK
            {
                // SAFETY: resets the error the delegate set (an unknown node is not ours to report).
                unsafe { rcutils_reset_error() };
                continue;
            }
            // SAFETY: filled just above.
            for (name, types) in unsafe { names_and_types(&mut nat) } {
                for ty in types {
                    entry.endpoints.push(Endpoint {
                        kind,
                        name: name.clone(),
                        type_name: ty,
                        type_hash: String::new(),
                        gid: [0; 16],
                        qos: Qos::default(),
                    });
                }
            }
        }
    }
    Ok(Participant {
        key: [0xdd; 16],
        version: 0,
        pid: 0,
        nodes,
        dds_prefix: None,
    })
}

fn unsafe_default_allocator() -> rcutils_allocator_t {
    // SAFETY: returns the default allocator by value.
    unsafe { rcutils_get_default_allocator() }
}

fn zero_names_and_types() -> rmw_names_and_types_t {
    // SAFETY: returns a zero-initialized struct by value.
    unsafe { rmw_get_zero_initialized_names_and_types() }
}
