//! Diagnostics through `tracing`, off unless `RMW_SHM_RS_LOG` holds a filter (for example
//! `RMW_SHM_RS_LOG=debug` or `RMW_SHM_RS_LOG=rmw_shm_rs::path=debug`); written to stderr.
//!
//! Never rcutils logging: `/rosout` is published through this very middleware and logging from
//! inside it can deadlock.

use std::sync::Once;

/// Installs the stderr subscriber once per process when `RMW_SHM_RS_LOG` is set.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Ok(filter) = std::env::var("RMW_SHM_RS_LOG") else {
            return;
        };
        let filter = tracing_subscriber::EnvFilter::try_new(filter)
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("debug"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init();
    });
}
