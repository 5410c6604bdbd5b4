//! rmw/rmw.h publishers.

use std::ffi::{c_char, c_int, c_void, CString};

use super::handles::{
    entity, entity_arc, into_data, non_null, str_arg, take_data, write_out, IDENTIFIER,
};
use super::node::check_node;
use crate::entity::Publisher;
use crate::error::{Error, Result};
use crate::rmw_export;
use crate::sys::*;
use crate::typesupport::message_type;
use crate::typesupport::MessageRef;

/// Validates a fully qualified topic or service name (rmw/validate_full_topic_name.h), unless
/// the QoS profile asks to avoid ROS namespace conventions.
pub(super) fn validate_topic(name: &str, qos: &rmw_qos_profile_t) -> Result<()> {
    if qos.avoid_ros_namespace_conventions {
        return if name.is_empty() {
            Err(Error::invalid("empty topic name"))
        } else {
            Ok(())
        };
    }
    let c = CString::new(name).map_err(|_| Error::invalid("topic name contains NUL"))?;
    let (mut result, mut index): (c_int, usize) = (0, 0);
    // SAFETY: valid C string and out-pointers.
    let r = unsafe { rmw_validate_full_topic_name(c.as_ptr(), &mut result, &mut index) };
    if r != crate::error::RET_OK || result != RMW_TOPIC_VALID as c_int {
        return Err(Error::invalid(format!(
            "invalid topic name '{name}' (at index {index})"
        )));
    }
    Ok(())
}

rmw_export! {
    /// Creates a publisher (rmw/rmw.h). Null with an error message on failure.
    forward(node);
    fn rmw_create_publisher(
        node: *const rmw_node_t,
        type_support: *const rosidl_message_type_support_t,
        topic_name: *const c_char,
        qos_profile: *const rmw_qos_profile_t,
        publisher_options: *const rmw_publisher_options_t,
    ) -> *mut rmw_publisher_t = std::ptr::null_mut(); {
        // SAFETY: null or a node; checked by `entity_arc`.
        let node = unsafe { entity_arc(node)? };
        non_null(type_support, "type_support")?;
        non_null(qos_profile, "qos_profile")?;
        non_null(publisher_options, "publisher_options")?;
        // SAFETY: null or a C string.
        let topic = unsafe { str_arg(topic_name, "topic_name")? };
        // SAFETY: non-null caller-owned structs.
        let (qos, options) = unsafe { (&*qos_profile, *publisher_options) };
        validate_topic(topic, qos)?;
        // SAFETY: a type support handle from rosidl (non-null, checked above).
        let ty = unsafe { message_type(type_support)? };
        let ts = crate::delegate::TypeSupportHandle(type_support);
        let publisher = Publisher::new(node, topic, ty, ts, qos)?;
        let can_loan = publisher.can_loan();
        Ok(Box::into_raw(Box::new(rmw_publisher_t {
            implementation_identifier: IDENTIFIER.as_ptr(),
            topic_name: publisher.topic.as_ptr(),
            data: into_data(publisher),
            options,
            can_loan_messages: can_loan,
        })))
    }
}

rmw_export! {
    /// Destroys a publisher (rmw/rmw.h).
    forward(node);
    fn rmw_destroy_publisher(node: *mut rmw_node_t, publisher: *mut rmw_publisher_t) -> rmw_ret_t {
        // SAFETY: null or handles; checked.
        unsafe {
            check_node(node)?;
            entity(publisher.cast_const())?;
        }
        // SAFETY: created by Box in rmw_create_publisher; data is an Arc<Publisher>.
        let shell = unsafe { Box::from_raw(publisher) };
        // SAFETY: as above.
        drop(unsafe { take_data::<Publisher>(shell.data) });
        Ok(())
    }
}

rmw_export! {
    /// Publishes a ROS message: serialized once, into shared memory (rmw/rmw.h).
    forward(publisher);
    fn rmw_publish(publisher: *const rmw_publisher_t, ros_message: *const c_void, allocation: *mut rmw_publisher_allocation_t) -> rmw_ret_t {
        let _ = allocation;
        // SAFETY: null or a publisher; checked.
        let p = unsafe { entity(publisher)? };
        non_null(ros_message, "ros_message")?;
        // SAFETY: rcl passes a message of the publisher's type, valid during the call.
        let msg = unsafe { MessageRef::new(ros_message, &p.ty) };
        p.publish(&msg)
    }
}

rmw_export! {
    /// Publishes CDR bytes as they are (rmw/rmw.h).
    forward(publisher);
    fn rmw_publish_serialized_message(
        publisher: *const rmw_publisher_t,
        serialized_message: *const rmw_serialized_message_t,
        allocation: *mut rmw_publisher_allocation_t,
    ) -> rmw_ret_t {
        let _ = allocation;
        // SAFETY: null or a publisher; checked.
        let p = unsafe { entity(publisher)? };
        non_null(serialized_message, "serialized_message")?;
        // SAFETY: non-null caller-owned array.
        let m = unsafe { &*serialized_message };
        non_null(m.buffer, "serialized_message buffer")?;
        // SAFETY: the array holds `buffer_length` initialized bytes.
        let bytes = unsafe { std::slice::from_raw_parts(m.buffer, m.buffer_length) };
        p.publish_serialized(bytes)
    }
}

rmw_export! {
    /// The QoS profile in force (rmw/rmw.h).
    forward(publisher);
    fn rmw_publisher_get_actual_qos(publisher: *const rmw_publisher_t, qos: *mut rmw_qos_profile_t) -> rmw_ret_t {
        // SAFETY: null or a publisher; checked.
        let p = unsafe { entity(publisher)? };
        // SAFETY: an rmw out-argument, null or caller-owned storage.
        unsafe { write_out(qos, "qos", p.qos) }
    }
}

rmw_export! {
    /// Number of subscriptions on the same topic and type (rmw/rmw.h).
    forward(publisher);
    fn rmw_publisher_count_matched_subscriptions(publisher: *const rmw_publisher_t, subscription_count: *mut usize) -> rmw_ret_t {
        // SAFETY: null or a publisher; checked.
        let p = unsafe { entity(publisher)? };
        // SAFETY: an rmw out-argument, null or caller-owned storage.
        unsafe { write_out(subscription_count, "subscription_count", p.matched_subscriptions()) }
    }
}

rmw_export! {
    /// The publisher's GID (rmw/rmw.h).
    forward(publisher);
    fn rmw_get_gid_for_publisher(publisher: *const rmw_publisher_t, gid: *mut rmw_gid_t) -> rmw_ret_t {
        // SAFETY: null or a publisher; checked.
        let p = unsafe { entity(publisher)? };
        // SAFETY: an rmw out-argument, null or caller-owned storage.
        unsafe { write_out(gid, "gid", rmw_gid_t { implementation_identifier: IDENTIFIER.as_ptr(), data: p.gid.0 }) }
    }
}

rmw_export! {
    /// Shared-memory delivery completes inside `rmw_publish`: every matched subscription
    /// already holds the sample, so all are acknowledged (rmw/rmw.h).
    forward(publisher);
    fn rmw_publisher_wait_for_all_acked(publisher: *const rmw_publisher_t, wait_timeout: rmw_time_t) -> rmw_ret_t {
        let _ = wait_timeout;
        // SAFETY: null or a publisher; checked.
        unsafe { entity(publisher)? };
        Ok(())
    }
}

rmw_export! {
    /// Compares two GIDs of this implementation (rmw/rmw.h).
    forward(gid1);
    fn rmw_compare_gids_equal(gid1: *const rmw_gid_t, gid2: *const rmw_gid_t, result: *mut bool) -> rmw_ret_t {
        non_null(gid1, "gid1")?;
        non_null(gid2, "gid2")?;
        non_null(result, "result")?;
        // SAFETY: non-null caller-owned GIDs.
        let (a, b) = unsafe { (&*gid1, &*gid2) };
        // SAFETY: identifiers are null or C strings.
        unsafe {
            super::handles::check_identifier(a.implementation_identifier, "gid1")?;
            super::handles::check_identifier(b.implementation_identifier, "gid2")?;
            *result = a.data == b.data;
        }
        Ok(())
    }
}

rmw_export! {
    /// Asserts the publisher's liveliness (MANUAL_BY_TOPIC): restarts its lease. Publishing
    /// asserts it too.
    forward(publisher);
    fn rmw_publisher_assert_liveliness(publisher: *const rmw_publisher_t) -> rmw_ret_t {
        // SAFETY: null or a publisher; checked.
        let p = unsafe { entity(publisher)? };
        p.status.assert_liveliness();
        Ok(())
    }
}
