//! Process limits the transport needs: iceoryx2 keeps about 8 file descriptors open per
//! endpoint and about 60 per rclpy node, so a node graph with a few hundred topics exceeds
//! the usual soft limit of 1024 open files. `rmw_init` raises the soft `RLIMIT_NOFILE` to the
//! hard limit once per process (what a process may do without privileges).

use std::sync::Once;

/// Raises the soft open-files limit to the hard limit, once per process.
pub fn raise_fd_limit() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes the struct it is given.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
            return;
        }
        if lim.rlim_cur < lim.rlim_max {
            let before = lim.rlim_cur;
            lim.rlim_cur = lim.rlim_max;
            // SAFETY: setrlimit reads the struct it is given; raising the soft limit up to the
            // hard one needs no privilege.
            let r = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
            tracing::debug!(target: "rmw_shm_rs::init", before, after = lim.rlim_cur, ok = r == 0, "open-files soft limit");
        }
    });
}
