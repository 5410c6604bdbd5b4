//! Runs one test of the current binary in a child process whose iceoryx2 files carry a prefix of
//! their own, so the test can list exactly the shared-memory files that process created (other
//! tests and other rmw_shm_rs processes run on the same host at the same time).
//!
//! iceoryx2 reads `config/iceoryx2.toml` relative to the working directory first: the child runs
//! in a scratch directory holding one with `[global] prefix = "<prefix>"`. Every file iceoryx2
//! creates, in /dev/shm and under its root path /tmp/iceoryx2, starts with that prefix (node
//! directories, named by node id, are the only exception).
#![allow(dead_code)]

use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::common::child::{self, Child};

/// The child learns its prefix from this variable.
pub const PREFIX_ENV: &str = "RMW_SHM_RS_TEST_IOX2_PREFIX";
/// Where iceoryx2 keeps shared-memory segments.
pub const SHM_DIR: &str = "/dev/shm";
/// iceoryx2's default root path (static service configs, node records, event sockets).
pub const IOX2_DIR: &str = "/tmp/iceoryx2";

/// A scratch directory with an iceoryx2 config that sets a unique file prefix.
pub struct Isolated {
    pub dir: PathBuf,
    pub prefix: String,
}

impl Isolated {
    /// `tag`: a few lowercase letters naming the test (part of the prefix).
    pub fn new(tag: &str) -> Self {
        let dir = child::scratch_dir(&format!("iso_{tag}"));
        let prefix = format!("iox2{tag}{}_", std::process::id());
        std::fs::create_dir_all(dir.join("config")).unwrap();
        std::fs::write(
            dir.join("config/iceoryx2.toml"),
            format!("[global]\nprefix = \"{prefix}\"\n"),
        )
        .unwrap();
        Isolated { dir, prefix }
    }

    /// Runs test `name` in a child (working directory: the scratch directory) with `envs`
    /// added, as [`child::run`] does otherwise. Killed after 120 s.
    pub fn run(&self, name: &str, envs: &[(&str, &OsStr)]) -> Child {
        let prefix = OsStr::new(&self.prefix);
        let mut all = vec![(PREFIX_ENV, prefix)];
        all.extend_from_slice(envs);
        let mut c = child::run_with(name, &all, &self.dir, true);
        c.report = format!("prefix {}: {}", self.prefix, c.report);
        c
    }

    /// The files of this prefix now in /dev/shm and under /tmp/iceoryx2.
    pub fn files(&self) -> Vec<PathBuf> {
        files_with_prefix(&self.prefix)
    }

    /// Removes what is left with this prefix (iceoryx2's by-design global management segment)
    /// and the scratch directory.
    pub fn cleanup(&self) {
        for f in self.files() {
            let _ = std::fs::remove_file(f);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// In the child: the prefix its parent chose.
pub fn child_prefix() -> String {
    std::env::var(PREFIX_ENV).expect("run through Isolated::run")
}

/// Every file (any type but directories) whose name starts with `prefix`, in /dev/shm and
/// anywhere under /tmp/iceoryx2.
pub fn files_with_prefix(prefix: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, prefix: &str, depth: usize, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                if depth > 0 {
                    walk(&e.path(), prefix, depth - 1, out);
                }
            } else if e.file_name().to_string_lossy().starts_with(prefix) {
                out.push(e.path());
            }
        }
    }
    let mut out = Vec::new();
    walk(Path::new(SHM_DIR), prefix, 0, &mut out);
    walk(Path::new(IOX2_DIR), prefix, 3, &mut out);
    out.sort();
    out
}

/// iceoryx2's global management segment (a 4-byte node counter, mode 0666 by design, one per
/// prefix and host, never removed).
pub fn is_global_mgmt(p: &Path) -> bool {
    p.to_string_lossy().ends_with(".global_mgmt")
}

/// The permission bits and owner of `p`.
pub fn mode_and_uid(p: &Path) -> (u32, u32) {
    let m = std::fs::symlink_metadata(p).unwrap();
    (m.mode() & 0o7777, m.uid())
}
