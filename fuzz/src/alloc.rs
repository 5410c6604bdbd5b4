//! Measures the heap allocations a piece of code makes, to check that input from another
//! process never makes us allocate more than its size justifies.
//!
//! Every allocation counts: Rust's (the global allocator is the system `malloc`) and the C
//! ones of the rosidl runtime (sequence resizes, string assigns: `malloc`/`realloc` through
//! the rcutils allocator) and of C++ type supports (`operator new`). They are seen through the
//! AddressSanitizer allocator's hooks (`__sanitizer_install_malloc_and_free_hooks`), so the
//! targets must be built with ASan (cargo fuzz's default sanitizer).
//!
//! Only allocations of the thread that runs [`measure`] count (other threads, e.g. the graph
//! worker, allocate on their own schedule).

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::sync::Once;

extern "C" {
    fn __sanitizer_install_malloc_and_free_hooks(
        malloc_hook: Option<unsafe extern "C" fn(*const c_void, usize)>,
        free_hook: Option<unsafe extern "C" fn(*const c_void)>,
    ) -> c_int;
    fn __sanitizer_get_ownership(p: *const c_void) -> c_int;
    fn __sanitizer_get_allocated_size(p: *const c_void) -> usize;
}

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// `RMW_SHM_RS_FUZZ_ALLOC_TRACE=<bytes>`: print where each measured allocation of at least
/// that size comes from (to find the code behind a finding). 0: off.
static TRACE_AT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

unsafe extern "C" fn on_malloc(_ptr: *const c_void, size: usize) {
    if ARMED.get() {
        let trace = TRACE_AT.load(std::sync::atomic::Ordering::Relaxed);
        if trace != 0 && size >= trace {
            ARMED.set(false);
            eprintln!(
                "alloc trace: {size} bytes at\n{}",
                std::backtrace::Backtrace::force_capture()
            );
            ARMED.set(true);
        }
        LARGEST.set(LARGEST.get().max(size));
        let live = LIVE.get().saturating_add(size as isize);
        LIVE.set(live);
        PEAK.set(PEAK.get().max(live));
    }
}

unsafe extern "C" fn on_free(ptr: *const c_void) {
    if ARMED.get() && !ptr.is_null() {
        // SAFETY: ASan's documented queries; the hook runs before the chunk is released, and
        // ownership is checked before the size is asked.
        let size = unsafe {
            if __sanitizer_get_ownership(ptr) == 0 {
                return;
            }
            __sanitizer_get_allocated_size(ptr)
        };
        LIVE.set(LIVE.get().saturating_sub(size as isize));
    }
}

/// What [`measure`] saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Size of the largest single allocation (`malloc`, `calloc`, `realloc`, `new`), bytes.
    pub largest: usize,
    /// Largest number of bytes allocated and not yet freed at any point, counted from the
    /// start of the measurement (frees of older memory count down, never below zero), bytes.
    pub peak: usize,
}

/// Runs `f` and returns what it allocated on this thread.
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, Stats) {
    static HOOKS: Once = Once::new();
    HOOKS.call_once(|| {
        if let Some(v) = std::env::var("RMW_SHM_RS_FUZZ_ALLOC_TRACE")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            TRACE_AT.store(v, std::sync::atomic::Ordering::Relaxed);
        }
        // SAFETY: installs two hooks that only touch thread-local counters.
        let ok =
            unsafe { __sanitizer_install_malloc_and_free_hooks(Some(on_malloc), Some(on_free)) };
        assert!(
            ok != 0,
            "cannot install the allocator hooks (is the target built with ASan?)"
        );
        // The hooks must really see allocations, or every check would pass vacuously.
        let (_, seen) = run(|| std::hint::black_box(vec![1u8; 100_000]));
        assert!(
            seen.largest >= 100_000,
            "the allocator hooks missed a 100000-byte allocation: {seen:?}"
        );
    });
    run(f)
}

fn run<R>(f: impl FnOnce() -> R) -> (R, Stats) {
    LARGEST.set(0);
    LIVE.set(0);
    PEAK.set(0);
    ARMED.set(true);
    let r = f();
    ARMED.set(false);
    let stats = Stats {
        largest: LARGEST.get(),
        peak: PEAK.get().max(0) as usize,
    };
    (r, stats)
}

/// The most bytes input of `len` bytes may make us allocate: `factor * len + slack`.
pub fn limit(len: usize, factor: usize, slack: usize) -> usize {
    len.saturating_mul(factor).saturating_add(slack)
}

/// Panics (a finding) when `stats` exceed what `len` input bytes justify: one allocation over
/// `limit(len, factor, slack)`, or more than `limit(len, peak_factor, slack)` bytes live.
///
/// With `RMW_SHM_RS_FUZZ_ALLOC_REPORT` set, prints each new worst ratio of allocation to input
/// (to choose and document the factors: run the target over its corpus with `-runs=0`).
pub fn check(
    what: &str,
    stats: Stats,
    len: usize,
    factor: usize,
    peak_factor: usize,
    slack: usize,
) {
    report(what, stats, len);
    let one = limit(len, factor, slack);
    assert!(
        stats.largest <= one,
        "{what}: one allocation of {} bytes for {len} input bytes (limit {factor} x {len} + {slack} = {one})",
        stats.largest
    );
    let all = limit(len, peak_factor, slack);
    assert!(
        stats.peak <= all,
        "{what}: {} bytes allocated at once for {len} input bytes (limit {peak_factor} x {len} + {slack} = {all})",
        stats.peak
    );
}

fn report(what: &str, stats: Stats, len: usize) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static ENABLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    static WORST_ONE: AtomicU64 = AtomicU64::new(0);
    static WORST_PEAK: AtomicU64 = AtomicU64::new(0);
    if !*ENABLED.get_or_init(|| std::env::var_os("RMW_SHM_RS_FUZZ_ALLOC_REPORT").is_some()) {
        return;
    }
    // Ratios in thousandths, over inputs of at least 64 bytes (below, the slack dominates).
    if len < 64 {
        return;
    }
    let one = (stats.largest as u64 * 1000) / len as u64;
    let peak = (stats.peak as u64 * 1000) / len as u64;
    if one > WORST_ONE.fetch_max(one, Ordering::Relaxed) {
        eprintln!(
            "alloc report: {what}: largest allocation {} bytes for {len} input bytes ({}.{:03} x)",
            stats.largest,
            one / 1000,
            one % 1000
        );
    }
    if peak > WORST_PEAK.fetch_max(peak, Ordering::Relaxed) {
        eprintln!(
            "alloc report: {what}: {} bytes live at peak for {len} input bytes ({}.{:03} x)",
            stats.peak,
            peak / 1000,
            peak % 1000
        );
    }
}
