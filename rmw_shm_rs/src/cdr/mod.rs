//! XCDR1 little-endian (`CDR_LE`) encoding primitives: the encapsulation header, a writer into
//! caller-provided memory, a size counter and a bounds-checked reader.
//!
//! This is the byte-level half of the codec; it knows nothing about ROS messages. The
//! [`typesupport`](crate::typesupport) module walks a message's type plan and drives one of
//! [`SizeCounter`], [`CdrWriter`] or [`CdrReader`] through the same traversal.
//!
//! Encoding rules (as written by rmw_fastrtps_cpp, Fast CDR 2, XCDR1):
//! - a 4-byte encapsulation header `00 01 00 00` ([`ENCAPSULATION_CDR_LE`]) precedes the body;
//! - alignment is counted from the end of that header (body offset 0);
//! - a primitive of 1, 2, 4 or 8 bytes is aligned to its own size (8-byte types to 8);
//! - padding bytes are written as zeros (Fast DDS leaves them uninitialized; readers ignore them).
//!
//! No `unsafe` code lives here; every read is bounds-checked and lengths read from the wire are
//! checked against the bytes that remain before anyone allocates for them.

#![deny(unsafe_code)]

mod reader;
mod writer;

#[cfg(test)]
mod tests;

pub use reader::CdrReader;
pub use writer::{CdrWriter, SizeCounter};

/// Encapsulation header of a plain little-endian CDR (XCDR1) payload: representation id
/// `CDR_LE` (`00 01`) and zero options.
pub const ENCAPSULATION_CDR_LE: [u8; 4] = [0x00, 0x01, 0x00, 0x00];

/// Size in bytes of the encapsulation header that starts every serialized message.
pub const HEADER_LEN: usize = 4;

/// Errors of CDR encoding and decoding.
///
/// Decoding errors describe malformed or hostile input and never come with a partial read past
/// the end of the input; encoding errors describe a message that cannot be represented (a
/// bound exceeded, a length beyond `u32`) or an output buffer that is too small.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CdrError {
    /// The input ended before a value: `needed` more bytes were required at that point but only
    /// `remaining` were left.
    #[error("CDR input truncated: needed {needed} bytes, {remaining} remaining")]
    Truncated {
        /// Bytes the next value (including its alignment padding) needs.
        needed: usize,
        /// Bytes left in the input.
        remaining: usize,
    },
    /// A length or element count read from the input cannot fit in the bytes that remain
    /// (`count` elements of at least `min_element_size` bytes each), or a length to write does
    /// not fit in the `u32` length field.
    #[error(
        "CDR length {count} too large: {count} x {min_element_size} bytes exceed the {remaining} bytes available"
    )]
    LengthTooLarge {
        /// The element count or length in question.
        count: u64,
        /// Smallest encoded size of one element, in bytes.
        min_element_size: usize,
        /// Bytes available (remaining input when decoding, `u32::MAX` when encoding).
        remaining: usize,
    },
    /// The 4-byte encapsulation header is not `00 01 xx xx` (CDR little endian), or the input
    /// is shorter than a header.
    #[error("unsupported CDR encapsulation header {0:02x?} (expected 00 01 00 00, CDR_LE)")]
    BadEncapsulation([u8; 4]),
    /// A bounded string or bounded sequence holds more elements than its bound, when encoding
    /// or when decoding.
    #[error("field `{field}` has {len} elements, more than its bound {bound}")]
    BoundExceeded {
        /// Name of the message field.
        field: String,
        /// Elements (characters for strings, excluding the terminating NUL) present.
        len: usize,
        /// Declared upper bound.
        bound: usize,
    },
    /// The output buffer is too small: writing needed at least `needed` bytes but the buffer
    /// holds `capacity`. Use the exact size from `serialized_size` to size the buffer.
    #[error("CDR output buffer too small: needed at least {needed} bytes, capacity {capacity}")]
    BufferTooSmall {
        /// Bytes needed so far (a lower bound on the full size).
        needed: usize,
        /// Size of the provided buffer.
        capacity: usize,
    },
    /// A rosidl runtime allocation (sequence resize, string assign) failed while decoding.
    #[error("allocation failed while decoding field `{field}`")]
    Allocation {
        /// Name of the message field.
        field: String,
    },
    /// A wide character on the wire does not fit in the UTF-16 code unit a ROS message stores.
    #[error("wide character {value:#x} in field `{field}` is not a UTF-16 code unit")]
    InvalidWchar {
        /// Name of the message field.
        field: String,
        /// The 32-bit value read.
        value: u32,
    },
    /// The C message itself is inconsistent (e.g. a sequence with a non-zero size and a null
    /// data pointer), so it cannot be encoded.
    #[error("invalid message: field `{field}`: {reason}")]
    InvalidMessage {
        /// Name of the message field.
        field: String,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Number of zero bytes needed to bring body offset `body_pos` to a multiple of `align`
/// (`align` is 1, 2, 4 or 8).
#[inline]
pub(crate) fn padding(body_pos: usize, align: usize) -> usize {
    debug_assert!(align.is_power_of_two());
    body_pos.wrapping_neg() & (align - 1)
}
