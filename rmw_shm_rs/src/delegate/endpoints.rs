//! Delegate publishers and subscriptions: the remote side of one of our endpoints, on the same
//! topic with the same QoS, carrying the CDR bytes our codec writes and reads.
//!
//! Thread-safety: publishing and the matched queries may run from any thread (rmw.h); takes are
//! serialized by a mutex around the reusable serialized-message buffer.

use std::collections::HashSet;
use std::ffi::{c_void, CStr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::api::{self, check};
use super::DdsNode;
use crate::error::{Error, Result};
use crate::sys::*;

/// A C type support handle as rcl passed it (the `rosidl_typesupport_c` dispatcher): the
/// delegate resolves its own type support (rosidl_typesupport_fastrtps_c) from it.
#[derive(Clone, Copy, Debug)]
pub struct TypeSupportHandle(pub *const rosidl_message_type_support_t);

// SAFETY: type support handles are immutable statics of libraries that are never unloaded.
unsafe impl Send for TypeSupportHandle {}
// SAFETY: as above.
unsafe impl Sync for TypeSupportHandle {}

/// A delegate publisher.
pub struct DdsPublisher {
    node: Arc<DdsNode>,
    ptr: *mut rmw_publisher_t,
    gid: [u8; 16],
    topic: std::ffi::CString,
    remote: RemoteCount,
}

// SAFETY: the publisher is used only through the delegate's thread-safe rmw functions and
// destroyed once, in Drop.
unsafe impl Send for DdsPublisher {}
// SAFETY: as above.
unsafe impl Sync for DdsPublisher {}

impl DdsPublisher {
    /// Creates the delegate publisher of `topic` (the ROS name) with `qos`.
    pub fn new(
        node: &Arc<DdsNode>,
        ts: TypeSupportHandle,
        topic: &CStr,
        qos: &rmw_qos_profile_t,
    ) -> Result<Self> {
        let d = node.delegate();
        // SAFETY: librmw's helper; returns a struct by value.
        let options = unsafe { rmw_get_default_publisher_options() };
        // SAFETY: a live delegate node, a rosidl type support handle, valid strings and structs.
        let ptr = unsafe {
            api::rmw_create_publisher(d)?(node.node, ts.0, topic.as_ptr(), qos, &options)
        };
        if ptr.is_null() {
            check(crate::error::RET_ERROR, "rmw_create_publisher")?;
        }
        let mut gid = rmw_gid_t::default();
        // SAFETY: a live delegate publisher and an out-struct.
        let r = unsafe { api::rmw_get_gid_for_publisher(d)?(ptr, &mut gid) };
        let mut this = Self {
            node: node.clone(),
            ptr,
            gid: [0; 16],
            topic: topic.to_owned(),
            remote: RemoteCount::default(),
        };
        check(r, "rmw_get_gid_for_publisher")?;
        this.gid = gid.data[..16].try_into().unwrap_or([0; 16]);
        node.context.learn_prefix(&this.gid);
        Ok(this)
    }

    /// The delegate publisher's GID (what remote subscriptions see as `publisher_gid`).
    pub fn gid(&self) -> [u8; 16] {
        self.gid
    }

    /// Publishes CDR bytes (encapsulation header included) as they are.
    pub fn publish(&self, cdr: &[u8]) -> Result<()> {
        let msg = rmw_serialized_message_t {
            buffer: cdr.as_ptr().cast_mut(),
            buffer_length: cdr.len(),
            buffer_capacity: cdr.len(),
            // SAFETY: returns the default allocator by value (never used: the delegate only
            // reads the buffer).
            allocator: unsafe { rcutils_get_default_allocator() },
        };
        let f = api::rmw_publish_serialized_message(self.node.delegate())?;
        crate::counters::record_delegate_send();
        // SAFETY: a live delegate publisher; `msg` borrows `cdr` for the call only.
        check(
            unsafe { f(self.ptr, &msg, std::ptr::null_mut()) },
            "rmw_publish_serialized_message",
        )
    }

    /// Number of matched subscriptions other than the mirrors of `local` (the DDS participant
    /// prefixes of the rmw_shm_rs processes on this host, which shared memory serves).
    pub fn remote_matched(&self, local: &LocalPrefixes) -> usize {
        let d = self.node.delegate();
        self.remote.count(
            &self.node,
            &self.topic,
            local,
            (api::rmw_publisher_count_matched_subscriptions(d), self.ptr),
            api::rmw_get_subscriptions_info_by_topic(d),
        )
    }

    /// Whether a subscription other than this host's mirrors is matched: then publishes go to
    /// the delegate, else the send is skipped.
    pub fn remote_needed(&self, local: &LocalPrefixes) -> bool {
        self.remote_matched(local) > 0
    }
}

/// Cache of "how many matched peers are remote": recomputed from the delegate's graph only when
/// its matched count changes or the local graph changed.
#[derive(Default)]
struct RemoteCount(Mutex<Option<(usize, u64, usize)>>);

/// This host's delegates' DDS participant prefixes, with the generation of that set.
pub type LocalPrefixes = (u64, Arc<HashSet<[u8; 12]>>);

/// An endpoint's matched-count function with the endpoint.
type MatchedCount<H> = (
    Result<unsafe extern "C" fn(*const H, *mut usize) -> rmw_ret_t>,
    *const H,
);

impl RemoteCount {
    /// Matched peers of a delegate endpoint that are not this host's delegates; the peers'
    /// GIDs come from `query` (the other side's info by topic) when the count changed.
    fn count<H>(
        &self,
        node: &DdsNode,
        topic: &CStr,
        local: &LocalPrefixes,
        (matched_fn, ptr): MatchedCount<H>,
        query: Result<InfoByTopic>,
    ) -> usize {
        let mut matched = 0usize;
        // SAFETY: a live delegate endpoint (the caller's) and an out-pointer.
        let counted =
            matched_fn.is_ok_and(|f| unsafe { f(ptr, &mut matched) } == crate::error::RET_OK);
        if !counted {
            return 0;
        }
        self.get(matched, local, || endpoint_gids(node, topic, query?))
    }

    fn get(
        &self,
        matched: usize,
        (generation, local): &LocalPrefixes,
        gids: impl FnOnce() -> Result<Vec<[u8; 16]>>,
    ) -> usize {
        let mut cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((m, g, remote)) = *cache {
            if m == matched && g == *generation {
                return remote;
            }
        }
        if matched == 0 {
            *cache = Some((0, *generation, 0));
            return 0;
        }
        // The delegate's graph can list a peer later than DDS matches it (Fast DDS matches,
        // then rmw_fastrtps updates its graph; with a TypeLookup round trip in between, a
        // while later). A matched peer it does not list yet could be on another host: it is
        // counted as remote, and the count is not kept, so the next call looks again. A copy
        // too many reaches only a mirror, which drops samples of this host's prefixes; one too
        // few would be a message lost.
        let Ok(gids) = gids() else {
            return matched;
        };
        let listed_remote = gids
            .iter()
            .filter(|g| !local.iter().any(|p| g.starts_with(p)))
            .count();
        let unlisted = matched.saturating_sub(gids.len());
        let remote = (listed_remote + unlisted).min(matched);
        if unlisted == 0 {
            *cache = Some((matched, *generation, remote));
        }
        remote
    }
}

type InfoByTopic = unsafe extern "C" fn(
    *const rmw_node_t,
    *mut rcutils_allocator_t,
    *const std::ffi::c_char,
    bool,
    *mut rmw_topic_endpoint_info_array_t,
) -> rmw_ret_t;

/// GIDs of the endpoints `query` (the delegate's publishers or subscriptions info by topic)
/// lists on `topic`.
fn endpoint_gids(node: &DdsNode, topic: &CStr, query: InfoByTopic) -> Result<Vec<[u8; 16]>> {
    Ok(endpoint_entries(node, topic, query, false)?
        .into_iter()
        .map(|(_, _, g)| g)
        .collect())
}

/// (node name, namespace, GID) of the endpoints `query` lists on `topic` (a DDS topic name
/// as it is when `no_mangle`, else a ROS name).
pub(super) fn endpoint_entries(
    node: &DdsNode,
    topic: &CStr,
    query: InfoByTopic,
    no_mangle: bool,
) -> Result<Vec<(std::ffi::CString, std::ffi::CString, [u8; 16])>> {
    // SAFETY: zero-initialized array and the default allocator, as the API wants them.
    let (mut arr, mut alloc) = unsafe {
        (
            rmw_get_zero_initialized_topic_endpoint_info_array(),
            rcutils_get_default_allocator(),
        )
    };
    check(
        // SAFETY: a live delegate node, valid allocator, topic and out-array.
        unsafe { query(node.node, &mut alloc, topic.as_ptr(), no_mangle, &mut arr) },
        "endpoint info by topic",
    )?;
    let owned = |p: *const std::ffi::c_char| {
        if p.is_null() {
            std::ffi::CString::default()
        } else {
            // SAFETY: a C string owned by the array.
            unsafe { CStr::from_ptr(p) }.to_owned()
        }
    };
    let entries = (0..arr.size)
        .map(|i| {
            // SAFETY: the array holds `size` initialized entries.
            let info = unsafe { &*arr.info_array.add(i) };
            (
                owned(info.node_name),
                owned(info.node_namespace),
                info.endpoint_gid,
            )
        })
        .collect();
    // SAFETY: an array filled by the delegate with this allocator.
    unsafe { rmw_topic_endpoint_info_array_fini(&mut arr, &mut alloc) };
    Ok(entries)
}

impl Drop for DdsPublisher {
    fn drop(&mut self) {
        // SAFETY: created by the delegate on this node; destroyed once.
        unsafe {
            if let Ok(f) = api::rmw_destroy_publisher(self.node.delegate()) {
                let _ = f(self.node.node, self.ptr);
            }
            rcutils_reset_error();
        }
    }
}

/// Set by the delegate's new-message (request, response) callback; wakes our wait sets
/// through `notify`.
pub(super) struct Waker {
    pub(super) pending: AtomicBool,
    pub(super) notify: Box<dyn Fn() + Send + Sync>,
}

/// The callback given to the delegate: `user_data` is a [`Waker`].
pub(super) unsafe extern "C" fn on_new_message(user_data: *const c_void, _count: usize) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: `user_data` is the Waker boxed in the DdsSubscription, which unsets the callback
        // before freeing it. A panic must not unwind into the delegate.
        let w = unsafe { &*user_data.cast::<Waker>() };
        w.pending.store(true, Ordering::SeqCst);
        (w.notify)();
    });
}

/// The reusable buffer the delegate writes serialized messages into.
struct Buffer(rmw_serialized_message_t);

// SAFETY: owned bytes behind a mutex; freed once, in Drop.
unsafe impl Send for Buffer {}

impl Drop for Buffer {
    fn drop(&mut self) {
        // SAFETY: initialized by rcutils_uint8_array_init in `DdsSubscription::new`.
        unsafe { rcutils_uint8_array_fini(&mut self.0) };
    }
}

/// A sample taken from the delegate: its CDR bytes (borrowed from the subscription's buffer)
/// and the delegate's message info.
pub struct RemoteSample<'a> {
    buf: MutexGuard<'a, Buffer>,
    /// As the delegate filled it (publisher GID, sequence numbers, timestamps).
    pub info: rmw_message_info_t,
}

impl RemoteSample<'_> {
    /// The CDR bytes, encapsulation header included.
    pub fn bytes(&self) -> &[u8] {
        let b = &self.buf.0;
        if b.buffer.is_null() {
            return &[];
        }
        // SAFETY: the delegate wrote `buffer_length` bytes into the buffer it owns (resized
        // with the array's allocator), unchanged while the guard is held.
        unsafe { std::slice::from_raw_parts(b.buffer, b.buffer_length) }
    }

    /// The remote publisher's GID.
    pub fn publisher_gid(&self) -> [u8; 16] {
        self.info.publisher_gid.data[..16]
            .try_into()
            .unwrap_or([0; 16])
    }
}

/// A delegate subscription.
pub struct DdsSubscription {
    node: Arc<DdsNode>,
    ptr: *mut rmw_subscription_t,
    topic: std::ffi::CString,
    remote: RemoteCount,
    buf: Mutex<Buffer>,
    waker: Box<Waker>,
}

// SAFETY: the subscription is used through the delegate's rmw functions; takes are serialized by
// `buf`'s mutex; destroyed once, in Drop.
unsafe impl Send for DdsSubscription {}
// SAFETY: as above.
unsafe impl Sync for DdsSubscription {}

impl DdsSubscription {
    /// Creates the delegate subscription of `topic` with `qos`; `notify` runs (on a delegate
    /// thread) whenever a sample arrives.
    pub fn new(
        node: &Arc<DdsNode>,
        ts: TypeSupportHandle,
        topic: &CStr,
        qos: &rmw_qos_profile_t,
        notify: Box<dyn Fn() + Send + Sync>,
    ) -> Result<Self> {
        let d = node.delegate();
        // SAFETY: librmw's helper; returns a struct by value.
        let options = unsafe { rmw_get_default_subscription_options() };
        // SAFETY: a live delegate node, a rosidl type support handle, valid strings and structs.
        let ptr = unsafe {
            api::rmw_create_subscription(d)?(node.node, ts.0, topic.as_ptr(), qos, &options)
        };
        if ptr.is_null() {
            check(crate::error::RET_ERROR, "rmw_create_subscription")?;
        }
        // SAFETY: a zero-initialized array and the default allocator.
        let mut raw = unsafe { rcutils_get_zero_initialized_uint8_array() };
        // SAFETY: as above.
        let alloc = unsafe { rcutils_get_default_allocator() };
        // SAFETY: initializes the array with a 4 KiB buffer from the default allocator.
        if unsafe { rcutils_uint8_array_init(&mut raw, 4096, &alloc) } != 0 {
            return Err(Error::BadAlloc(
                "cannot allocate a serialized-message buffer".into(),
            ));
        }
        let this = Self {
            node: node.clone(),
            ptr,
            topic: topic.to_owned(),
            remote: RemoteCount::default(),
            buf: Mutex::new(Buffer(raw)),
            waker: Box::new(Waker {
                pending: AtomicBool::new(false),
                notify,
            }),
        };
        if node.context.prefix().is_none() {
            this.learn_prefix_from_graph();
        }
        let user: *const Waker = &*this.waker;
        check(
            // SAFETY: a live delegate subscription; `user` lives until Drop unsets the callback.
            unsafe {
                api::rmw_subscription_set_on_new_message_callback(d)?(
                    ptr,
                    Some(on_new_message),
                    user.cast(),
                )
            },
            "rmw_subscription_set_on_new_message_callback",
        )?;
        Ok(this)
    }

    /// Learns the delegate's participant prefix from this subscription's own entry in the
    /// delegate's graph (rmw_fastrtps_cpp lists its own endpoints as soon as they exist).
    fn learn_prefix_from_graph(&self) {
        let d = self.node.delegate();
        let Ok(query) = api::rmw_get_subscriptions_info_by_topic(d) else {
            return;
        };
        if let Ok(entries) = endpoint_entries(&self.node, &self.topic, query, false) {
            if let Some((_, _, gid)) = entries
                .iter()
                .find(|(n, ns, _)| *n == self.node.name && *ns == self.node.namespace)
            {
                self.node.context.learn_prefix(gid);
            }
        }
    }

    /// Number of matched publishers other than the mirrors of `local` (this host's
    /// rmw_shm_rs processes).
    pub fn remote_matched(&self, local: &LocalPrefixes) -> usize {
        let d = self.node.delegate();
        self.remote.count(
            &self.node,
            &self.topic,
            local,
            (api::rmw_subscription_count_matched_publishers(d), self.ptr),
            api::rmw_get_publishers_info_by_topic(d),
        )
    }

    /// Whether the delegate may have a sample (a new-message callback came since the last
    /// empty take).
    pub fn may_have_data(&self) -> bool {
        self.waker.pending.load(Ordering::SeqCst)
    }

    fn take_once(&self, buf: &mut Buffer) -> Result<Option<rmw_message_info_t>> {
        let mut taken = false;
        let mut info = rmw_message_info_t::default();
        let f = api::rmw_take_serialized_message_with_info(self.node.delegate())?;
        check(
            // SAFETY: a live delegate subscription, an initialized buffer, out-pointers.
            unsafe {
                f(
                    self.ptr,
                    &mut buf.0,
                    &mut taken,
                    &mut info,
                    std::ptr::null_mut(),
                )
            },
            "rmw_take_serialized_message_with_info",
        )?;
        Ok(taken.then_some(info))
    }

    /// Takes the next sample, if any.
    pub fn take(&self) -> Result<Option<RemoteSample<'_>>> {
        if !self.may_have_data() {
            return Ok(None);
        }
        let mut buf = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(info) = self.take_once(&mut buf)? {
            return Ok(Some(RemoteSample { buf, info }));
        }
        // Empty: clear the flag, then look once more so a sample that arrived in between is
        // not left behind until the next one.
        self.waker.pending.store(false, Ordering::SeqCst);
        match self.take_once(&mut buf)? {
            Some(info) => {
                self.waker.pending.store(true, Ordering::SeqCst);
                Ok(Some(RemoteSample { buf, info }))
            }
            None => Ok(None),
        }
    }
}

impl Drop for DdsSubscription {
    fn drop(&mut self) {
        let d = self.node.delegate();
        // SAFETY: unset the callback first (the delegate then no longer uses the waker), then
        // destroy the subscription created on this node; once.
        unsafe {
            if let Ok(f) = api::rmw_subscription_set_on_new_message_callback(d) {
                let _ = f(self.ptr, None, std::ptr::null());
            }
            if let Ok(f) = api::rmw_destroy_subscription(d) {
                let _ = f(self.node.node, self.ptr);
            }
            rcutils_reset_error();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: [u8; 12] = [1; 12];
    const REMOTE: [u8; 12] = [2; 12];

    fn gid(prefix: [u8; 12], n: u8) -> [u8; 16] {
        let mut g = [n; 16];
        g[..12].copy_from_slice(&prefix);
        g
    }

    fn local() -> LocalPrefixes {
        (1, Arc::new([LOCAL].into_iter().collect()))
    }

    #[test]
    fn a_matched_peer_the_graph_does_not_list_yet_counts_as_remote_until_it_does() {
        let count = RemoteCount::default();
        // DDS matched one reader, the graph lists none yet: it may be remote, so send.
        assert_eq!(count.get(1, &local(), || Ok(vec![])), 1);
        // Not kept: once listed as this host's mirror, it is not remote.
        assert_eq!(count.get(1, &local(), || Ok(vec![gid(LOCAL, 1)])), 0);
        // Kept now that every matched peer is listed (the query is not run again).
        assert_eq!(count.get(1, &local(), || panic!("cached")), 0);
    }

    #[test]
    fn listed_peers_are_split_into_mirrors_and_remote_ones() {
        let count = RemoteCount::default();
        let listed = vec![gid(LOCAL, 1), gid(REMOTE, 2), gid(LOCAL, 3)];
        assert_eq!(count.get(3, &local(), || Ok(listed.clone())), 1);
        // Two mirrors listed, a third matched peer not yet: counted as remote.
        let count = RemoteCount::default();
        assert_eq!(
            count.get(3, &local(), || Ok(vec![gid(LOCAL, 1), gid(LOCAL, 3)])),
            1
        );
        // A failed query counts every matched peer as remote.
        let count = RemoteCount::default();
        assert_eq!(count.get(2, &local(), || Err(Error::invalid("graph"))), 2);
        assert_eq!(count.get(0, &local(), || panic!("not needed")), 0);
    }
}
