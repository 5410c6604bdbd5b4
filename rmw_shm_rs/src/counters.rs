//! Process-wide counters of serializations, deserializations and payload copies, so that
//! "zero-copy" is a tested claim (issue 4). Compiled in with the cargo feature `counters`
//! (off by default); without it every `record_*` function is an empty inline function.
//!
//! What counts:
//! - a serialization: one [`MessageType::serialize`](crate::typesupport::MessageType::serialize)
//!   of a whole C message into CDR (publishing, `rmw_serialize`, a raw sample turned into CDR);
//! - a deserialization: one [`MessageType::deserialize`](crate::typesupport::MessageType::deserialize)
//!   of CDR into a C message (taking, `rmw_deserialize`);
//! - a payload copy: bytes of a message copied as they are, from or into shared memory
//!   (a published CDR buffer, a sample copied into a second lane, a raw C struct copied into a
//!   subscription's message, CDR bytes copied out by `rmw_take_serialized_message`);
//! - a deep copy: one [`MessageType::copy_message`](crate::typesupport::MessageType::copy_message)
//!   of a C message into another (the intra-process path: into the stored message on publish,
//!   out of it on take);
//! - a delegate send: one message handed to the DDS delegate for other hosts.

#[cfg(feature = "counters")]
mod imp {
    use std::sync::atomic::{AtomicU64, Ordering};

    pub static SERIALIZATIONS: AtomicU64 = AtomicU64::new(0);
    pub static DESERIALIZATIONS: AtomicU64 = AtomicU64::new(0);
    pub static COPIES: AtomicU64 = AtomicU64::new(0);
    pub static COPIED_BYTES: AtomicU64 = AtomicU64::new(0);
    pub static DEEP_COPIES: AtomicU64 = AtomicU64::new(0);
    pub static DELEGATE_SENDS: AtomicU64 = AtomicU64::new(0);

    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }
}

/// The counters at one moment (only with the `counters` feature).
#[cfg(feature = "counters")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Messages serialized to CDR.
    pub serializations: u64,
    /// Messages deserialized from CDR.
    pub deserializations: u64,
    /// Payload copies (each a whole message's bytes).
    pub copies: u64,
    /// Bytes copied by those copies.
    pub copied_bytes: u64,
    /// Deep copies of C messages (intra-process path).
    pub deep_copies: u64,
    /// Messages handed to the DDS delegate for other hosts.
    pub delegate_sends: u64,
}

#[cfg(feature = "counters")]
impl Counters {
    /// The counters now.
    pub fn now() -> Self {
        use std::sync::atomic::Ordering::Relaxed;
        Counters {
            serializations: imp::SERIALIZATIONS.load(Relaxed),
            deserializations: imp::DESERIALIZATIONS.load(Relaxed),
            copies: imp::COPIES.load(Relaxed),
            copied_bytes: imp::COPIED_BYTES.load(Relaxed),
            deep_copies: imp::DEEP_COPIES.load(Relaxed),
            delegate_sends: imp::DELEGATE_SENDS.load(Relaxed),
        }
    }

    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &Counters) -> Counters {
        Counters {
            serializations: self.serializations - earlier.serializations,
            deserializations: self.deserializations - earlier.deserializations,
            copies: self.copies - earlier.copies,
            copied_bytes: self.copied_bytes - earlier.copied_bytes,
            deep_copies: self.deep_copies - earlier.deep_copies,
            delegate_sends: self.delegate_sends - earlier.delegate_sends,
        }
    }
}

/// Counts one serialization.
#[inline]
pub fn record_serialization() {
    #[cfg(feature = "counters")]
    imp::add(&imp::SERIALIZATIONS, 1);
}

/// Counts one deserialization.
#[inline]
pub fn record_deserialization() {
    #[cfg(feature = "counters")]
    imp::add(&imp::DESERIALIZATIONS, 1);
}

/// Counts one payload copy of `bytes` bytes.
#[inline]
pub fn record_copy(bytes: usize) {
    #[cfg(feature = "counters")]
    {
        imp::add(&imp::COPIES, 1);
        imp::add(&imp::COPIED_BYTES, bytes as u64);
    }
    #[cfg(not(feature = "counters"))]
    let _ = bytes;
}

/// Counts one deep copy of a C message.
#[inline]
pub fn record_deep_copy() {
    #[cfg(feature = "counters")]
    imp::add(&imp::DEEP_COPIES, 1);
}

/// Counts one message handed to the DDS delegate.
#[inline]
pub fn record_delegate_send() {
    #[cfg(feature = "counters")]
    imp::add(&imp::DELEGATE_SENDS, 1);
}
