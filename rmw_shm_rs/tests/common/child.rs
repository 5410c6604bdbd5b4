//! Runs one test of the current test binary again in a child process, with the ROS libraries on
//! `LD_LIBRARY_PATH` and the environment the test needs. The DDS delegate's vendored
//! dependencies (PyPI wheels: `site-packages/ros_*.libs`) are reached by no RPATH, and the
//! dynamic loader reads `LD_LIBRARY_PATH` only at process start.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

/// Set in the child.
pub const CHILD_ENV: &str = "RMW_SHM_RS_TEST_CHILD";

/// Whether this process is such a child.
pub fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// The ROS prefix's `lib`, the wheels' `ros_*.libs` next to it (if any), then the inherited
/// `LD_LIBRARY_PATH`.
pub fn library_path() -> OsString {
    let lib = Path::new(super::LIB).join("lib");
    let mut vendored = Vec::new();
    for python in std::fs::read_dir(&lib).into_iter().flatten().flatten() {
        if !python.file_name().to_string_lossy().starts_with("python") {
            continue;
        }
        let site = python.path().join("site-packages");
        for d in std::fs::read_dir(site).into_iter().flatten().flatten() {
            let name = d.file_name().to_string_lossy().into_owned();
            if name.starts_with("ros_") && name.ends_with(".libs") {
                vendored.push(d.path());
            }
        }
    }
    vendored.sort();
    let inherited = std::env::var_os("LD_LIBRARY_PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::iter::once(lib)
        .chain(vendored)
        .chain(std::env::split_paths(&inherited))
        .collect();
    std::env::join_paths(dirs).unwrap()
}

/// A domain id in 100..200 that differs between runs.
pub fn random_domain() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    100 + (std::process::id() ^ nanos) % 100
}

/// A fresh scratch directory for one test run.
pub fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rmw_shm_rs_{test}_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// How a child ended: its status, whether it ran exactly the one test, and a report of its
/// output for assertion messages.
pub struct Child {
    pub status: ExitStatus,
    pub ran_one: bool,
    pub report: String,
}

/// Runs test `name` in a child with `envs` added, the delegate's transport limited to UDP
/// (FASTDDS_BUILTIN_TRANSPORTS=UDPv4), discovery on localhost and a random domain; its output
/// goes to files in `dir`. Killed after 120 s.
pub fn run(name: &str, envs: &[(&str, &OsStr)], dir: &Path) -> Child {
    run_with(name, envs, dir, false)
}

/// As [`run`]; with `in_dir` the child's working directory is `dir` (where iceoryx2 looks for
/// `config/iceoryx2.toml`).
pub fn run_with(name: &str, envs: &[(&str, &OsStr)], dir: &Path, in_dir: bool) -> Child {
    let (stdout, stderr) = (dir.join("stdout.txt"), dir.join("stderr.txt"));
    let mut command = Command::new(std::env::current_exe().unwrap());
    if in_dir {
        command.current_dir(dir);
    }
    let mut child = command
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .env("LD_LIBRARY_PATH", library_path())
        .env("FASTDDS_BUILTIN_TRANSPORTS", "UDPv4")
        .env("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
        .env("ROS_DOMAIN_ID", random_domain().to_string())
        .env_remove("RMW_SHM_RS_REMOTE")
        .envs(envs.iter().copied())
        .stdout(File::create(&stdout).unwrap())
        .stderr(File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = child.wait().unwrap();
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let out = read(&stdout);
    let ran_one = out.contains("running 1 test");
    let report = format!(
        "child '{name}' {status:?} (files in {})\n--- stdout\n{out}\n--- stderr\n{}",
        dir.display(),
        read(&stderr)
    );
    Child {
        status,
        ran_one,
        report,
    }
}

/// Runs test `name` in a child (see [`run`]) and asserts that it passed.
pub fn assert_passes(name: &str) {
    let dir = scratch_dir(name);
    let child = run(name, &[], &dir);
    assert!(child.status.success() && child.ran_one, "{}", child.report);
    let _ = std::fs::remove_dir_all(&dir);
}
