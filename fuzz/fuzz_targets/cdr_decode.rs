//! CDR from other processes: decodes the bytes of a sample or request/response into a C
//! message and into a C++ message of the type the first byte picks (fuzz/types.txt), as
//! `rmw_take` and `rmw_take_request` do with what a peer wrote into shared memory.
//!
//! Input: `[selector][CDR bytes, encapsulation header included]`.
//!
//! Findings: a crash or sanitizer report; one allocation over 8 x input + 4 KiB or more than
//! 64 x input + 4 KiB live at once (alloc.rs; the factors are the worst ratio of C/C++ memory
//! to wire bytes, docs/fuzzing.md); the C and C++ flavours disagreeing; a fresh message and a
//! reused one (holding the previous input's contents, as rcl's message does) disagreeing; a
//! decoded message that does not re-encode, or whose encoding does not decode back to itself.
//!
//! The custom mutator knows the layout: besides libFuzzer's byte mutations it writes
//! interesting counts into 4-aligned words (sequence and string lengths), switches the type,
//! cuts or duplicates 4-aligned blocks, and replaces an input that decodes by its canonical
//! encoding, so that mutations start from valid messages.

#![no_main]

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};
use rmw_shm_rs::typesupport::{MessageType, OwnedMessage};
use rmw_shm_rs_fuzz::alloc;
use rmw_shm_rs_fuzz::rng::Rng;
use rmw_shm_rs_fuzz::types::{self, TypeEntry};

/// One allocation may be this many times the input (std::string 32 bytes per 4-byte length).
const FACTOR: usize = 8;
/// All live allocations together (element inits allocate default contents too).
const PEAK_FACTOR: usize = 64;
/// Allocations that do not depend on the input (error texts, small defaults), bytes.
const SLACK: usize = 4096;

thread_local! {
    /// One message per (type, flavour) reused across inputs, as rcl reuses its message.
    static REUSED: RefCell<HashMap<(usize, bool), OwnedMessage>> = RefCell::new(HashMap::new());
}

/// Decodes `body` into `msg` under the allocation check; the canonical re-encoding on success,
/// the error text otherwise.
fn decode_into(msg: &mut OwnedMessage, body: &[u8], what: &str) -> Result<Vec<u8>, String> {
    let (r, stats) = alloc::measure(|| msg.deserialize(body));
    alloc::check(what, stats, body.len(), FACTOR, PEAK_FACTOR, SLACK);
    r.map_err(|e| e.to_string())?;
    Ok(msg
        .to_cdr()
        .unwrap_or_else(|e| panic!("{what}: a decoded message does not encode: {e}")))
}

/// Decodes `body` into a fresh message and into the reused one; both must agree.
fn decode(index: usize, cpp: bool, ty: &Arc<MessageType>, body: &[u8]) -> Result<Vec<u8>, String> {
    let what = format!("{} ({})", ty.type_name(), if cpp { "C++" } else { "C" });
    let mut fresh = OwnedMessage::new(ty.clone()).expect("init");
    let first = decode_into(&mut fresh, body, &what);
    let reused = REUSED.with(|m| {
        let mut m = m.borrow_mut();
        let msg = m
            .entry((index, cpp))
            .or_insert_with(|| OwnedMessage::new(ty.clone()).expect("init"));
        decode_into(msg, body, &what)
    });
    assert_eq!(
        first, reused,
        "{what}: a fresh and a reused message decode differently"
    );
    first
}

fn check(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let index = usize::from(selector) % types::all().len();
    let t: &TypeEntry = types::pick(selector);
    let c = decode(index, false, &t.c, body);
    let cpp = decode(index, true, &t.cpp, body);
    assert_eq!(c, cpp, "{}: the C and C++ flavours disagree", t.name);
    if let Ok(canonical) = c {
        // Our own encoding of a decoded message must decode to the same message.
        let again = decode(index, false, &t.c, &canonical);
        assert_eq!(
            again.as_ref(),
            Ok(&canonical),
            "{}: the re-encoding does not decode to itself",
            t.name
        );
    }
}

fuzz_target!(|data: &[u8]| check(data));

/// Counts worth trying in a length word; `rest` is what follows it.
fn interesting_count(rng: &mut Rng, current: u32, rest: usize) -> u32 {
    let rest = rest as u32;
    match rng.below(12) {
        0 => 0,
        1 => 1,
        2 => current.wrapping_add(1),
        3 => current.wrapping_sub(1),
        4 => rest,
        5 => rest / 4,
        6 => rest / 8,
        7 => rest.wrapping_add(1),
        8 => u32::MAX,
        9 => 0x8000_0000,
        10 => 1 << rng.below(32),
        _ => rng.next_u64() as u32,
    }
}

/// The input re-encoded canonically, if it decodes.
fn canonical(data: &[u8]) -> Option<Vec<u8>> {
    let (&selector, body) = data.split_first()?;
    let mut msg = OwnedMessage::new(types::pick(selector).c.clone()).ok()?;
    msg.deserialize(body).ok()?;
    let mut out = vec![selector];
    out.extend(msg.to_cdr().ok()?);
    Some(out)
}

/// Offsets in `data` of 4-aligned words of the CDR body (selector 1 byte, header 4 bytes).
fn word_offsets(size: usize) -> impl Iterator<Item = usize> {
    (5..size.saturating_sub(3)).step_by(4)
}

fn mutate(data: &mut [u8], size: usize, max_size: usize, seed: u32) -> usize {
    let mut rng = Rng::new(seed);
    match rng.below(10) {
        // A length word gets an interesting count.
        0 | 1 => {
            let words: Vec<usize> = word_offsets(size).collect();
            if words.is_empty() {
                return fuzzer_mutate(data, size, max_size);
            }
            let at = words[rng.below(words.len())];
            let current = u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
            let v = interesting_count(&mut rng, current, size - at - 4);
            data[at..at + 4].copy_from_slice(&v.to_le_bytes());
            size
        }
        // Another type reads the same bytes.
        2 if size > 0 => {
            data[0] = rng.next_u64() as u8;
            size
        }
        // Cut at a 4-aligned offset, or duplicate a 4-aligned block (more elements).
        3 if size > 9 => {
            let words: Vec<usize> = word_offsets(size).collect();
            let at = words[rng.below(words.len())];
            if rng.below(2) == 0 {
                return at;
            }
            let len = (4 * (1 + rng.below(8))).min(size - at);
            if size + len > max_size {
                return size;
            }
            data.copy_within(at..size, at + len);
            size + len
        }
        // libFuzzer's mutation, then the canonical form when that decodes.
        4 | 5 => {
            let n = fuzzer_mutate(data, size, max_size);
            match canonical(&data[..n]) {
                Some(c) if c.len() <= max_size => {
                    data[..c.len()].copy_from_slice(&c);
                    c.len()
                }
                _ => n,
            }
        }
        _ => fuzzer_mutate(data, size, max_size),
    }
}

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    mutate(data, size, max_size, seed)
});
