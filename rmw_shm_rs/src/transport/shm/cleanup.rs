//! Removing what dead processes left in shared memory: iceoryx2's dead-node cleanup, plus the
//! one case it cannot finish on its own.
//!
//! iceoryx2 0.10 creates a node's port and service tags (empty files in the node's folder under
//! the iceoryx2 root, `/tmp/iceoryx2/nodes/<node id>/`) owner-writable (0600) and makes each
//! read-only (0400) once written. Its dead-node cleanup skips files still 0600 (they are "being
//! created"); when a process dies in that window (seen about 4 times in 100 SIGKILLs of freshly
//! started rclpy servers), the cleanup removes everything else, then cannot remove the non-empty
//! folder and fails with `NodeCleanupFailure::InternalError`, on every later attempt too: the
//! node's folder and its three monitor files stay for ever. Nothing refers to an unfinished tag
//! (iceoryx2 creates a port's tag before anything else of the port, and a service's tag before
//! the node joins the service), so removing it and cleaning up again finishes the job.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use iceoryx2::node::{NodeCleanupFailure, NodeView};
use iceoryx2::prelude::*;

use super::Svc;

/// Removes the resources of iceoryx2 nodes whose processes died (SIGKILL, crash).
pub fn cleanup_dead_nodes() {
    let cfg = Config::global_config();
    let mut stuck = Vec::new();
    let _ = Node::<Svc>::list(cfg, |state| {
        if let NodeState::Dead(view) = state {
            let id = view.id().value();
            if let Err(NodeCleanupFailure::InternalError) = view.try_remove_stale_resources() {
                stuck.push(id);
            }
        }
        CallbackProgression::Continue
    });
    let mut retry = false;
    for id in &stuck {
        retry |= remove_unfinished_tags(cfg, *id);
    }
    if retry {
        let _ = Node::<Svc>::list(cfg, |state| {
            if let NodeState::Dead(view) = state {
                if stuck.contains(&view.id().value()) {
                    let _ = view.try_remove_stale_resources();
                }
            }
            CallbackProgression::Continue
        });
    }
}

/// Deletes the port and service tags that the dead node `node_id`'s process was still creating
/// when it died (see the module documentation); returns whether it deleted any. Call it only
/// for a node that iceoryx2 reports dead.
pub fn remove_unfinished_tags(cfg: &Config, node_id: u128) -> bool {
    let dir = PathBuf::from(cfg.global.node_dir().to_string()).join(node_id.to_string());
    let prefix = cfg.global.prefix.to_string();
    let suffixes = [
        cfg.global.node.service_tag_suffix.to_string(),
        cfg.global.node.port_tag_suffix.to_string(),
    ];
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return false;
    };
    let mut removed = false;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let is_tag =
            name.starts_with(&prefix) && suffixes.iter().any(|s| name.ends_with(s.as_str()));
        // Unfinished: still the creation mode (0600), nothing written.
        let unfinished = entry
            .metadata()
            .is_ok_and(|m| m.is_file() && m.len() == 0 && m.permissions().mode() & 0o777 == 0o600);
        if is_tag && unfinished && std::fs::remove_file(entry.path()).is_ok() {
            tracing::debug!(target: "rmw_shm_rs::transport", file = %name, "removed an unfinished tag of a dead node");
            removed = true;
        }
    }
    removed
}
