//! Bounds-checked CDR little-endian reader.

use super::{padding, CdrError, HEADER_LEN};

/// Reads a CDR little-endian payload (header included) from a borrowed byte slice.
///
/// Every read checks the remaining length first and fails with [`CdrError::Truncated`] instead
/// of reading past the end; counts read from the input are validated with
/// [`CdrReader::check_count`] before the caller allocates for them. Bytes after the last value
/// (e.g. trailing alignment padding) are ignored.
#[derive(Debug, Clone)]
pub struct CdrReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> CdrReader<'a> {
    /// Checks the encapsulation header and positions the reader at the start of the body.
    ///
    /// Accepted: representation id `00 01` (CDR little endian); the two option bytes are
    /// ignored (XCDR1 writers put zero there).
    ///
    /// # Errors
    /// [`CdrError::BadEncapsulation`] for a short input or another representation (big-endian
    /// CDR, parameter lists, XCDR2).
    pub fn new(buf: &'a [u8]) -> Result<Self, CdrError> {
        let Some(header) = buf.get(..HEADER_LEN) else {
            let mut h = [0u8; 4];
            h[..buf.len()].copy_from_slice(buf);
            return Err(CdrError::BadEncapsulation(h));
        };
        if header[0] != 0x00 || header[1] != 0x01 {
            return Err(CdrError::BadEncapsulation([
                header[0], header[1], header[2], header[3],
            ]));
        }
        Ok(Self {
            buf,
            pos: HEADER_LEN,
        })
    }

    /// Bytes left after the current position.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Current position in the input (header included).
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Skips alignment padding to `align` (1, 2, 4 or 8) and returns the next `len` bytes.
    ///
    /// # Errors
    /// [`CdrError::Truncated`] when padding plus `len` exceed what remains; the position is
    /// unchanged then.
    #[inline]
    pub fn read_aligned(&mut self, align: usize, len: usize) -> Result<&'a [u8], CdrError> {
        let pad = padding(self.pos - HEADER_LEN, align);
        let needed = pad.saturating_add(len);
        if needed > self.remaining() {
            return Err(CdrError::Truncated {
                needed,
                remaining: self.remaining(),
            });
        }
        let start = self.pos + pad;
        self.pos = start + len;
        Ok(&self.buf[start..start + len])
    }

    /// Reads `N` bytes aligned to `align` into an array.
    ///
    /// # Errors
    /// [`CdrError::Truncated`].
    #[inline]
    pub fn read_array<const N: usize>(&mut self, align: usize) -> Result<[u8; N], CdrError> {
        let b = self.read_aligned(align, N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    /// Reads a `u32` (aligned to 4).
    ///
    /// # Errors
    /// [`CdrError::Truncated`].
    #[inline]
    pub fn read_u32(&mut self) -> Result<u32, CdrError> {
        Ok(u32::from_le_bytes(self.read_array::<4>(4)?))
    }

    /// Checks that `count` elements of at least `min_element_size` encoded bytes each can still
    /// be present in the input. Call this before allocating for a count read from the input.
    ///
    /// `min_element_size` of 0 is treated as 1, so a hostile count is still bounded by the input.
    ///
    /// # Errors
    /// [`CdrError::LengthTooLarge`].
    #[inline]
    pub fn check_count(&self, count: u64, min_element_size: usize) -> Result<(), CdrError> {
        let min = min_element_size.max(1) as u64;
        match count.checked_mul(min) {
            Some(total) if total <= self.remaining() as u64 => Ok(()),
            _ => Err(CdrError::LengthTooLarge {
                count,
                min_element_size: min as usize,
                remaining: self.remaining(),
            }),
        }
    }

    /// Reads a sequence or string length prefix and validates it with
    /// [`check_count`](Self::check_count) against `min_element_size`.
    ///
    /// # Errors
    /// [`CdrError::Truncated`], [`CdrError::LengthTooLarge`].
    #[inline]
    pub fn read_count(&mut self, min_element_size: usize) -> Result<usize, CdrError> {
        let n = self.read_u32()?;
        self.check_count(u64::from(n), min_element_size)?;
        Ok(n as usize)
    }

    /// Reads a CDR string body: `u32` length (including the terminating NUL), then the bytes.
    /// Returns the characters without the terminating NUL. A length of 0 (which some writers
    /// use for an empty string) and a missing final NUL are accepted, as Fast CDR does.
    ///
    /// # Errors
    /// [`CdrError::Truncated`], [`CdrError::LengthTooLarge`].
    pub fn read_string_bytes(&mut self) -> Result<&'a [u8], CdrError> {
        let n = self.read_count(1)?;
        let bytes = self.read_aligned(1, n)?;
        Ok(match bytes.split_last() {
            Some((0, chars)) => chars,
            _ => bytes,
        })
    }
}
