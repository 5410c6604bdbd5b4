//! docs/capabilities.md has one row per export, and the functions marked UNSUPPORTED there are
//! exactly those that only return RMW_RET_UNSUPPORTED (src/ffi/unsupported.rs).

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
    let in_code: BTreeSet<String> = src
        .lines()
        .filter_map(|l| l.trim().strip_prefix("fn rmw_"))
        .filter(|l| l.contains("] \""))
        .map(|l| format!("rmw_{}", &l[..l.find('(').unwrap()]))
        .collect();
    assert!(!in_code.is_empty());
    let in_docs: BTreeSet<String> = rows
        .iter()
        .filter(|(_, status)| status.as_str() == "UNSUPPORTED")
        .map(|(n, _)| n.clone())
        .collect();
    assert_eq!(in_code, in_docs);
}
