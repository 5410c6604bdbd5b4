//! The library exports exactly the rmw functions of `rmw_exports.txt` (the 95 that rcl and
//! rmw_implementation look up, identical for Jazzy and Kilted): a missing one would silently
//! fall through to rmw_fastrtps_cpp when preloaded; an extra `rmw_*` would shadow librmw's
//! helpers.

use std::collections::BTreeSet;
use std::path::PathBuf;

use object::{Object, ObjectSymbol};

fn cdylib() -> PathBuf {
    // target/<profile>/deps/exports-<hash> -> target/<profile>/librmw_shm_rs.so
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("librmw_shm_rs.so")
}

#[test]
fn exported_rmw_symbols_equal_the_list() {
    let path = cdylib();
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let file = object::File::parse(&*data).expect("parse ELF");
    let exported: BTreeSet<String> = file
        .dynamic_symbols()
        .filter(|s| s.is_definition() && s.is_global())
        .filter_map(|s| s.name().ok().map(str::to_owned))
        .filter(|n| n.starts_with("rmw_"))
        .collect();
    let expected: BTreeSet<String> = include_str!("rmw_exports.txt")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(expected.len(), 95);
    let missing: Vec<_> = expected.difference(&exported).collect();
    let extra: Vec<_> = exported.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
}

#[test]
fn list_matches_shared_copy_when_present() {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/rmw_exports.txt");
    if let Ok(text) = std::fs::read_to_string(shared) {
        assert_eq!(
            text.split_whitespace().collect::<Vec<_>>(),
            include_str!("rmw_exports.txt")
                .split_whitespace()
                .collect::<Vec<_>>()
        );
    }
}
