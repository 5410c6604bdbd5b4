//! rmw/get_node_info_and_types.h, get_topic_names_and_types.h, get_service_names_and_types.h,
//! get_topic_endpoint_info.h and the `rmw_count_*` functions of rmw/rmw.h: graph queries,
//! answered from the context's graph view (graph/query.rs) and copied into the caller's
//! zero-initialized arrays with the caller's allocator.
//!
//! Names are the ROS names as created (`/chatter`, `std_msgs/msg/String`); there is no DDS
//! mangling on shared memory, so `no_demangle` / `no_mangle` change nothing.

use std::ffi::{c_char, CString};

use super::handles::{entity, non_null, str_arg, write_out};
use super::strings::strdup_with;
use crate::entity::Node;
use crate::error::{Error, Result, RET_OK};
use crate::graph::model::EndpointKind;
use crate::graph::query::NamesAndTypes;
use crate::rmw_export;
use crate::sys::*;

fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::Other(format!("graph name contains NUL: {s:?}")))
}

fn ok(r: rmw_ret_t, what: &str) -> Result<()> {
    if r == RET_OK {
        Ok(())
    } else {
        Err(Error::BadAlloc(format!("{what} failed ({r})")))
    }
}

/// Checks an allocator argument and returns a copy.
///
/// # Safety
/// `allocator` is null or points to an allocator.
unsafe fn allocator_arg(allocator: *mut rcutils_allocator_t) -> Result<rcutils_allocator_t> {
    non_null(allocator, "allocator")?;
    // SAFETY: non-null per the check; the caller owns it.
    let a = unsafe { *allocator };
    // SAFETY: reads the function pointers only.
    if !unsafe { rcutils_allocator_is_valid(&a) } {
        return Err(Error::invalid("allocator is invalid"));
    }
    Ok(a)
}

/// Fills a zero-initialized string array with `items`.
///
/// # Safety
/// `out` is null or a caller-owned string array.
unsafe fn fill_strings(
    out: *mut rcutils_string_array_t,
    items: &[&str],
    allocator: &rcutils_allocator_t,
) -> Result<()> {
    non_null(out, "string array")?;
    // SAFETY: non-null caller-owned array.
    let arr = unsafe { &mut *out };
    if !arr.data.is_null() || arr.size != 0 {
        return Err(Error::invalid("string array must be zero-initialized"));
    }
    // SAFETY: zero-initialized array, valid allocator.
    let r = unsafe { rcutils_string_array_init(arr, items.len(), allocator) };
    ok(r as rmw_ret_t, "string array init")?;
    for (i, s) in items.iter().enumerate() {
        let c = cstring(s)?;
        // SAFETY: `data` has `items.len()` slots; the copy is owned by the array.
        unsafe { *arr.data.add(i) = strdup_with(c.as_ptr(), allocator)? };
    }
    Ok(())
}

/// Fills zero-initialized names-and-types with `map`.
///
/// # Safety
/// `out` is null or caller-owned names-and-types.
unsafe fn fill_names_and_types(
    out: *mut rmw_names_and_types_t,
    map: &NamesAndTypes,
    mut allocator: rcutils_allocator_t,
) -> Result<()> {
    non_null(out, "names_and_types")?;
    // SAFETY: non-null caller-owned struct.
    if unsafe { rmw_names_and_types_check_zero(out) } != RET_OK {
        // SAFETY: clears the message the check set, replaced by ours (no overwrite warning).
        unsafe { rcutils_reset_error() };
        return Err(Error::invalid("names_and_types must be zero-initialized"));
    }
    if map.is_empty() {
        return Ok(());
    }
    // SAFETY: zero-initialized, valid allocator.
    let r = unsafe { rmw_names_and_types_init(out, map.len(), &mut allocator) };
    ok(r as rmw_ret_t, "names and types init")?;
    // SAFETY: initialized above with `map.len()` names and type arrays.
    let nt = unsafe { &mut *out };
    for (i, (name, types)) in map.iter().enumerate() {
        let c = cstring(name)?;
        // SAFETY: slot `i` of an array of `map.len()`.
        unsafe { *nt.names.data.add(i) = strdup_with(c.as_ptr(), &allocator)? };
        let types: Vec<&str> = types.iter().map(String::as_str).collect();
        // SAFETY: slot `i` of `map.len()` zero-initialized type arrays.
        unsafe { fill_strings(nt.types.add(i), &types, &allocator)? };
    }
    Ok(())
}

/// Runs a names-and-types query, releasing a partly filled result on failure.
///
/// # Safety
/// As for [`fill_names_and_types`].
unsafe fn names_and_types(
    node: *const rmw_node_t,
    allocator: *mut rcutils_allocator_t,
    out: *mut rmw_names_and_types_t,
    query: impl FnOnce(&Node) -> Result<NamesAndTypes>,
) -> Result<()> {
    // SAFETY: null or a node; checked.
    let node = unsafe { entity(node)? };
    // SAFETY: null or an allocator.
    let allocator = unsafe { allocator_arg(allocator)? };
    non_null(out, "names_and_types")?;
    let map = query(node)?;
    // SAFETY: caller-owned output.
    let r = unsafe { fill_names_and_types(out, &map, allocator) };
    if r.is_err() {
        // SAFETY: frees what was filled (fini accepts partly filled arrays).
        unsafe { rmw_names_and_types_fini(out) };
    }
    r
}

fn node_filter<'a>(name: *const c_char, namespace: *const c_char) -> Result<(&'a str, &'a str)> {
    // SAFETY: null or C strings from the caller.
    unsafe {
        Ok((
            str_arg(name, "node_name")?,
            str_arg(namespace, "node_namespace")?,
        ))
    }
}

fn parse_type_hash(s: &str) -> rosidl_type_hash_t {
    let mut h = rosidl_type_hash_t::default();
    if let Some(hex) = s.strip_prefix("RIHS01_").filter(|h| h.len() == 64) {
        let bytes: Option<Vec<u8>> = (0..32)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
            .collect();
        if let Some(bytes) = bytes {
            h.version = 1;
            h.value.copy_from_slice(&bytes);
        }
    }
    h
}

/// Fills a zero-initialized endpoint-info array with the endpoints of `kind` on a topic.
///
/// # Safety
/// Pointer arguments null or as the rmw header documents.
unsafe fn endpoint_info(
    node: *const rmw_node_t,
    allocator: *mut rcutils_allocator_t,
    topic_name: *const c_char,
    out: *mut rmw_topic_endpoint_info_array_t,
    kind: EndpointKind,
) -> Result<()> {
    // SAFETY: null or a node; checked.
    let node = unsafe { entity(node)? };
    // SAFETY: null or an allocator.
    let mut allocator = unsafe { allocator_arg(allocator)? };
    // SAFETY: null or a C string.
    let topic = unsafe { str_arg(topic_name, "topic_name")? };
    non_null(out, "endpoint info array")?;
    // SAFETY: non-null caller-owned array.
    if unsafe { rmw_topic_endpoint_info_array_check_zero(out) } != RET_OK {
        // SAFETY: clears the message the check set, replaced by ours (no overwrite warning).
        unsafe { rcutils_reset_error() };
        return Err(Error::invalid(
            "endpoint info array must be zero-initialized",
        ));
    }
    let found = node.graph_view().endpoints_on(kind, topic);
    if found.is_empty() {
        return Ok(());
    }
    // SAFETY: zero-initialized array, valid allocator.
    let r =
        unsafe { rmw_topic_endpoint_info_array_init_with_size(out, found.len(), &mut allocator) };
    ok(r as rmw_ret_t, "endpoint info init")?;
    let endpoint_type = match kind {
        EndpointKind::Publisher => rmw_endpoint_type_e_RMW_ENDPOINT_PUBLISHER,
        _ => rmw_endpoint_type_e_RMW_ENDPOINT_SUBSCRIPTION,
    };
    let mut fill = || -> Result<()> {
        for (i, (n, e)) in found.iter().enumerate() {
            let (name, ns, ty) = (
                cstring(&n.name)?,
                cstring(&n.namespace)?,
                cstring(&e.type_name)?,
            );
            let hash = parse_type_hash(&e.type_hash);
            let qos: rmw_qos_profile_t = (&e.qos).into();
            // SAFETY: slot `i` of the array initialized with `found.len()` entries; the setters
            // copy strings with the allocator.
            unsafe {
                let info = (*out).info_array.add(i);
                ok(
                    rmw_topic_endpoint_info_set_node_name(info, name.as_ptr(), &mut allocator),
                    "set node name",
                )?;
                ok(
                    rmw_topic_endpoint_info_set_node_namespace(info, ns.as_ptr(), &mut allocator),
                    "set namespace",
                )?;
                ok(
                    rmw_topic_endpoint_info_set_topic_type(info, ty.as_ptr(), &mut allocator),
                    "set type",
                )?;
                ok(
                    rmw_topic_endpoint_info_set_topic_type_hash(info, &hash),
                    "set type hash",
                )?;
                ok(
                    rmw_topic_endpoint_info_set_endpoint_type(info, endpoint_type),
                    "set endpoint type",
                )?;
                ok(
                    rmw_topic_endpoint_info_set_gid(info, e.gid.as_ptr(), e.gid.len()),
                    "set gid",
                )?;
                ok(
                    rmw_topic_endpoint_info_set_qos_profile(info, &qos),
                    "set qos",
                )?;
            }
        }
        Ok(())
    };
    let r = fill();
    if r.is_err() {
        // SAFETY: frees the partly filled array with the allocator that made it.
        unsafe { rmw_topic_endpoint_info_array_fini(out, &mut allocator) };
    }
    r
}

/// The `rmw_count_*` functions.
///
/// # Safety
/// Pointer arguments null or as the rmw header documents.
unsafe fn count(
    node: *const rmw_node_t,
    name: *const c_char,
    out: *mut usize,
    kind: EndpointKind,
) -> Result<()> {
    // SAFETY: null or a node; checked.
    let node = unsafe { entity(node)? };
    // SAFETY: null or a C string.
    let name = unsafe { str_arg(name, "name")? };
    let n = node.graph_view().count(kind, name);
    // SAFETY: an rmw out-argument.
    unsafe { write_out(out, "count", n) }
}

rmw_export! {
    /// Node names and namespaces of the whole domain, this process included.
    forward(node);
    fn rmw_get_node_names(node: *const rmw_node_t, node_names: *mut rcutils_string_array_t, node_namespaces: *mut rcutils_string_array_t) -> rmw_ret_t {
        // SAFETY: null or a node; checked.
        let n = unsafe { entity(node)? };
        let nodes = n.graph_view().node_names();
        // SAFETY: a valid default allocator.
        let a = unsafe { rcutils_get_default_allocator() };
        let names: Vec<&str> = nodes.iter().map(|x| x.name.as_str()).collect();
        let nss: Vec<&str> = nodes.iter().map(|x| x.namespace.as_str()).collect();
        // SAFETY: caller-owned zero-initialized arrays (checked inside).
        unsafe {
            fill_strings(node_names, &names, &a)?;
            if let Err(e) = fill_strings(node_namespaces, &nss, &a) {
                rcutils_string_array_fini(node_names);
                return Err(e);
            }
        }
        Ok(())
    }
}

rmw_export! {
    /// Node names, namespaces and enclaves of the whole domain.
    forward(node);
    fn rmw_get_node_names_with_enclaves(node: *const rmw_node_t, node_names: *mut rcutils_string_array_t, node_namespaces: *mut rcutils_string_array_t, enclaves: *mut rcutils_string_array_t) -> rmw_ret_t {
        // SAFETY: null or a node; checked.
        let n = unsafe { entity(node)? };
        let nodes = n.graph_view().node_names();
        // SAFETY: a valid default allocator.
        let a = unsafe { rcutils_get_default_allocator() };
        let names: Vec<&str> = nodes.iter().map(|x| x.name.as_str()).collect();
        let nss: Vec<&str> = nodes.iter().map(|x| x.namespace.as_str()).collect();
        let encl: Vec<&str> = nodes.iter().map(|x| x.enclave.as_str()).collect();
        // SAFETY: caller-owned zero-initialized arrays (checked inside).
        unsafe {
            fill_strings(node_names, &names, &a)?;
            if let Err(e) = fill_strings(node_namespaces, &nss, &a) {
                rcutils_string_array_fini(node_names);
                return Err(e);
            }
            if let Err(e) = fill_strings(enclaves, &encl, &a) {
                rcutils_string_array_fini(node_names);
                rcutils_string_array_fini(node_namespaces);
                return Err(e);
            }
        }
        Ok(())
    }
}

rmw_export! {
    /// Topics with at least one publisher or subscription, and their types.
    forward(node);
    fn rmw_get_topic_names_and_types(node: *const rmw_node_t, allocator: *mut rcutils_allocator_t, no_demangle: bool, topic_names_and_types: *mut rmw_names_and_types_t) -> rmw_ret_t {
        let _ = no_demangle;
        // SAFETY: arguments as documented; checked inside.
        unsafe { names_and_types(node, allocator, topic_names_and_types, |n| Ok(n.graph_view().topic_names_and_types())) }
    }
}

rmw_export! {
    /// Services with at least one server or client, and their types.
    forward(node);
    fn rmw_get_service_names_and_types(node: *const rmw_node_t, allocator: *mut rcutils_allocator_t, service_names_and_types: *mut rmw_names_and_types_t) -> rmw_ret_t {
        // SAFETY: arguments as documented; checked inside.
        unsafe { names_and_types(node, allocator, service_names_and_types, |n| Ok(n.graph_view().service_names_and_types())) }
    }
}

macro_rules! by_node {
    ($name:ident, $kind:expr, $out:ident $(, $flag:ident)?) => {
        rmw_export! {
            /// Names and types of one kind of endpoint of the given node; RMW_RET_NODE_NAME_NON_EXISTENT when the graph has no such node.
            forward(node);
            fn $name(node: *const rmw_node_t, allocator: *mut rcutils_allocator_t, node_name: *const c_char, node_namespace: *const c_char, $($flag: bool,)? $out: *mut rmw_names_and_types_t) -> rmw_ret_t {
                $(let _ = $flag;)?
                let (name, ns) = node_filter(node_name, node_namespace)?;
                // SAFETY: arguments as documented; checked inside.
                unsafe { names_and_types(node, allocator, $out, |n| n.graph_view().by_node(name, ns, $kind)) }
            }
        }
    };
}

by_node!(
    rmw_get_publisher_names_and_types_by_node,
    EndpointKind::Publisher,
    topic_names_and_types,
    no_demangle
);
by_node!(
    rmw_get_subscriber_names_and_types_by_node,
    EndpointKind::Subscription,
    topic_names_and_types,
    no_demangle
);
by_node!(
    rmw_get_service_names_and_types_by_node,
    EndpointKind::Service,
    service_names_and_types
);
by_node!(
    rmw_get_client_names_and_types_by_node,
    EndpointKind::Client,
    service_names_and_types
);

rmw_export! {
    /// Publishers on a topic with their node, type, type hash, GID and QoS.
    forward(node);
    fn rmw_get_publishers_info_by_topic(node: *const rmw_node_t, allocator: *mut rcutils_allocator_t, topic_name: *const c_char, no_mangle: bool, publishers_info: *mut rmw_topic_endpoint_info_array_t) -> rmw_ret_t {
        let _ = no_mangle;
        // SAFETY: arguments as documented; checked inside.
        unsafe { endpoint_info(node, allocator, topic_name, publishers_info, EndpointKind::Publisher) }
    }
}

rmw_export! {
    /// Subscriptions on a topic with their node, type, type hash, GID and QoS.
    forward(node);
    fn rmw_get_subscriptions_info_by_topic(node: *const rmw_node_t, allocator: *mut rcutils_allocator_t, topic_name: *const c_char, no_mangle: bool, subscriptions_info: *mut rmw_topic_endpoint_info_array_t) -> rmw_ret_t {
        let _ = no_mangle;
        // SAFETY: arguments as documented; checked inside.
        unsafe { endpoint_info(node, allocator, topic_name, subscriptions_info, EndpointKind::Subscription) }
    }
}

rmw_export! {
    /// Publishers on a topic in the whole domain.
    forward(node);
    fn rmw_count_publishers(node: *const rmw_node_t, topic_name: *const c_char, count: *mut usize) -> rmw_ret_t {
        // SAFETY: arguments as documented; checked inside.
        unsafe { self::count(node, topic_name, count, EndpointKind::Publisher) }
    }
}

rmw_export! {
    /// Subscriptions on a topic in the whole domain.
    forward(node);
    fn rmw_count_subscribers(node: *const rmw_node_t, topic_name: *const c_char, count: *mut usize) -> rmw_ret_t {
        // SAFETY: arguments as documented; checked inside.
        unsafe { self::count(node, topic_name, count, EndpointKind::Subscription) }
    }
}

rmw_export! {
    /// Servers of a service in the whole domain.
    forward(node);
    fn rmw_count_services(node: *const rmw_node_t, service_name: *const c_char, count: *mut usize) -> rmw_ret_t {
        // SAFETY: arguments as documented; checked inside.
        unsafe { self::count(node, service_name, count, EndpointKind::Service) }
    }
}

rmw_export! {
    /// Clients of a service in the whole domain.
    forward(node);
    fn rmw_count_clients(node: *const rmw_node_t, service_name: *const c_char, count: *mut usize) -> rmw_ret_t {
        // SAFETY: arguments as documented; checked inside.
        unsafe { self::count(node, service_name, count, EndpointKind::Client) }
    }
}
