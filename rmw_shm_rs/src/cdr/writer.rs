//! CDR writer into caller-provided (possibly uninitialized) memory, and the matching size counter.

use core::mem::MaybeUninit;

use super::{padding, CdrError, ENCAPSULATION_CDR_LE, HEADER_LEN};

/// Counts the exact encoded size of a message without writing anything.
///
/// It follows the same alignment rules as [`CdrWriter`]; the total it reports includes the
/// 4-byte encapsulation header.
#[derive(Debug, Clone, Copy)]
pub struct SizeCounter {
    /// Body offset (bytes after the header).
    body: usize,
}

impl Default for SizeCounter {
    fn default() -> Self {
        Self::new()
    }
}

impl SizeCounter {
    /// A counter positioned right after the encapsulation header.
    pub fn new() -> Self {
        Self { body: 0 }
    }

    /// Accounts for alignment to `align` (1, 2, 4 or 8) followed by `len` bytes.
    #[inline]
    pub fn add(&mut self, align: usize, len: usize) {
        self.body += padding(self.body, align) + len;
    }

    /// Accounts for a `u32` length or count prefix.
    #[inline]
    pub fn add_u32(&mut self) {
        self.add(4, 4);
    }

    /// Accounts for a CDR string of `len` characters (prefix, characters, terminating NUL).
    #[inline]
    pub fn add_string(&mut self, len: usize) {
        self.add_u32();
        self.body += len + 1;
    }

    /// Total size in bytes so far, header included.
    pub fn total(&self) -> usize {
        HEADER_LEN + self.body
    }
}

/// Writes CDR little-endian data into a byte buffer the caller owns.
///
/// The buffer may be uninitialized (e.g. a loaned shared-memory sample); every byte in
/// `buf[..position()]` is initialized by the writer, padding included (zeros). A write that does
/// not fit fails with [`CdrError::BufferTooSmall`] and leaves the writer where it was.
pub struct CdrWriter<'a> {
    buf: &'a mut [MaybeUninit<u8>],
    pos: usize,
}

impl<'a> CdrWriter<'a> {
    /// Starts a payload: writes the encapsulation header `00 01 00 00` at `buf[0..4]`.
    ///
    /// # Errors
    /// [`CdrError::BufferTooSmall`] when `buf` is shorter than the header.
    pub fn new(buf: &'a mut [MaybeUninit<u8>]) -> Result<Self, CdrError> {
        let mut w = Self { buf, pos: 0 };
        w.put(&ENCAPSULATION_CDR_LE, 0)?;
        Ok(w)
    }

    /// Bytes written so far, header included; `buf[..position()]` is initialized.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Writes `pad` zero bytes then `bytes`, or nothing if both do not fit.
    #[inline]
    fn put(&mut self, bytes: &[u8], pad: usize) -> Result<(), CdrError> {
        let end = self.pos + pad + bytes.len();
        if end > self.buf.len() {
            return Err(CdrError::BufferTooSmall {
                needed: end,
                capacity: self.buf.len(),
            });
        }
        let (zeros, dst) = self.buf[self.pos..end].split_at_mut(pad);
        for z in zeros {
            z.write(0);
        }
        // A zip of `write`s compiles to a memcpy; it keeps this module free of `unsafe`.
        for (d, s) in dst.iter_mut().zip(bytes) {
            d.write(*s);
        }
        self.pos = end;
        Ok(())
    }

    /// Aligns to `align` (1, 2, 4 or 8, counted from the end of the header) and writes `bytes`
    /// verbatim. Used for single primitives (`to_le_bytes`) and for bulk little-endian arrays.
    ///
    /// # Errors
    /// [`CdrError::BufferTooSmall`].
    #[inline]
    pub fn write_aligned(&mut self, align: usize, bytes: &[u8]) -> Result<(), CdrError> {
        let pad = padding(self.pos - HEADER_LEN, align);
        self.put(bytes, pad)
    }

    /// Writes `bytes` (no alignment: bools are 1 byte) with each byte mapped to 0 or 1.
    ///
    /// # Errors
    /// [`CdrError::BufferTooSmall`].
    pub fn write_bools(&mut self, bytes: &[u8]) -> Result<(), CdrError> {
        let end = self.pos + bytes.len();
        if end > self.buf.len() {
            return Err(CdrError::BufferTooSmall {
                needed: end,
                capacity: self.buf.len(),
            });
        }
        for (d, s) in self.buf[self.pos..end].iter_mut().zip(bytes) {
            d.write(u8::from(*s != 0));
        }
        self.pos = end;
        Ok(())
    }

    /// Writes a `u32` (aligned to 4).
    ///
    /// # Errors
    /// [`CdrError::BufferTooSmall`].
    #[inline]
    pub fn write_u32(&mut self, v: u32) -> Result<(), CdrError> {
        self.write_aligned(4, &v.to_le_bytes())
    }

    /// Writes a length or count prefix, failing if it does not fit in a `u32`.
    ///
    /// # Errors
    /// [`CdrError::LengthTooLarge`] above `u32::MAX`; [`CdrError::BufferTooSmall`].
    #[inline]
    pub fn write_len(&mut self, len: usize) -> Result<(), CdrError> {
        let v = u32::try_from(len).map_err(|_| CdrError::LengthTooLarge {
            count: len as u64,
            min_element_size: 1,
            remaining: u32::MAX as usize,
        })?;
        self.write_u32(v)
    }

    /// Writes a CDR string: `u32` length including the terminating NUL, the bytes, a NUL.
    ///
    /// # Errors
    /// [`CdrError::LengthTooLarge`]; [`CdrError::BufferTooSmall`].
    pub fn write_string_bytes(&mut self, chars: &[u8]) -> Result<(), CdrError> {
        self.write_len(chars.len() + 1)?;
        self.write_aligned(1, chars)?;
        self.write_aligned(1, &[0])
    }

    /// Finishes the payload and returns its length in bytes (header included).
    pub fn finish(self) -> usize {
        self.pos
    }
}
