//! Delegate service servers and clients: the remote side of our services. The delegate
//! deserializes requests and responses into the caller's C messages with its own type support
//! (rmw has no serialized form for services), and assigns its own request ids, which the
//! entities route (a request is answered on the path it arrived by; a response's sequence
//! number is mapped back to the one our client returned).

use std::ffi::{c_void, CStr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::api::{self, check};
use super::endpoints::{on_new_message, Waker};
use super::DdsNode;
use crate::error::Result;
use crate::sys::*;
use crate::typesupport::{MessageMut, MessageRef};

/// A C service type support handle as rcl passed it (the `rosidl_typesupport_c` dispatcher).
#[derive(Clone, Copy, Debug)]
pub struct ServiceTypeSupportHandle(pub *const rosidl_service_type_support_t);

// SAFETY: type support handles are immutable statics of libraries that are never unloaded.
unsafe impl Send for ServiceTypeSupportHandle {}
// SAFETY: as above.
unsafe impl Sync for ServiceTypeSupportHandle {}

fn waker(notify: Box<dyn Fn() + Send + Sync>) -> Box<Waker> {
    Box::new(Waker {
        pending: AtomicBool::new(false),
        notify,
    })
}

/// Takes with `take` until it yields or is empty, clearing the waker's flag in between so no
/// arrival is missed (as `DdsSubscription::take`).
fn take_flagged<T>(w: &Waker, mut take: impl FnMut() -> Result<Option<T>>) -> Result<Option<T>> {
    if !w.pending.load(Ordering::SeqCst) {
        return Ok(None);
    }
    if let Some(t) = take()? {
        return Ok(Some(t));
    }
    w.pending.store(false, Ordering::SeqCst);
    let t = take()?;
    if t.is_some() {
        w.pending.store(true, Ordering::SeqCst);
    }
    Ok(t)
}

/// `rmw_take_request` / `rmw_take_response`: same shape, different handle.
type TakeFn<H> =
    unsafe extern "C" fn(*const H, *mut rmw_service_info_t, *mut c_void, *mut bool) -> rmw_ret_t;

/// Takes a request or response of the delegate endpoint `ptr` into `msg` with `take`.
fn take_into<H>(
    waker: &Waker,
    take: TakeFn<H>,
    ptr: *const H,
    msg: &mut MessageMut<'_>,
    what: &str,
) -> Result<Option<rmw_service_info_t>> {
    take_flagged(waker, || {
        let mut info = rmw_service_info_t::default();
        let mut taken = false;
        check(
            // SAFETY: a live delegate service or client (the caller's), and `msg` an initialized,
            // writable message of the type that endpoint takes (MessageMut's contract).
            unsafe { take(ptr, &mut info, msg.as_mut_ptr(), &mut taken) },
            what,
        )?;
        Ok(taken.then_some(info))
    })
}

/// A delegate service server.
pub struct DdsService {
    node: Arc<DdsNode>,
    ptr: *mut rmw_service_t,
    waker: Box<Waker>,
}

// SAFETY: used only through the delegate's rmw functions (take and send are thread-safe per
// service in rmw_fastrtps_cpp); destroyed once, in Drop.
unsafe impl Send for DdsService {}
// SAFETY: as above.
unsafe impl Sync for DdsService {}

impl DdsService {
    /// Creates the delegate server of service `name`; `notify` runs when a request arrives.
    pub fn new(
        node: &Arc<DdsNode>,
        ts: ServiceTypeSupportHandle,
        name: &CStr,
        qos: &rmw_qos_profile_t,
        notify: Box<dyn Fn() + Send + Sync>,
    ) -> Result<Self> {
        let d = node.delegate();
        // SAFETY: a live delegate node, a rosidl service type support handle, valid C data.
        let ptr = unsafe { api::rmw_create_service(d)?(node.node, ts.0, name.as_ptr(), qos) };
        if ptr.is_null() {
            check(crate::error::RET_ERROR, "rmw_create_service")?;
        }
        let this = Self {
            node: node.clone(),
            ptr,
            waker: waker(notify),
        };
        let user: *const Waker = &*this.waker;
        check(
            // SAFETY: a live delegate service; `user` lives until Drop unsets the callback.
            unsafe {
                api::rmw_service_set_on_new_request_callback(d)?(
                    ptr,
                    Some(on_new_message),
                    user.cast(),
                )
            },
            "rmw_service_set_on_new_request_callback",
        )?;
        Ok(this)
    }

    /// Whether a request may be waiting.
    pub fn may_have_data(&self) -> bool {
        self.waker.pending.load(Ordering::SeqCst)
    }

    /// Takes a request into `msg` (the service's request type), with the delegate's request id.
    pub fn take_request(&self, msg: &mut MessageMut<'_>) -> Result<Option<rmw_service_info_t>> {
        let f = api::rmw_take_request(self.node.delegate())?;
        take_into(&self.waker, f, self.ptr, msg, "rmw_take_request")
    }

    /// Sends the response to a request taken from the delegate.
    pub fn send_response(&self, id: &rmw_request_id_t, msg: &MessageRef<'_>) -> Result<()> {
        let mut id = *id;
        let f = api::rmw_send_response(self.node.delegate())?;
        // SAFETY: a live delegate service; `msg` is an initialized response message of this
        // service's response type, only read by the delegate.
        check(
            unsafe { f(self.ptr, &mut id, msg.as_ptr().cast_mut()) },
            "rmw_send_response",
        )
    }
}

impl Drop for DdsService {
    fn drop(&mut self) {
        let d = self.node.delegate();
        // SAFETY: unset the callback first, then destroy the service created on this node; once.
        unsafe {
            if let Ok(f) = api::rmw_service_set_on_new_request_callback(d) {
                let _ = f(self.ptr, None, std::ptr::null());
            }
            if let Ok(f) = api::rmw_destroy_service(d) {
                let _ = f(self.node.node, self.ptr);
            }
            rcutils_reset_error();
        }
    }
}

/// A delegate service client.
pub struct DdsClient {
    node: Arc<DdsNode>,
    ptr: *mut rmw_client_t,
    waker: Box<Waker>,
    /// The DDS topic servers read requests from (`rq<service>Request`).
    request_topic: std::ffi::CString,
}

// SAFETY: used only through the delegate's rmw functions; destroyed once, in Drop.
unsafe impl Send for DdsClient {}
// SAFETY: as above.
unsafe impl Sync for DdsClient {}

impl DdsClient {
    /// Creates the delegate client of service `name`; `notify` runs when a response arrives.
    pub fn new(
        node: &Arc<DdsNode>,
        ts: ServiceTypeSupportHandle,
        name: &CStr,
        qos: &rmw_qos_profile_t,
        notify: Box<dyn Fn() + Send + Sync>,
    ) -> Result<Self> {
        let d = node.delegate();
        // SAFETY: a live delegate node, a rosidl service type support handle, valid C data.
        let ptr = unsafe { api::rmw_create_client(d)?(node.node, ts.0, name.as_ptr(), qos) };
        if ptr.is_null() {
            check(crate::error::RET_ERROR, "rmw_create_client")?;
        }
        let mut request = b"rq".to_vec();
        request.extend_from_slice(name.to_bytes());
        request.extend_from_slice(b"Request");
        let this = Self {
            node: node.clone(),
            ptr,
            waker: waker(notify),
            request_topic: std::ffi::CString::new(request).unwrap_or_default(),
        };
        let mut gid = rmw_gid_t::default();
        let learned = api::rmw_get_gid_for_client(d)
            // SAFETY: a live delegate client and an out-struct.
            .is_ok_and(|f| unsafe { f(ptr, &mut gid) } == crate::error::RET_OK);
        if learned {
            node.context()
                .learn_prefix(&gid.data[..16].try_into().unwrap_or([0; 16]));
        }
        let user: *const Waker = &*this.waker;
        check(
            // SAFETY: a live delegate client; `user` lives until Drop unsets the callback.
            unsafe {
                api::rmw_client_set_on_new_response_callback(d)?(
                    ptr,
                    Some(on_new_message),
                    user.cast(),
                )
            },
            "rmw_client_set_on_new_response_callback",
        )?;
        Ok(this)
    }

    /// Whether a server is matched on the DDS side (this host's mirrors included).
    pub fn server_is_available(&self) -> bool {
        let mut available = false;
        api::rmw_service_server_is_available(self.node.delegate()).is_ok_and(
            // SAFETY: live delegate node and client, an out-pointer.
            |f| unsafe { f(self.node.node, self.ptr, &mut available) } == crate::error::RET_OK,
        ) && available
    }

    /// Whether a server other than this host's delegates (`local` prefixes; those servers get
    /// requests by shared memory) is available on the DDS side.
    pub fn remote_server_available(&self, local: &super::LocalPrefixes) -> bool {
        if !self.server_is_available() {
            return false;
        }
        let d = self.node.delegate();
        let Ok(query) = api::rmw_get_subscriptions_info_by_topic(d) else {
            return true;
        };
        match super::endpoints::endpoint_entries(&self.node, &self.request_topic, query, true) {
            Ok(readers) => readers
                .iter()
                .any(|(_, _, g)| !local.1.iter().any(|p| g.starts_with(p))),
            Err(_) => true,
        }
    }

    /// Sends a request; returns the delegate's sequence number for it.
    pub fn send_request(&self, msg: &MessageRef<'_>) -> Result<i64> {
        let mut sequence = 0i64;
        let f = api::rmw_send_request(self.node.delegate())?;
        check(
            // SAFETY: a live delegate client; `msg` is an initialized request message of this
            // service's request type, only read.
            unsafe { f(self.ptr, msg.as_ptr(), &mut sequence) },
            "rmw_send_request",
        )?;
        Ok(sequence)
    }

    /// Whether a response may be waiting.
    pub fn may_have_data(&self) -> bool {
        self.waker.pending.load(Ordering::SeqCst)
    }

    /// Takes a response into `msg` (the service's response type), with the delegate's ids.
    pub fn take_response(&self, msg: &mut MessageMut<'_>) -> Result<Option<rmw_service_info_t>> {
        let f = api::rmw_take_response(self.node.delegate())?;
        take_into(&self.waker, f, self.ptr, msg, "rmw_take_response")
    }
}

impl Drop for DdsClient {
    fn drop(&mut self) {
        let d = self.node.delegate();
        // SAFETY: unset the callback first, then destroy the client created on this node; once.
        unsafe {
            if let Ok(f) = api::rmw_client_set_on_new_response_callback(d) {
                let _ = f(self.ptr, None, std::ptr::null());
            }
            if let Ok(f) = api::rmw_destroy_client(d) {
                let _ = f(self.node.node, self.ptr);
            }
            rcutils_reset_error();
        }
    }
}
