//! rmw/rmw.h service clients.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use super::handles::{
    entity, entity_arc, into_data, non_null, str_arg, take_data, write_out, IDENTIFIER,
};
use super::node::check_node;
use super::publisher::validate_topic;
use crate::entity::Client;
use crate::rmw_export;
use crate::sys::*;
use crate::typesupport::{service_type, MessageMut, MessageRef};

rmw_export! {
    /// Creates a service client (rmw/rmw.h).
    forward(node);
    fn rmw_create_client(node: *const rmw_node_t, type_support: *const rosidl_service_type_support_t, service_name: *const c_char, qos_policies: *const rmw_qos_profile_t) -> *mut rmw_client_t = std::ptr::null_mut(); {
        // SAFETY: null or a node; checked.
        let node = unsafe { entity_arc(node)? };
        non_null(type_support, "type_support")?;
        non_null(qos_policies, "qos_policies")?;
        // SAFETY: null or a C string; non-null QoS.
        let (name, qos) = unsafe { (str_arg(service_name, "service_name")?, &*qos_policies) };
        validate_topic(name, qos)?;
        // SAFETY: a rosidl service type support handle.
        let ty = unsafe { service_type(type_support)? };
        let ts = crate::delegate::ServiceTypeSupportHandle(type_support);
        let client = Arc::new(Client::new(node, name, ty, ts, qos)?);
        Ok(Box::into_raw(Box::new(rmw_client_t {
            implementation_identifier: IDENTIFIER.as_ptr(),
            service_name: client.name.as_ptr(),
            data: into_data(client),
        })))
    }
}

rmw_export! {
    /// Destroys a service client (rmw/rmw.h).
    forward(node);
    fn rmw_destroy_client(node: *mut rmw_node_t, client: *mut rmw_client_t) -> rmw_ret_t {
        // SAFETY: null or handles; checked.
        unsafe {
            check_node(node)?;
            entity(client.cast_const())?;
        }
        // SAFETY: created by Box in rmw_create_client.
        let shell = unsafe { Box::from_raw(client) };
        // SAFETY: as above.
        drop(unsafe { take_data::<Client>(shell.data) });
        Ok(())
    }
}

rmw_export! {
    /// QoS of the client's request publisher (rmw/rmw.h).
    forward(client);
    fn rmw_client_request_publisher_get_actual_qos(client: *const rmw_client_t, qos: *mut rmw_qos_profile_t) -> rmw_ret_t {
        // SAFETY: null or a client; checked.
        let c = unsafe { entity(client)? };
        // SAFETY: an rmw out-argument, null or caller-owned storage.
        unsafe { write_out(qos, "qos", c.qos) }
    }
}

rmw_export! {
    /// QoS of the client's response subscription (rmw/rmw.h).
    forward(client);
    fn rmw_client_response_subscription_get_actual_qos(client: *const rmw_client_t, qos: *mut rmw_qos_profile_t) -> rmw_ret_t {
        // SAFETY: null or a client; checked.
        let c = unsafe { entity(client)? };
        // SAFETY: an rmw out-argument, null or caller-owned storage.
        unsafe { write_out(qos, "qos", c.qos) }
    }
}

rmw_export! {
    /// The client's GID (rmw/rmw.h).
    forward(client);
    fn rmw_get_gid_for_client(client: *const rmw_client_t, gid: *mut rmw_gid_t) -> rmw_ret_t {
        // SAFETY: null or a client; checked.
        let c = unsafe { entity(client)? };
        // SAFETY: an rmw out-argument, null or caller-owned storage.
        unsafe { write_out(gid, "gid", rmw_gid_t { implementation_identifier: IDENTIFIER.as_ptr(), data: c.gid.0 }) }
    }
}

rmw_export! {
    /// Sends a request to the servers of the service (rmw/rmw.h); `sequence_id` gets its
    /// sequence number (1, 2, ... per client). Fails when too many requests of this client
    /// wait for a response (RMW_SHM_RS_MAX_PENDING_REQUESTS).
    forward(client);
    fn rmw_send_request(client: *const rmw_client_t, ros_request: *const c_void, sequence_id: *mut i64) -> rmw_ret_t {
        // SAFETY: null or a client; checked.
        let c = unsafe { entity(client)? };
        non_null(ros_request, "ros_request")?;
        non_null(sequence_id, "sequence_id")?;
        // SAFETY: rcl passes an initialized request message of the client's type.
        let msg = unsafe { MessageRef::new(ros_request, &c.ty.request) };
        let seq = c.send_request(&msg)?;
        // SAFETY: non-null caller-owned out-argument (checked above).
        unsafe { write_out(sequence_id, "sequence_id", seq) }
    }
}

rmw_export! {
    /// Takes a response to one of this client's requests, if any (rmw/rmw.h);
    /// `request_header` gets this client's GID and the sequence number of the request it
    /// answers.
    forward(client);
    fn rmw_take_response(client: *const rmw_client_t, request_header: *mut rmw_service_info_t, ros_response: *mut c_void, taken: *mut bool) -> rmw_ret_t {
        // SAFETY: null or a client; checked.
        let c = unsafe { entity(client)? };
        non_null(request_header, "request_header")?;
        non_null(ros_response, "ros_response")?;
        non_null(taken, "taken")?;
        // SAFETY: rcl passes an initialized response message of the client's type.
        let mut msg = unsafe { MessageMut::new(ros_response, &c.ty.response) };
        let info = c.take_response(&mut msg)?;
        // SAFETY: non-null caller-owned out-arguments (checked above).
        unsafe {
            *taken = info.is_some();
            if let Some(info) = info {
                *request_header = info;
            }
        }
        Ok(())
    }
}

rmw_export! {
    /// Whether a server of the client's service name and type exists in the domain
    /// (rmw/rmw.h). When true, the next request reaches it: the client is already connected.
    /// A server whose process died stops counting within about 250 ms (dead-node cleanup).
    forward(node);
    fn rmw_service_server_is_available(node: *const rmw_node_t, client: *const rmw_client_t, is_available: *mut bool) -> rmw_ret_t {
        // SAFETY: null or handles; checked.
        let c = unsafe {
            entity(node)?;
            entity(client)?
        };
        non_null(is_available, "is_available")?;
        // SAFETY: an rmw out-argument, checked non-null.
        unsafe { write_out(is_available, "is_available", c.server_is_available()) }
    }
}
