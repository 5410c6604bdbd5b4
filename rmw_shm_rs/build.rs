//! Generates Rust bindings for the rmw, rcutils and rosidl C headers of the ROS 2 distribution
//! found at build time, and links the libraries those declarations live in.
//!
//! The ROS prefix is, in order: `RMW_SHM_RS_ROS_PREFIX`, the first entry of `AMENT_PREFIX_PATH`
//! that has `include/rmw/rmw/rmw.h`, or a single `/opt/ros/<distro>`. The distribution is read
//! from the headers themselves, so one source tree builds against Jazzy and Kilted:
//! - `cfg(ros_kilted)`: rmw 7.8 or later (Kilted: `rmw/enclave.h`; Jazzy's rmw 7.3 has
//!   `rmw/localhost.h` and `rmw_init_options_t::localhost_only` instead, and orders
//!   `rmw_event_type_t` differently). Distro-level differences, e.g. which test types exist.
//! - `cfg(ros_introspection_keys)`: the introspection `MessageMember` has `is_key_` and
//!   `MessageMembers` has `has_any_key_member_`. Kilted, and also Jazzy's rosidl 4.6 (the wheels
//!   of Jazzy have it too), so this is not the distro.

use std::env;
use std::path::{Path, PathBuf};

fn has_rmw_headers(prefix: &Path) -> bool {
    prefix.join("include/rmw/rmw/rmw.h").is_file()
}

fn find_ros_prefix() -> PathBuf {
    if let Ok(p) = env::var("RMW_SHM_RS_ROS_PREFIX") {
        let p = PathBuf::from(p);
        assert!(
            has_rmw_headers(&p),
            "RMW_SHM_RS_ROS_PREFIX={} has no include/rmw/rmw/rmw.h",
            p.display()
        );
        return p;
    }
    if let Ok(paths) = env::var("AMENT_PREFIX_PATH") {
        for p in env::split_paths(&paths) {
            if has_rmw_headers(&p) {
                return p;
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir("/opt/ros") {
        for e in entries.flatten() {
            if has_rmw_headers(&e.path()) {
                return e.path();
            }
        }
    }
    panic!(
        "no ROS 2 installation found: source a ROS 2 setup file, run scripts/bootstrap.sh, \
         or set RMW_SHM_RS_ROS_PREFIX to a prefix with include/rmw/rmw/rmw.h"
    );
}

fn main() {
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-env-changed=RMW_SHM_RS_ROS_PREFIX");
    println!("cargo:rerun-if-env-changed=AMENT_PREFIX_PATH");
    println!("cargo::rustc-check-cfg=cfg(ros_kilted)");
    println!("cargo::rustc-check-cfg=cfg(ros_introspection_keys)");

    let prefix = find_ros_prefix();
    let include = prefix.join("include");
    let lib = prefix.join("lib");

    let introspection = include.join(
        "rosidl_typesupport_introspection_c/rosidl_typesupport_introspection_c/message_introspection.h",
    );
    let keys = std::fs::read_to_string(&introspection)
        .map(|s| s.contains("is_key_"))
        .unwrap_or(false);
    if keys {
        println!("cargo:rustc-cfg=ros_introspection_keys");
    }
    println!("cargo:rerun-if-changed={}", introspection.display());
    let enclave = include.join("rmw/rmw/enclave.h");
    if enclave.is_file() {
        println!("cargo:rustc-cfg=ros_kilted");
        println!("cargo:rerun-if-changed={}", enclave.display());
    } else {
        // A missing file would make cargo rerun this script (and rebuild the crate) on every
        // build (Jazzy has no enclave.h); watch the folder it would appear in instead.
        println!(
            "cargo:rerun-if-changed={}",
            include.join("rmw/rmw").display()
        );
    }

    let mut builder = bindgen::Builder::default()
        .header("wrapper.h")
        .allowlist_function("rmw_.*")
        .allowlist_function("rcutils_.*")
        .allowlist_function("rosidl_runtime_c__.*")
        .allowlist_function("get_(message|service)_typesupport_handle.*")
        .allowlist_type("rmw_.*")
        .allowlist_type("rosidl_.*")
        .allowlist_var("RMW_.*")
        .allowlist_var("rosidl_typesupport_introspection_c__.*")
        .allowlist_var("RCUTILS_.*")
        .default_enum_style(bindgen::EnumVariation::Consts)
        .derive_default(true)
        .layout_tests(false)
        .generate_comments(false)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    // Each package installs its headers under include/<pkg>/<pkg>/.
    for entry in std::fs::read_dir(&include)
        .expect("read include dir")
        .flatten()
    {
        if entry.path().is_dir() {
            builder = builder.clang_arg(format!("-I{}", entry.path().display()));
        }
    }
    let bindings = builder
        .generate()
        .expect("bindgen failed on the rmw headers");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("bindings.rs");
    bindings.write_to_file(out).expect("write bindings");

    println!("cargo:rustc-link-search=native={}", lib.display());
    for l in [
        "rcutils",
        "rmw",
        "rosidl_runtime_c",
        "rosidl_typesupport_introspection_c",
    ] {
        println!("cargo:rustc-link-lib=dylib={l}");
    }
    // DT_RPATH (not RUNPATH) so that a preloaded library also finds the dependencies of its
    // dependencies (the PyPI wheels' libraries carry no RUNPATH of their own). Test binaries get
    // it too: they load the same libraries and dlopen message type supports.
    println!(
        "cargo:rustc-link-arg=-Wl,--disable-new-dtags,-rpath,{}",
        lib.display()
    );
    println!(
        "cargo:rustc-env=RMW_SHM_RS_ROS_PREFIX_AT_BUILD={}",
        prefix.display()
    );

    // --- C++ message accessor shim (src/typesupport/cpp_shim.cpp; owned by typesupport) ---
    {
        let shim = "src/typesupport/cpp_shim.cpp";
        println!("cargo:rerun-if-changed={shim}");
        let inc = find_ros_prefix().join("include");
        cc::Build::new()
            .cpp(true)
            .file(shim)
            .include(inc.join("rosidl_runtime_cpp"))
            .include(inc.join("rosidl_runtime_c"))
            .include(inc.join("rosidl_typesupport_interface"))
            .flag_if_supported("-std=c++17")
            .warnings(true)
            .compile("rmw_shm_rs_cpp_shim");
    }
    // --- end of the C++ shim block ---
}
