//! rmw/rmw.h service servers.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use super::handles::{
    entity, entity_arc, into_data, non_null, str_arg, take_data, write_out, IDENTIFIER,
};
use super::node::check_node;
use super::publisher::validate_topic;
use crate::entity::Service;
use crate::rmw_export;
use crate::sys::*;
use crate::typesupport::{service_type, MessageMut, MessageRef};

rmw_export! {
    /// Creates a service server (rmw/rmw.h).
    forward(node);
    fn rmw_create_service(node: *const rmw_node_t, type_support: *const rosidl_service_type_support_t, service_name: *const c_char, qos_profile: *const rmw_qos_profile_t) -> *mut rmw_service_t = std::ptr::null_mut(); {
        // SAFETY: null or a node; checked.
        let node = unsafe { entity_arc(node)? };
        non_null(type_support, "type_support")?;
        non_null(qos_profile, "qos_profile")?;
        // SAFETY: null or a C string; non-null QoS.
        let (name, qos) = unsafe { (str_arg(service_name, "service_name")?, &*qos_profile) };
        validate_topic(name, qos)?;
        // SAFETY: a rosidl service type support handle.
        let ty = unsafe { service_type(type_support)? };
        let ts = crate::delegate::ServiceTypeSupportHandle(type_support);
        let service = Arc::new(Service::new(node, name, ty, ts, qos)?);
        Ok(Box::into_raw(Box::new(rmw_service_t {
            implementation_identifier: IDENTIFIER.as_ptr(),
            service_name: service.name.as_ptr(),
            data: into_data(service),
        })))
    }
}

rmw_export! {
    /// Destroys a service server (rmw/rmw.h).
    forward(node);
    fn rmw_destroy_service(node: *mut rmw_node_t, service: *mut rmw_service_t) -> rmw_ret_t {
        // SAFETY: null or handles; checked.
        unsafe {
            check_node(node)?;
            entity(service.cast_const())?;
        }
        // SAFETY: created by Box in rmw_create_service.
        let shell = unsafe { Box::from_raw(service) };
        // SAFETY: as above.
        drop(unsafe { take_data::<Service>(shell.data) });
        Ok(())
    }
}

rmw_export! {
    /// QoS of the service's request subscription (rmw/rmw.h).
    forward(service);
    fn rmw_service_request_subscription_get_actual_qos(service: *const rmw_service_t, qos: *mut rmw_qos_profile_t) -> rmw_ret_t {
        // SAFETY: null or a service; checked.
        let s = unsafe { entity(service)? };
        // SAFETY: an rmw out-argument, null or caller-owned storage.
        unsafe { write_out(qos, "qos", s.qos) }
    }
}

rmw_export! {
    /// QoS of the service's response publisher (rmw/rmw.h).
    forward(service);
    fn rmw_service_response_publisher_get_actual_qos(service: *const rmw_service_t, qos: *mut rmw_qos_profile_t) -> rmw_ret_t {
        // SAFETY: null or a service; checked.
        let s = unsafe { entity(service)? };
        // SAFETY: an rmw out-argument, null or caller-owned storage.
        unsafe { write_out(qos, "qos", s.qos) }
    }
}

rmw_export! {
    /// Takes the oldest waiting request, if any (rmw/rmw.h); `request_header` gets the client's
    /// GID (as `rmw_get_gid_for_client` returns it), the request's sequence number and the
    /// source and received timestamps. The request waits for `rmw_send_response`.
    forward(service);
    fn rmw_take_request(service: *const rmw_service_t, request_header: *mut rmw_service_info_t, ros_request: *mut c_void, taken: *mut bool) -> rmw_ret_t {
        // SAFETY: null or a service; checked.
        let s = unsafe { entity(service)? };
        non_null(request_header, "request_header")?;
        non_null(ros_request, "ros_request")?;
        non_null(taken, "taken")?;
        // SAFETY: rcl passes an initialized request message of the service's type.
        let mut msg = unsafe { MessageMut::new(ros_request, &s.ty.request) };
        let info = s.take_request(&mut msg)?;
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
    /// Sends the response to request `request_header` to the client that sent it, and only to
    /// it (rmw/rmw.h). A client that is gone is not an error; a request id that was never taken
    /// or was already answered is.
    forward(service);
    fn rmw_send_response(service: *const rmw_service_t, request_header: *mut rmw_request_id_t, ros_response: *mut c_void) -> rmw_ret_t {
        // SAFETY: null or a service; checked.
        let s = unsafe { entity(service)? };
        non_null(request_header, "request_header")?;
        non_null(ros_response, "ros_response")?;
        // SAFETY: non-null caller-owned request id; rcl passes an initialized response
        // message of the service's type.
        let (id, msg) = unsafe { (*request_header, MessageRef::new(ros_response, &s.ty.response)) };
        s.send_response(&id, &msg)
    }
}
