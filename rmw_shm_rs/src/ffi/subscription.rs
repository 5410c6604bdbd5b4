//! rmw/rmw.h subscriptions and takes.

use std::ffi::{c_char, c_void};

use super::handles::{
    entity, entity_arc, into_data, non_null, str_arg, take_data, write_out, IDENTIFIER,
};
use super::node::check_node;
use super::publisher::validate_topic;
use crate::entity::{Subscription, TakenInfo};
use crate::error::{Error, Result};
use crate::rmw_export;
use crate::sys::*;
use crate::typesupport::message_type;
use crate::typesupport::MessageMut;

pub(super) fn fill_info(out: &mut rmw_message_info_t, info: &TakenInfo) {
    out.source_timestamp = info.source_timestamp;
    out.received_timestamp = info.received_timestamp;
    out.publication_sequence_number = info.publication_sequence;
    out.reception_sequence_number = info.reception_sequence;
    out.publisher_gid = rmw_gid_t {
        implementation_identifier: IDENTIFIER.as_ptr(),
        data: info.publisher_gid,
    };
    out.from_intra_process = info.from_intra_process;
}

rmw_export! {
    /// Creates a subscription (rmw/rmw.h). Null with an error message on failure.
    forward(node);
    fn rmw_create_subscription(
        node: *const rmw_node_t,
        type_support: *const rosidl_message_type_support_t,
        topic_name: *const c_char,
        qos_policies: *const rmw_qos_profile_t,
        subscription_options: *const rmw_subscription_options_t,
    ) -> *mut rmw_subscription_t = std::ptr::null_mut(); {
        // SAFETY: null or a node; checked by `entity_arc`.
        let node = unsafe { entity_arc(node)? };
        non_null(type_support, "type_support")?;
        non_null(qos_policies, "qos_policies")?;
        non_null(subscription_options, "subscription_options")?;
        // SAFETY: null or a C string.
        let topic = unsafe { str_arg(topic_name, "topic_name")? };
        // SAFETY: non-null caller-owned structs.
        let (qos, options) = unsafe { (&*qos_policies, *subscription_options) };
        validate_topic(topic, qos)?;
        // SAFETY: a type support handle from rosidl (non-null, checked above).
        let ty = unsafe { message_type(type_support)? };
        let ts = crate::delegate::TypeSupportHandle(type_support);
        let sub = Subscription::new(node, topic, ty, ts, qos)?;
        let can_loan = sub.can_loan();
        Ok(Box::into_raw(Box::new(rmw_subscription_t {
            implementation_identifier: IDENTIFIER.as_ptr(),
            topic_name: sub.topic.as_ptr(),
            data: into_data(sub),
            options,
            can_loan_messages: can_loan,
            is_cft_enabled: false,
        })))
    }
}

rmw_export! {
    /// Destroys a subscription (rmw/rmw.h).
    forward(node);
    fn rmw_destroy_subscription(node: *mut rmw_node_t, subscription: *mut rmw_subscription_t) -> rmw_ret_t {
        // SAFETY: null or handles; checked.
        unsafe {
            check_node(node)?;
            entity(subscription.cast_const())?;
        }
        // SAFETY: created by Box in rmw_create_subscription; data is an Arc<Subscription>.
        let shell = unsafe { Box::from_raw(subscription) };
        // SAFETY: as above.
        drop(unsafe { take_data::<Subscription>(shell.data) });
        Ok(())
    }
}

/// The common part of `rmw_take` and `rmw_take_with_info`.
unsafe fn take(
    subscription: *const rmw_subscription_t,
    ros_message: *mut c_void,
    taken: *mut bool,
    message_info: Option<*mut rmw_message_info_t>,
) -> Result<()> {
    // SAFETY: null or a subscription; checked.
    let s = unsafe { entity(subscription)? };
    non_null(ros_message, "ros_message")?;
    non_null(taken, "taken")?;
    if let Some(info) = message_info {
        non_null(info, "message_info")?;
    }
    // SAFETY: rcl passes an initialized message of the subscription's type.
    let mut msg = unsafe { MessageMut::new(ros_message, &s.ty) };
    let result = s.take(&mut msg)?;
    // SAFETY: non-null out-pointers (checked above).
    unsafe {
        *taken = result.is_some();
        if let (Some(info), Some(out)) = (result, message_info) {
            fill_info(&mut *out, &info);
        }
    }
    Ok(())
}

rmw_export! {
    /// Takes the oldest message, if any (rmw/rmw.h); `taken` says whether one was.
    forward(subscription);
    fn rmw_take(subscription: *const rmw_subscription_t, ros_message: *mut c_void, taken: *mut bool, allocation: *mut rmw_subscription_allocation_t) -> rmw_ret_t {
        let _ = allocation;
        // SAFETY: arguments as documented; checked inside.
        unsafe { take(subscription, ros_message, taken, None) }
    }
}

rmw_export! {
    /// Takes the oldest message with its message info (rmw/rmw.h).
    forward(subscription);
    fn rmw_take_with_info(
        subscription: *const rmw_subscription_t,
        ros_message: *mut c_void,
        taken: *mut bool,
        message_info: *mut rmw_message_info_t,
        allocation: *mut rmw_subscription_allocation_t,
    ) -> rmw_ret_t {
        let _ = allocation;
        // SAFETY: arguments as documented; checked inside.
        unsafe { take(subscription, ros_message, taken, Some(message_info)) }
    }
}

/// The common part of the serialized takes: copies the CDR bytes into the caller's array,
/// growing it with its own allocator.
unsafe fn take_serialized(
    subscription: *const rmw_subscription_t,
    serialized_message: *mut rmw_serialized_message_t,
    taken: *mut bool,
    message_info: Option<*mut rmw_message_info_t>,
) -> Result<()> {
    // SAFETY: null or a subscription; checked.
    let s = unsafe { entity(subscription)? };
    non_null(serialized_message, "serialized_message")?;
    non_null(taken, "taken")?;
    if let Some(info) = message_info {
        non_null(info, "message_info")?;
    }
    let result = s.take_with(|bytes| {
        // SAFETY: non-null caller-owned array with a valid allocator.
        let arr = unsafe { &mut *serialized_message };
        if arr.buffer_capacity < bytes.len() {
            // SAFETY: as above; resize reallocates with the array's allocator.
            let r = unsafe { rcutils_uint8_array_resize(arr, bytes.len()) };
            if r != crate::error::RET_OK {
                return Err(Error::BadAlloc(format!(
                    "cannot grow the serialized message to {} bytes",
                    bytes.len()
                )));
            }
        }
        // SAFETY: the buffer has room for `bytes.len()` bytes now.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), arr.buffer, bytes.len()) };
        arr.buffer_length = bytes.len();
        crate::counters::record_copy(bytes.len());
        Ok(())
    })?;
    // SAFETY: non-null out-pointers (checked above).
    unsafe {
        *taken = result.is_some();
        if let (Some(((), info)), Some(out)) = (result, message_info) {
            fill_info(&mut *out, &info);
        }
    }
    Ok(())
}

rmw_export! {
    /// Takes the oldest message as CDR bytes (rmw/rmw.h).
    forward(subscription);
    fn rmw_take_serialized_message(
        subscription: *const rmw_subscription_t,
        serialized_message: *mut rmw_serialized_message_t,
        taken: *mut bool,
        allocation: *mut rmw_subscription_allocation_t,
    ) -> rmw_ret_t {
        let _ = allocation;
        // SAFETY: arguments as documented; checked inside.
        unsafe { take_serialized(subscription, serialized_message, taken, None) }
    }
}

rmw_export! {
    /// Takes the oldest message as CDR bytes with its message info (rmw/rmw.h).
    forward(subscription);
    fn rmw_take_serialized_message_with_info(
        subscription: *const rmw_subscription_t,
        serialized_message: *mut rmw_serialized_message_t,
        taken: *mut bool,
        message_info: *mut rmw_message_info_t,
        allocation: *mut rmw_subscription_allocation_t,
    ) -> rmw_ret_t {
        let _ = allocation;
        // SAFETY: arguments as documented; checked inside.
        unsafe { take_serialized(subscription, serialized_message, taken, Some(message_info)) }
    }
}

rmw_export! {
    /// Takes up to `count` messages into the caller's initialized sequences (rmw/rmw.h).
    forward(subscription);
    fn rmw_take_sequence(
        subscription: *const rmw_subscription_t,
        count: usize,
        message_sequence: *mut rmw_message_sequence_t,
        message_info_sequence: *mut rmw_message_info_sequence_t,
        taken: *mut usize,
        allocation: *mut rmw_subscription_allocation_t,
    ) -> rmw_ret_t {
        let _ = allocation;
        // SAFETY: null or a subscription; checked.
        let s = unsafe { entity(subscription)? };
        non_null(message_sequence, "message_sequence")?;
        non_null(message_info_sequence, "message_info_sequence")?;
        non_null(taken, "taken")?;
        // SAFETY: non-null caller-owned sequences.
        let (msgs, infos) = unsafe { (&mut *message_sequence, &mut *message_info_sequence) };
        if count == 0 {
            return Err(Error::invalid("count must be greater than 0"));
        }
        if msgs.capacity < count || infos.capacity < count {
            return Err(Error::invalid("sequences have less capacity than count"));
        }
        let mut n = 0;
        while n < count {
            // SAFETY: `data` has `capacity` initialized messages of the subscription's type.
            let mut msg = unsafe { MessageMut::new(*msgs.data.add(n), &s.ty) };
            match s.take(&mut msg)? {
                // SAFETY: n < capacity of the info sequence.
                Some(info) => unsafe { fill_info(&mut *infos.data.add(n), &info) },
                None => break,
            }
            n += 1;
        }
        msgs.size = n;
        infos.size = n;
        // SAFETY: non-null out-pointer.
        unsafe { *taken = n };
        Ok(())
    }
}

rmw_export! {
    /// The QoS profile in force (rmw/rmw.h).
    forward(subscription);
    fn rmw_subscription_get_actual_qos(subscription: *const rmw_subscription_t, qos: *mut rmw_qos_profile_t) -> rmw_ret_t {
        // SAFETY: null or a subscription; checked.
        let s = unsafe { entity(subscription)? };
        // SAFETY: an rmw out-argument, null or caller-owned storage.
        unsafe { write_out(qos, "qos", s.qos) }
    }
}

rmw_export! {
    /// Number of publishers on the same topic and type (rmw/rmw.h).
    forward(subscription);
    fn rmw_subscription_count_matched_publishers(subscription: *const rmw_subscription_t, publisher_count: *mut usize) -> rmw_ret_t {
        // SAFETY: null or a subscription; checked.
        let s = unsafe { entity(subscription)? };
        // SAFETY: an rmw out-argument, null or caller-owned storage.
        unsafe { write_out(publisher_count, "publisher_count", s.matched_publishers()) }
    }
}
