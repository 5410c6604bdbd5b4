//! Links libpython into the binaries when R2R_DEMO_LIBPYTHON names it (scripts/build_r2r.sh sets it
//! for the PyPI wheels).
//!
//! r2r links every library of each message package it binds, including the
//! `<pkg>__rosidl_generator_py.so` ones. In the wheels those do not record libpython as a
//! dependency (manylinux rules), so without it the binaries stop at start-up with
//! "undefined symbol: PyExc_RuntimeError". On a standard ROS install they do and nothing is added.

fn main() {
    println!("cargo:rerun-if-env-changed=R2R_DEMO_LIBPYTHON");
    if let Ok(lib) = std::env::var("R2R_DEMO_LIBPYTHON") {
        if !lib.is_empty() {
            // --no-as-needed: nothing in the binaries itself refers to libpython.
            println!("cargo:rustc-link-arg-bins=-Wl,--no-as-needed");
            println!("cargo:rustc-link-arg-bins={lib}");
            println!("cargo:rustc-link-arg-bins=-Wl,--as-needed");
        }
    }
}
