//! Globally unique identifiers of publishers, subscriptions and clients (`rmw_gid_t`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Size of the GID payload (`RMW_GID_STORAGE_SIZE`).
pub const GID_SIZE: usize = crate::sys::RMW_GID_STORAGE_SIZE as usize;

/// A 16-byte GID: 8 bytes unique to this process (random, drawn once) then an 8-byte counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gid(pub [u8; GID_SIZE]);

fn process_prefix() -> u64 {
    static PREFIX: OnceLock<u64> = OnceLock::new();
    *PREFIX.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        // RandomState is seeded from the OS's random source.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.finish()
    })
}

impl Gid {
    /// A GID no other endpoint on any host has (with overwhelming probability).
    pub fn new() -> Gid {
        static COUNTER: AtomicU64 = AtomicU64::new(1);
        let mut g = [0u8; GID_SIZE];
        g[..8].copy_from_slice(&process_prefix().to_le_bytes());
        g[8..16].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
        Gid(g)
    }
}

impl Default for Gid {
    fn default() -> Self {
        Gid::new()
    }
}
