//! `clean`: removes the iceoryx2 resources (shared-memory segments under /dev/shm, node and
//! service records under /tmp/iceoryx2) of processes that died without releasing them, and the
//! Fast DDS shared-memory files their delegates left.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use iceoryx2::node::{NodeCleanupFailure, NodeView};
use iceoryx2::prelude::*;
use rmw_shm_rs::delegate::shm_files;
use rmw_shm_rs::transport::shm::{remove_unfinished_tags, Svc};

use crate::{Opts, Progress};

const SHM_DIR: &str = "/dev/shm";
const IOX2_DIR: &str = "/tmp/iceoryx2";

/// Every iceoryx2 file with its size: /dev/shm/iox2_* and everything under /tmp/iceoryx2.
fn snapshot() -> BTreeSet<(String, u64)> {
    fn walk(dir: &Path, out: &mut BTreeSet<(String, u64)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => walk(&path, out),
                Ok(_) => {
                    let size = e.metadata().map_or(0, |m| m.len());
                    out.insert((path.display().to_string(), size));
                }
                Err(_) => {}
            }
        }
    }
    let mut out = BTreeSet::new();
    if let Ok(entries) = std::fs::read_dir(SHM_DIR) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with("iox2_") {
                let size = e.metadata().map_or(0, |m| m.len());
                out.insert((e.path().display().to_string(), size));
            }
        }
    }
    walk(Path::new(IOX2_DIR), &mut out);
    out
}

struct Dead {
    view: iceoryx2::node::DeadNodeView<Svc>,
    pid: String,
    what: String,
}

fn describe(details: &Option<iceoryx2::node::NodeDetails>) -> (String, String) {
    match details {
        Some(d) => (
            d.process_id().value().to_string(),
            format!("executable {}", d.executable()),
        ),
        None => ("?".into(), "no details".into()),
    }
}

pub fn run(opts: &Opts) -> Result<(), String> {
    set_log_level_from_env_or(LogLevel::Fatal);
    let before = snapshot();
    let (mut alive, mut other) = (0usize, 0usize);
    let mut dead = Vec::new();
    Node::<Svc>::list(Config::global_config(), |state| {
        match state {
            NodeState::Alive(_) => alive += 1,
            NodeState::Dead(view) => {
                let (pid, what) = describe(view.details());
                dead.push(Dead { view, pid, what });
            }
            NodeState::Inaccessible(_) | NodeState::Undefined(_) => other += 1,
        }
        CallbackProgression::Continue
    })
    .map_err(|e| format!("cannot list the iceoryx2 nodes: {e}"))?;
    println!(
        "iceoryx2 nodes: {alive} alive, {} dead, {other} inaccessible or undefined",
        dead.len()
    );
    if opts.dry_run {
        for d in &dead {
            println!(
                "would remove: dead node {} of pid {} ({})",
                d.view.id().value(),
                d.pid,
                d.what
            );
        }
        return Ok(());
    }
    let total = dead.len();
    let mut progress = Progress::new();
    let mut removed = 0usize;
    let mut lines = Vec::new();
    for (i, d) in dead.into_iter().enumerate() {
        progress.update(&format!(
            "[{}/{total}] removing the resources of pid {}",
            i + 1,
            d.pid
        ));
        let id = d.view.id().value();
        let mut first = d.view.clone().try_remove_stale_resources();
        // A process that died while creating a tag leaves a node iceoryx2 cannot finish
        // (rmw_shm_rs::transport::shm::cleanup): remove the unfinished tags and try again.
        if matches!(first, Err(NodeCleanupFailure::InternalError))
            && remove_unfinished_tags(Config::global_config(), id)
        {
            first = d.view.clone().try_remove_stale_resources();
        }
        let result = match first {
            // Another process (any live rmw_shm_rs context cleans up every 500 ms) is at it:
            // wait for it to finish, or take over if it dies.
            Err(NodeCleanupFailure::AnotherInstanceIsCleaningUpTheNode) => d
                .view
                .blocking_remove_stale_resources(Duration::from_secs(5))
                .map(|()| " (together with another process)"),
            other => other.map(|()| ""),
        };
        match result {
            Ok(note) => {
                removed += 1;
                lines.push(format!(
                    "removed: dead node {id} of pid {} ({}){note}",
                    d.pid, d.what
                ));
            }
            Err(e) => lines.push(format!(
                "not removed: dead node {id} of pid {} ({}): {e}",
                d.pid, d.what
            )),
        }
    }
    progress.finish();
    for l in &lines {
        println!("{l}");
    }
    let after = snapshot();
    let gone: Vec<&(String, u64)> = before.iter().filter(|f| !after.contains(*f)).collect();
    let shm: Vec<&&(String, u64)> = gone
        .iter()
        .filter(|(p, _)| p.starts_with(SHM_DIR))
        .collect();
    let shm_bytes: u64 = shm.iter().map(|(_, s)| s).sum();
    println!(
        "removed {removed} of {total} dead nodes: {} files from {SHM_DIR} ({:.1} KiB), {} from {IOX2_DIR}",
        shm.len(),
        shm_bytes as f64 / 1024.0,
        gone.len() - shm.len()
    );
    // The delegate's Fast DDS files of dead processes (rmw_shm_rs::delegate::shm_files).
    let dds = shm_files::sweep_dir(Path::new(SHM_DIR), shm_files::MIN_AGE);
    println!(
        "removed {} Fast DDS files of dead processes from {SHM_DIR} ({} lock files in use)",
        dds.removed, dds.in_use
    );
    if removed < total {
        return Err(format!(
            "{} dead nodes could not be removed",
            total - removed
        ));
    }
    Ok(())
}
