//! Security (issue 7, docs/security.md), at the C ABI:
//! - `rmw_init` with `security_options.enforce_security == RMW_SECURITY_ENFORCEMENT_ENFORCE`
//!   fails with `RMW_RET_ERROR` and "security is not supported by rmw_shm_rs", leaving the context
//!   zero-initialized; security asked for without enforcement warns on stderr and runs;
//! - every shared-memory file a process creates is readable by its user only (one iceoryx2
//!   segment, the 4-byte global node counter, is the documented exception), and when the tests
//!   run as root, a process of another user (`nobody`) cannot open any of them.

use std::ffi::{CStr, OsStr};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use std::ptr::null_mut;

use rmw_shm_rs::error::*;
use rmw_shm_rs::ffi::{init::*, node::*, publisher::*, subscription::*};
use rmw_shm_rs::sys::{
    rcutils_get_default_allocator, rmw_get_zero_initialized_context,
    rmw_get_zero_initialized_init_options, rmw_message_info_t, rmw_publisher_options_t,
    rmw_qos_profile_t, rmw_security_enforcement_policy_e_RMW_SECURITY_ENFORCEMENT_ENFORCE,
    rmw_security_options_set_root_path, rmw_subscription_options_t,
};

mod common;
mod isolated;
use common::*;
use isolated::*;

/// The text every security refusal and warning starts with.
const NOT_SUPPORTED: &str = "security is not supported by rmw_shm_rs";

/// Init options as rcl passes them with ROS_SECURITY_ENABLE=true: `enforce` set or not, and the
/// enclave's keystore directory (rcl sets it when it finds one).
fn options(enforce: bool, root_path: Option<&CStr>) -> Box<rmw_shm_rs::sys::rmw_init_options_t> {
    // SAFETY: the rcl sequence on a zero-initialized struct with the default allocator.
    unsafe {
        let mut o = Box::new(rmw_get_zero_initialized_init_options());
        assert_eq!(
            rmw_init_options_init(&mut *o, rcutils_get_default_allocator()),
            RET_OK
        );
        if enforce {
            o.security_options.enforce_security =
                rmw_security_enforcement_policy_e_RMW_SECURITY_ENFORCEMENT_ENFORCE;
        }
        if let Some(p) = root_path {
            let alloc = rcutils_get_default_allocator();
            assert_eq!(
                rmw_security_options_set_root_path(p.as_ptr(), &alloc, &mut o.security_options),
                RET_OK
            );
        }
        o
    }
}

#[test]
fn enforce_is_refused_with_error_and_the_context_stays_zero() {
    for root in [None, Some(c"/tmp/keystore/enclaves")] {
        let mut o = options(true, root);
        // SAFETY: valid options and a zero-initialized context.
        unsafe {
            let mut ctx = Box::new(rmw_get_zero_initialized_context());
            assert_eq!(rmw_init(&*o, &mut *ctx), RET_ERROR);
            let msg = error_text();
            assert!(msg.contains(NOT_SUPPORTED), "{msg}");
            assert!(msg.contains("ROS_SECURITY_STRATEGY=Enforce"), "{msg}");
            // rmw/init.h: "If initialization fails, context will remain zero initialized."
            assert!(ctx.implementation_identifier.is_null());
            assert!(ctx.impl_.is_null());
            assert_eq!(rmw_shutdown(&mut *ctx), RET_INVALID_ARGUMENT);
            error_text();
            assert_eq!(rmw_init_options_fini(&mut *o), RET_OK);
        }
    }
    // Nothing was left half-initialized: a plain init in the same process works.
    fini(init(child::random_domain() as usize));
}

/// In a child: `rmw_init` with security requested but not enforced (the root path comes from
/// `SEC_ROOT_PATH` when set) succeeds, and a node can be created.
#[test]
fn permissive_child() {
    if !child::is_child() {
        return;
    }
    let root = std::env::var("SEC_ROOT_PATH")
        .ok()
        .map(|p| std::ffi::CString::new(p).unwrap());
    let mut o = options(false, root.as_deref());
    // SAFETY: the rcl sequence with valid arguments.
    unsafe {
        o.domain_id = child::random_domain() as usize;
        let mut ctx = Box::new(rmw_get_zero_initialized_context());
        assert_eq!(rmw_init(&*o, &mut *ctx), RET_OK, "{}", error_text());
        let node = rmw_create_node(&mut *ctx, c"permissive".as_ptr(), c"/".as_ptr());
        assert!(!node.is_null(), "{}", error_text());
        println!("PERMISSIVE_CHILD_RAN");
        assert_eq!(rmw_destroy_node(node), RET_OK);
        fini(Ctx {
            options: o,
            context: ctx,
        });
    }
}

/// What a permissive case is called, its environment, and the text expected on stderr (None: no
/// warning at all).
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], Option<&'a str>);

#[test]
fn permissive_warns_once_per_init_and_runs() {
    if child::is_child() {
        return;
    }
    let warn = format!("[WARN] [rmw_shm_rs]: {NOT_SUPPORTED}");
    let cases: [Case; 5] = [
        // rcl with ROS_SECURITY_ENABLE=true, Permissive, no keystore: nothing in the options.
        (
            "env",
            &[("ROS_SECURITY_ENABLE", "true"), ("RMW_SHM_RS_LOG", "off")],
            Some(warn.as_str()),
        ),
        // rcl found an enclave in the keystore: security_root_path set.
        (
            "root path",
            &[
                ("ROS_SECURITY_ENABLE", "false"),
                ("SEC_ROOT_PATH", "/tmp/keystore/enclaves"),
                ("RMW_SHM_RS_LOG", "off"),
            ],
            Some(warn.as_str()),
        ),
        // With RMW_SHM_RS_LOG taking it, the warning goes through tracing instead.
        (
            "tracing",
            &[
                ("ROS_SECURITY_ENABLE", "true"),
                ("RMW_SHM_RS_LOG", "rmw_shm_rs::security=warn"),
            ],
            Some("rmw_shm_rs::security: security is not supported by rmw_shm_rs"),
        ),
        // Security not requested: silent.
        (
            "off",
            &[("ROS_SECURITY_ENABLE", "false"), ("RMW_SHM_RS_LOG", "off")],
            None,
        ),
        (
            "empty",
            &[("ROS_SECURITY_ENABLE", ""), ("RMW_SHM_RS_LOG", "off")],
            None,
        ),
    ];
    for (what, envs, expect) in cases {
        let dir = child::scratch_dir(&format!("permissive_{}", what.replace(' ', "_")));
        let envs: Vec<(&str, &OsStr)> = envs.iter().map(|(k, v)| (*k, OsStr::new(v))).collect();
        let c = child::run("permissive_child", &envs, &dir);
        assert!(c.status.success() && c.ran_one, "{what}: {}", c.report);
        assert!(
            c.report.contains("PERMISSIVE_CHILD_RAN"),
            "{what}: {}",
            c.report
        );
        let stderr = std::fs::read_to_string(dir.join("stderr.txt")).unwrap();
        match expect {
            Some(text) => {
                assert_eq!(stderr.matches(NOT_SUPPORTED).count(), 1, "{what}: {stderr}");
                assert!(stderr.contains(text), "{what}: {stderr}");
                assert!(stderr.contains("WITHOUT security"), "{what}: {stderr}");
            }
            None => assert!(!stderr.contains(NOT_SUPPORTED), "{what}: {stderr}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The secret payload the segment test publishes.
fn secret() -> String {
    format!("rmw_shm_rs-secret-{}", std::process::id())
}

/// In a child with its own iceoryx2 prefix: a publisher and a subscription of two contexts
/// (so the sample crosses shared memory) exchange a secret; then, with everything alive, every
/// file of the prefix must be private to this user, and the secret must be in one of them.
#[test]
fn private_segments_child() {
    if !child::is_child() {
        return;
    }
    let prefix = child_prefix();
    let ty = StringType::load();
    let domain = child::random_domain() as usize;
    let (mut a, mut b) = (init(domain), init(domain));
    let qos = rmw_qos_profile_t {
        history: 1,
        depth: 10,
        reliability: 1,
        durability: 2,
        ..Default::default()
    };
    // SAFETY: the C ABI as rcl uses it, with valid arguments.
    unsafe {
        let na = rmw_create_node(&mut *a.context, c"sec_pub".as_ptr(), c"/".as_ptr());
        let nb = rmw_create_node(&mut *b.context, c"sec_sub".as_ptr(), c"/".as_ptr());
        assert!(!na.is_null() && !nb.is_null(), "{}", error_text());
        let topic = c"/sec_secret";
        let sub = rmw_create_subscription(
            nb,
            ty.ts,
            topic.as_ptr(),
            &qos,
            &rmw_subscription_options_t::default(),
        );
        let publ = rmw_create_publisher(
            na,
            ty.ts,
            topic.as_ptr(),
            &qos,
            &rmw_publisher_options_t::default(),
        );
        assert!(!sub.is_null() && !publ.is_null(), "{}", error_text());
        let m = ty.new_msg(&secret());
        let out = ty.new_msg("");
        let mut taken = false;
        for _ in 0..500 {
            assert_eq!(rmw_publish(publ, m.cast(), null_mut()), RET_OK);
            let mut info = rmw_message_info_t::default();
            assert_eq!(
                rmw_take_with_info(sub, out.cast(), &mut taken, &mut info, null_mut()),
                RET_OK
            );
            if taken {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(taken, "the secret never crossed shared memory");
        assert_eq!(text(out), secret());

        let files = files_with_prefix(&prefix);
        assert!(files.len() > 10, "too few files with {prefix}: {files:?}");
        let me = libc::geteuid();
        let mut holds_secret = Vec::new();
        for f in &files {
            let (mode, uid) = mode_and_uid(f);
            assert_eq!(uid, me, "{} is not ours", f.display());
            if is_global_mgmt(f) {
                assert_eq!(std::fs::metadata(f).unwrap().len(), 16, "{}", f.display());
                continue;
            }
            assert_eq!(mode & 0o077, 0, "{} has mode {mode:o}", f.display());
            if let Ok(bytes) = std::fs::read(f) {
                if bytes
                    .windows(secret().len())
                    .any(|w| w == secret().as_bytes())
                {
                    holds_secret.push(f.clone());
                }
            }
        }
        assert!(
            !holds_secret.is_empty(),
            "no file holds the secret: {files:?}"
        );
        for f in &holds_secret {
            println!("SECRET_IN {}", f.display());
        }
        for f in &files {
            println!("FILE {}", f.display());
        }
        println!("CHILD_READY");
        // The parent opens the files as another user now; stay alive until it says so.
        let done = PathBuf::from("parent_done");
        let t0 = std::time::Instant::now();
        while !done.exists() && t0.elapsed().as_secs() < 60 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        (ty.destroy)(m);
        (ty.destroy)(out);
        assert_eq!(rmw_destroy_publisher(na, publ), RET_OK);
        assert_eq!(rmw_destroy_subscription(nb, sub), RET_OK);
        assert_eq!(rmw_destroy_node(na), RET_OK);
        assert_eq!(rmw_destroy_node(nb), RET_OK);
    }
    fini(a);
    fini(b);
}

/// Opens `path` for reading as uid/gid 65534 (`nobody`): the error text of `cat`, or None when it
/// could read it.
fn read_as_nobody(path: &str) -> Option<String> {
    let out = Command::new("cat")
        .arg(path)
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    if out.status.success() {
        None
    } else {
        Some(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn segments_are_private_to_their_user() {
    if child::is_child() {
        return;
    }
    let iso = Isolated::new("sec");
    let dir = iso.dir.clone();
    let iso_thread = std::thread::spawn(move || {
        let c = iso.run(
            "private_segments_child",
            &[("RMW_SHM_RS_PATHS", OsStr::new("shm"))],
        );
        (iso, c)
    });
    // Wait for the child to have checked the modes; then try its files as another user.
    let stdout = dir.join("stdout.txt");
    let t0 = std::time::Instant::now();
    let mut out = String::new();
    while t0.elapsed().as_secs() < 90 && !iso_thread.is_finished() {
        out = std::fs::read_to_string(&stdout).unwrap_or_default();
        if out.contains("CHILD_READY") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut denied = 0;
    // SAFETY: a plain libc query.
    let root = unsafe { libc::geteuid() } == 0;
    if out.contains("CHILD_READY") && root {
        for line in out.lines() {
            let Some(f) = line.strip_prefix("FILE ") else {
                continue;
            };
            if f.ends_with(".global_mgmt") {
                continue;
            }
            let err = read_as_nobody(f).unwrap_or_else(|| panic!("nobody could read {f}"));
            assert!(err.contains("Permission denied"), "{f}: {err}");
            denied += 1;
        }
    }
    std::fs::write(dir.join("parent_done"), b"").unwrap();
    let (iso, c) = iso_thread.join().unwrap();
    assert!(c.status.success() && c.ran_one, "{}", c.report);
    assert!(c.report.contains("SECRET_IN"), "{}", c.report);
    if root {
        assert!(denied > 10, "only {denied} files tried:\n{}", c.report);
    } else {
        eprintln!("segments_are_private_to_their_user: not root, skipped the read as another user");
    }
    // The child destroyed everything: only the global counter may stay.
    let left: Vec<_> = iso
        .files()
        .into_iter()
        .filter(|f| !is_global_mgmt(f))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    iso.cleanup();
}
