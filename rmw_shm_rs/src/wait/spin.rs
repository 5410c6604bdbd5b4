//! Adaptive spinning before a wait sleeps: when the previous wait of this process was satisfied
//! within the spin budget (request/reply and control-loop traffic), the next wait polls the
//! waitables' state for up to that budget before it sleeps in `poll(2)`, which saves the wake-up
//! and context switch (about 10 µs on the reference machine, most of a small message's latency).
//! Waits that take longer than the budget (idle nodes, slow streams, large messages) turn
//! spinning off until a wait is quick again, so they cost no extra CPU.
//!
//! `RMW_SHM_RS_SPIN_US` sets the budget in microseconds (default 50; 0 disables spinning).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The spin budget in force, read once per process.
pub fn budget() -> Duration {
    static BUDGET: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *BUDGET.get_or_init(|| {
        let us = std::env::var("RMW_SHM_RS_SPIN_US")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(50);
        Duration::from_micros(us.min(10_000))
    })
}

/// Whether the last wait that ended was quick (started as true so the first wait may spin).
static QUICK: AtomicBool = AtomicBool::new(true);

/// Whether a wait starting now should spin, and for how long.
pub fn should_spin() -> Option<Duration> {
    let b = budget();
    (!b.is_zero() && QUICK.load(Ordering::Relaxed)).then_some(b)
}

/// Records how long a wait took until something was ready (`None`: it timed out).
pub fn record(started: Instant, ready: bool) {
    let quick = ready && started.elapsed() <= budget();
    QUICK.store(quick, Ordering::Relaxed);
}

/// Polls `ready` until it returns true or `budget` passes; returns whether it did.
pub fn spin(budget: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + budget;
    loop {
        if ready() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        for _ in 0..16 {
            std::hint::spin_loop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spin_stops_when_ready_or_after_the_budget() {
        let mut n = 0;
        assert!(spin(Duration::from_secs(5), || {
            n += 1;
            n == 3
        }));
        assert_eq!(n, 3);
        let t = Instant::now();
        assert!(!spin(Duration::from_micros(200), || false));
        assert!(t.elapsed() >= Duration::from_micros(200));
    }
}
