//! Fast DDS shared-memory files that dead processes left in `/dev/shm`.
//!
//! With `ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`, rmw_fastrtps configures its participant with
//! its own shared-memory transport next to UDPv4, whatever `FASTDDS_BUILTIN_TRANSPORTS` says, so
//! the delegate of such a process creates Fast DDS segments and ports in `/dev/shm`
//! (`fastdds_*` with Fast DDS 3 on Kilted, `fastrtps_*` with Fast DDS 2 on Jazzy). A process
//! that is killed leaves them behind, and a pile of them can stall later participants (seen in
//! CI: a participant spun forever opening a port). Fast DDS does not remove them itself; its
//! `fastdds shm clean` tool does, by this rule, which this module follows:
//!
//! - every segment `<prefix>_<16 hex>` and port `<prefix>_port<N>` has a lock file (`_el`, or
//!   `_sl`) that its live owner keeps `flock`ed;
//! - a lock file that can be locked exclusively belongs to a dead owner: the lock file, its
//!   segment or port, and a port's mutex `sem.<prefix>_port<N>_mutex` are removed.
//!
//! One addition: a lock file younger than [`MIN_AGE`] is left alone, never even locked, so a
//! process between creating its lock file and locking it is never disturbed. Only the caller's
//! own files are considered (others cannot be removed from `/dev/shm` anyway).
//!
//! Who sweeps: every process with a delegate, when its delegate starts and whenever its graph
//! worker sees a peer process die (docs/robustness.md).

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use rustix::fs::{flock, FlockOperation};

/// Lock files younger than this are not touched.
pub const MIN_AGE: Duration = Duration::from_secs(1);
/// Where Fast DDS keeps its shared memory on Linux.
const SHM_DIR: &str = "/dev/shm";
const PREFIXES: [&str; 2] = ["fastdds_", "fastrtps_"];

/// Set once this process runs a delegate: only then does the graph worker sweep.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// Set when a sweep skipped a young lock file: the next graph tick sweeps again.
static PENDING: AtomicBool = AtomicBool::new(false);

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sweep {
    /// Files removed (lock files, segments, ports, port mutexes).
    pub removed: usize,
    /// Lock files held by a live process.
    pub in_use: usize,
    /// Lock files younger than the minimum age, not looked at.
    pub young: usize,
}

/// What a lock file guards: the segment or port file, and a port's mutex.
fn guarded(lock: &str) -> Option<(String, Option<String>)> {
    let base = lock
        .strip_suffix("_el")
        .or_else(|| lock.strip_suffix("_sl"))?;
    let prefix = PREFIXES.iter().find(|p| base.starts_with(*p))?;
    let rest = &base[prefix.len()..];
    if let Some(port) = rest.strip_prefix("port") {
        let digits =
            !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
        digits.then(|| (base.to_string(), Some(format!("sem.{base}_mutex"))))
    } else {
        let hex = rest.len() == 16 && rest.bytes().all(|b| b.is_ascii_hexdigit());
        hex.then(|| (base.to_string(), None))
    }
}

/// Removes the Fast DDS files of dead processes from `dir` (see the module documentation);
/// lock files younger than `min_age` are skipped.
pub fn sweep_dir(dir: &Path, min_age: Duration) -> Sweep {
    let mut sweep = Sweep::default();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return sweep;
    };
    let uid = rustix::process::getuid().as_raw();
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some((base, mutex)) = name.to_str().and_then(guarded) else {
            continue;
        };
        let path = entry.path();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.uid() != uid {
            continue;
        }
        let age = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok());
        if !matches!(age, Some(a) if a >= min_age) {
            sweep.young += 1;
            continue;
        }
        let Ok(file) = File::options().read(true).open(&path) else {
            continue;
        };
        if flock(&file, FlockOperation::NonBlockingLockExclusive).is_err() {
            sweep.in_use += 1;
            continue;
        }
        // Removed while holding the lock: an owner opening the same names afterwards creates
        // fresh files.
        for victim in [Some(base), mutex].into_iter().flatten() {
            if std::fs::remove_file(dir.join(victim)).is_ok() {
                sweep.removed += 1;
            }
        }
        if std::fs::remove_file(&path).is_ok() {
            sweep.removed += 1;
        }
    }
    sweep
}

fn sweep_now() {
    let s = sweep_dir(Path::new(SHM_DIR), MIN_AGE);
    PENDING.store(s.young > 0, Ordering::SeqCst);
    if s.removed > 0 {
        tracing::debug!(target: "rmw_shm_rs::delegate", removed = s.removed, in_use = s.in_use, "removed Fast DDS shared-memory files of dead processes");
    }
}

/// Called before this process's delegate creates its first participant.
pub fn on_delegate_start() {
    ACTIVE.store(true, Ordering::SeqCst);
    sweep_now();
}

/// Called by the graph worker on every round; `peer_died` when a process left the graph.
pub fn on_graph_round(peer_died: bool) {
    if ACTIVE.load(Ordering::SeqCst) && (peer_died || PENDING.load(Ordering::SeqCst)) {
        sweep_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_file_names_map_to_what_they_guard() {
        assert_eq!(
            guarded("fastdds_0b93fb14eabc744f_el"),
            Some(("fastdds_0b93fb14eabc744f".into(), None))
        );
        assert_eq!(
            guarded("fastrtps_port7004_sl"),
            Some((
                "fastrtps_port7004".into(),
                Some("sem.fastrtps_port7004_mutex".into())
            ))
        );
        for other in [
            "fastdds_0b93fb14eabc744f",
            "fastdds_port123456_el",
            "fastdds_port_el",
            "fastdds_xyz_el",
            "iox2_abc_el",
            "sem.fastdds_port7004_mutex",
        ] {
            assert_eq!(guarded(other), None, "{other}");
        }
    }

    #[test]
    fn unlocked_old_files_go_and_locked_or_young_ones_stay() {
        let dir = std::env::temp_dir().join(format!("rmw_shm_rs_sweep_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let touch = |n: &str| std::fs::write(dir.join(n), b"").unwrap();
        // A dead owner's port and segment, and a live owner's segment (lock held here).
        for n in [
            "fastdds_port7004",
            "fastdds_port7004_el",
            "sem.fastdds_port7004_mutex",
            "fastrtps_00000000000000aa",
            "fastrtps_00000000000000aa_el",
            "fastdds_00000000000000bb",
            "fastdds_00000000000000bb_el",
        ] {
            touch(n);
        }
        let held = File::open(dir.join("fastdds_00000000000000bb_el")).unwrap();
        flock(&held, FlockOperation::LockExclusive).unwrap();
        // Everything is young at first.
        let young = sweep_dir(&dir, Duration::from_secs(3600));
        assert_eq!((young.removed, young.young), (0, 3));
        let s = sweep_dir(&dir, Duration::ZERO);
        assert_eq!((s.removed, s.in_use, s.young), (5, 1, 0));
        let mut left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["fastdds_00000000000000bb", "fastdds_00000000000000bb_el"]
        );
        drop(held);
        assert_eq!(sweep_dir(&dir, Duration::ZERO).removed, 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
