//! docs/capabilities.md has one row per export, and every function that only returns
//! RMW_RET_UNSUPPORTED (src/ffi/unsupported.rs) is marked UNSUPPORTED there.

use std::collections::{BTreeMap, BTreeSet};

fn table() -> BTreeMap<String, String> {
    include_str!("../../docs/capabilities.md")
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((name.to_owned(), cells.get(2)?.to_string()))
        })
        .collect()
}

#[test]
fn one_row_per_export() {
    let rows = table();
    let exports: BTreeSet<String> = include_str!("rmw_exports.txt")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let names: BTreeSet<String> = rows.keys().cloned().collect();
    assert_eq!(names, exports);
    for (name, status) in &rows {
        assert!(
            ["yes", "partial", "UNSUPPORTED"].contains(&status.as_str()),
            "{name}: {status}"
        );
    }
}

#[test]
fn unsupported_functions_are_marked() {
    let rows = table();
    let src = include_str!("../src/ffi/unsupported.rs");
    let unsupported: Vec<&str> = src
        .lines()
        .filter_map(|l| l.trim().strip_prefix("fn rmw_"))
        .filter(|l| l.contains("] \""))
        .map(|l| &l[..l.find('(').unwrap()])
        .collect();
    assert!(unsupported.len() > 20);
    for f in unsupported {
        let name = format!("rmw_{f}");
        assert_eq!(
            rows.get(&name).map(String::as_str),
            Some("UNSUPPORTED"),
            "{name}"
        );
    }
}
