//! A guard against version drift of the DDS delegate (issue 5): which of its own public rmw
//! functions does the installed rmw_fastrtps_cpp call back through the global scope, where
//! our exports answer?
//!
//! The test re-runs itself as a child with a generated interposer preloaded (tests/interposer)
//! that defines all 95 exported names: the four known call-backs (FACTS.md) log and forward to
//! the delegate, every other name logs and aborts. The child loads the delegate through our
//! loader and drives it as the remote path does (tests/delegate_drive). The test binary
//! exports no `rmw_*` itself, so the delegate's global look-ups reach the interposer. The
//! parent checks that the child succeeded and that only known call-backs were logged.

use std::collections::BTreeMap;

mod common;
mod delegate_drive;
mod interposer;

use common::child;

const TEST_NAME: &str = "delegate_calls_back_only_known_functions";

#[test]
fn delegate_calls_back_only_known_functions() {
    if child::is_child() {
        delegate_drive::run();
        return;
    }
    let dir = child::scratch_dir(TEST_NAME);
    let lib = interposer::build(&dir);
    let log = dir.join("calls.log");
    let envs = [
        ("LD_PRELOAD", lib.as_os_str()),
        (interposer::LOG_ENV, log.as_os_str()),
    ];
    let ended = child::run(TEST_NAME, &envs, &dir);
    let mut seen = BTreeMap::<String, usize>::new();
    for name in std::fs::read_to_string(&log).unwrap_or_default().lines() {
        *seen.entry(name.to_owned()).or_default() += 1;
    }
    println!("rmw functions the delegate called through the global scope: {seen:?}");
    let report = format!("{}\n--- calls {seen:?}", ended.report);
    let allowed: Vec<&str> = interposer::FORWARDED.iter().map(|(n, ..)| *n).collect();
    let unexpected: Vec<&String> = seen
        .keys()
        .filter(|n| !allowed.contains(&n.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "the delegate called back {unexpected:?}: forward them (rmw_export! `forward`) and add \
         them to the interposer's list\n{report}"
    );
    assert!(ended.status.success() && ended.ran_one, "{report}");
    assert!(
        seen.contains_key("rmw_init_options_copy"),
        "rmw_init_options_copy (called by the delegate's rmw_init) never reached the \
         interposer: the test no longer observes global look-ups\n{report}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
