//! Memory behind the samples we write.
//!
//! iceoryx2 sizes a data segment with `ftruncate` and does not touch its payload pages, so on a
//! tmpfs (`/dev/shm`) a page is allocated at its first write; when the file system is full that
//! write raises SIGBUS and kills the process. Before writing into a sample for the first time we
//! ask the kernel to allocate its pages (`MADV_POPULATE_WRITE`, Linux 5.14), which fails with an
//! error instead. Samples come from a fixed pool, so each is populated once; the record is
//! dropped whenever a larger sample than ever before is loaned (iceoryx2 may then have mapped a
//! new segment, possibly where an old one was).

use std::collections::HashMap;
use std::ffi::c_void;
use std::mem::MaybeUninit;

use parking_lot::Mutex;
use rustix::io::Errno;
use rustix::mm::{madvise, Advice};

use crate::error::{Error, Result};

/// The samples of one port whose pages are known to be allocated.
#[derive(Default)]
pub struct Backing {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The largest payload length loaned so far.
    largest: usize,
    /// Payload address -> length known to be backed.
    backed: HashMap<usize, usize>,
}

impl Backing {
    /// Makes sure every page of `payload` (a loaned sample) has memory, so writing it cannot
    /// raise SIGBUS. Errors when `/dev/shm` has no room left.
    pub fn ensure(&self, payload: &mut [MaybeUninit<u8>]) -> Result<()> {
        let (addr, len) = (payload.as_mut_ptr() as usize, payload.len());
        if len == 0 {
            return Ok(());
        }
        let mut s = self.state.lock();
        if len > s.largest {
            s.largest = len;
            s.backed.clear();
        }
        if s.backed.get(&addr).is_some_and(|&l| l >= len) {
            return Ok(());
        }
        populate(addr, len)?;
        s.backed.insert(addr, len);
        Ok(())
    }
}

fn populate(addr: usize, len: usize) -> Result<()> {
    let page = rustix::param::page_size();
    let start = addr & !(page - 1);
    let end = addr + len;
    // SAFETY: [start, end) covers the pages of a loaned sample, mapped read-write for as long
    // as the caller borrows it; MADV_POPULATE_WRITE only faults pages in and leaves their
    // contents (of this sample and of neighbours sharing a page) unchanged.
    match unsafe {
        madvise(
            start as *mut c_void,
            end - start,
            Advice::LinuxPopulateWrite,
        )
    } {
        Ok(()) => Ok(()),
        // Kernels before 5.14 do not know the advice: nothing to check with.
        Err(Errno::INVAL) => Ok(()),
        Err(e) => Err(Error::Transport(format!(
            "no memory for a shared-memory sample of {len} bytes: /dev/shm is full ({e}); free \
             space there or make it larger (docs/troubleshooting.md)"
        ))),
    }
}

/// Where iceoryx2 keeps its shared-memory files.
const SHM_DIR: &str = "/dev/shm";

/// The free space below which no shared-memory service or port is created
/// (`RMW_SHM_RS_SHM_RESERVE_KIB`, default 1024 KiB).
fn reserve() -> u64 {
    static RESERVE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *RESERVE.get_or_init(|| {
        std::env::var("RMW_SHM_RS_SHM_RESERVE_KIB")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(1024)
            * 1024
    })
}

/// Fails when `/dev/shm` has less free space than the reserve. iceoryx2 writes the
/// management structures of a new service or port without guarding against a full tmpfs (a
/// SIGBUS would kill the process), so `what` is refused with an error instead.
pub fn check_room(what: &str) -> Result<()> {
    let Ok(st) = rustix::fs::statvfs(SHM_DIR) else {
        return Ok(());
    };
    let free = st.f_bavail.saturating_mul(st.f_frsize);
    if free < reserve() {
        return Err(Error::Transport(format!(
            "{what}: /dev/shm is full ({free} bytes free, {} KiB reserve, \
             RMW_SHM_RS_SHM_RESERVE_KIB): no shared-memory resources can be created; free space \
             there or make it larger (docs/troubleshooting.md)",
            reserve() / 1024
        )));
    }
    Ok(())
}
