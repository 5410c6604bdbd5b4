//! Unit tests of the CDR writer, size counter and reader, including malformed input.

use core::mem::MaybeUninit;

use super::*;

fn write_with(
    cap: usize,
    f: impl FnOnce(&mut CdrWriter<'_>) -> Result<(), CdrError>,
) -> Result<Vec<u8>, CdrError> {
    // Start from garbage so that a byte the writer skipped would show.
    let mut buf = vec![MaybeUninit::new(0xAAu8); cap];
    let mut w = CdrWriter::new(&mut buf)?;
    f(&mut w)?;
    let n = w.finish();
    Ok(buf[..n].iter().map(read_init).collect())
}

#[allow(unsafe_code)]
fn read_init(b: &MaybeUninit<u8>) -> u8 {
    // SAFETY: `write_with` initialized every slot (0xAA) before handing the buffer out.
    unsafe { b.assume_init() }
}

#[test]
fn header_and_primitives_alignment() {
    let bytes = write_with(64, |w| {
        w.write_aligned(1, &[0x11])?; // body 0
        w.write_aligned(4, &1.5f32.to_le_bytes())?; // pad 3, body 4..8
        w.write_aligned(1, &[0x22])?; // body 8
        w.write_aligned(8, &(-2i64).to_le_bytes())?; // pad 7, body 16..24
        w.write_aligned(2, &0x3344u16.to_le_bytes()) // body 24..26
    })
    .unwrap();
    let mut expected = vec![0x00, 0x01, 0x00, 0x00, 0x11, 0, 0, 0];
    expected.extend_from_slice(&1.5f32.to_le_bytes());
    expected.extend_from_slice(&[0x22, 0, 0, 0, 0, 0, 0, 0]);
    expected.extend_from_slice(&(-2i64).to_le_bytes());
    expected.extend_from_slice(&[0x44, 0x33]);
    assert_eq!(bytes, expected);

    let mut c = SizeCounter::new();
    c.add(1, 1);
    c.add(4, 4);
    c.add(1, 1);
    c.add(8, 8);
    c.add(2, 2);
    assert_eq!(c.total(), expected.len());

    let mut r = CdrReader::new(&expected).unwrap();
    assert_eq!(r.read_aligned(1, 1).unwrap(), &[0x11]);
    assert_eq!(f32::from_le_bytes(r.read_array::<4>(4).unwrap()), 1.5);
    assert_eq!(r.read_aligned(1, 1).unwrap(), &[0x22]);
    assert_eq!(i64::from_le_bytes(r.read_array::<8>(8).unwrap()), -2);
    assert_eq!(u16::from_le_bytes(r.read_array::<2>(2).unwrap()), 0x3344);
    assert_eq!(r.remaining(), 0);
}

#[test]
fn strings_and_bools() {
    let bytes = write_with(64, |w| {
        w.write_string_bytes(b"hi")?;
        w.write_bools(&[0, 1, 7])?;
        w.write_string_bytes(b"")
    })
    .unwrap();
    assert_eq!(
        bytes,
        [0, 1, 0, 0, 3, 0, 0, 0, b'h', b'i', 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    );
    let mut c = SizeCounter::new();
    c.add_string(2);
    c.add(1, 3);
    c.add_string(0);
    assert_eq!(c.total(), bytes.len());

    let mut r = CdrReader::new(&bytes).unwrap();
    assert_eq!(r.read_string_bytes().unwrap(), b"hi");
    assert_eq!(r.read_aligned(1, 3).unwrap(), &[0, 1, 1]);
    assert_eq!(r.read_string_bytes().unwrap(), b"");
}

#[test]
fn lenient_string_forms() {
    // Length 0 and a missing terminating NUL are both accepted.
    let mut r = CdrReader::new(&[0, 1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, b'a', b'b']).unwrap();
    assert_eq!(r.read_string_bytes().unwrap(), b"");
    assert_eq!(r.read_string_bytes().unwrap(), b"ab");
}

#[test]
fn buffer_too_small() {
    let mut tiny = [MaybeUninit::<u8>::uninit(); 3];
    assert_eq!(
        CdrWriter::new(&mut tiny).err(),
        Some(CdrError::BufferTooSmall {
            needed: 4,
            capacity: 3
        })
    );
    let err = write_with(9, |w| w.write_aligned(8, &[0; 8])).unwrap_err();
    assert_eq!(
        err,
        CdrError::BufferTooSmall {
            needed: 12,
            capacity: 9
        }
    );
    let err = write_with(10, |w| w.write_string_bytes(b"hello")).unwrap_err();
    assert!(matches!(err, CdrError::BufferTooSmall { .. }));
}

#[test]
fn bad_headers() {
    assert_eq!(
        CdrReader::new(&[]).err(),
        Some(CdrError::BadEncapsulation([0; 4]))
    );
    assert_eq!(
        CdrReader::new(&[0, 1]).err(),
        Some(CdrError::BadEncapsulation([0, 1, 0, 0]))
    );
    for h in [
        [0u8, 0, 0, 0],
        [0, 2, 0, 0],
        [0, 3, 0, 0],
        [0, 7, 0, 0],
        [1, 1, 0, 0],
    ] {
        assert_eq!(
            CdrReader::new(&h).err(),
            Some(CdrError::BadEncapsulation(h))
        );
    }
    // Options bytes are ignored.
    assert!(CdrReader::new(&[0, 1, 0, 3]).is_ok());
}

#[test]
fn truncated_reads_do_not_move() {
    let data = [0, 1, 0, 0, 9, 0, 0];
    let mut r = CdrReader::new(&data).unwrap();
    assert_eq!(
        r.read_u32(),
        Err(CdrError::Truncated {
            needed: 4,
            remaining: 3
        })
    );
    assert_eq!(r.position(), 4);
    r.read_aligned(1, 1).unwrap();
    // Padding counts: 3 bytes of padding + 4 > 2 remaining.
    assert_eq!(
        r.read_u32(),
        Err(CdrError::Truncated {
            needed: 7,
            remaining: 2
        })
    );
    assert_eq!(
        r.read_aligned(1, usize::MAX),
        Err(CdrError::Truncated {
            needed: usize::MAX,
            remaining: 2
        })
    );
}

#[test]
fn huge_lengths_are_rejected_before_allocation() {
    let data = [0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, b'x', 0];
    let mut r = CdrReader::new(&data).unwrap();
    assert!(matches!(
        r.read_string_bytes(),
        Err(CdrError::LengthTooLarge {
            count: 0xffff_ffff,
            ..
        })
    ));
    let mut r = CdrReader::new(&data).unwrap();
    assert!(matches!(
        r.read_count(8),
        Err(CdrError::LengthTooLarge { .. })
    ));
    // A count that fits the remaining bytes passes; one more does not.
    let r = CdrReader::new(&data).unwrap();
    assert!(r.check_count(6, 1).is_ok());
    assert!(r.check_count(7, 1).is_err());
    assert!(r.check_count(3, 2).is_ok());
    assert!(r.check_count(4, 2).is_err());
    assert!(r.check_count(u64::MAX, 8).is_err());
    // Zero-sized elements still count as one byte.
    assert!(r.check_count(7, 0).is_err());
}

#[test]
fn write_len_overflow() {
    let err = write_with(16, |w| w.write_len(u32::MAX as usize + 1)).unwrap_err();
    assert!(matches!(err, CdrError::LengthTooLarge { .. }));
}

#[test]
fn padding_helper() {
    assert_eq!(padding(0, 8), 0);
    assert_eq!(padding(1, 8), 7);
    assert_eq!(padding(5, 4), 3);
    assert_eq!(padding(6, 2), 0);
    assert_eq!(padding(7, 1), 0);
}
