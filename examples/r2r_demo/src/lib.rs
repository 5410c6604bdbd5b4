//! Shared bits of the r2r demo binaries: argument parsing, a watchdog, the RMW identifier line.

use std::ffi::CStr;
use std::os::raw::c_char;
use std::time::Duration;

extern "C" {
    // From the RMW in use (rmw_shm_rs when preloaded / selected, else rmw_fastrtps_cpp).
    fn rmw_get_implementation_identifier() -> *const c_char;
}

/// The identifier of the RMW this process really uses (e.g. "rmw_shm_rs").
pub fn rmw_identifier() -> String {
    // SAFETY: every RMW returns a static NUL-terminated string (or null, handled here).
    unsafe {
        let p = rmw_get_implementation_identifier();
        if p.is_null() {
            return "<null>".into();
        }
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// Print "<name>: RMW <identifier>" (the tests check it).
pub fn announce_rmw(name: &str) {
    println!("{name}: RMW {}", rmw_identifier());
}

/// Exit with code 124 after `seconds` (> 0): no orphan ever hangs.
pub fn install_watchdog(seconds: f64, name: &'static str) {
    if seconds > 0.0 {
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs_f64(seconds));
            eprintln!("{name}: WATCHDOG: still running after {seconds} s, exiting");
            std::process::exit(124);
        });
    }
}

/// Command-line options `--name value` / `--name=value`; ROS arguments (`--ros-args ... [--]`)
/// are skipped, so a launch file may append them.
pub struct Args {
    pairs: Vec<(String, String)>,
}

impl Args {
    pub fn parse(usage: &str, known: &[&str]) -> Args {
        let mut pairs = Vec::new();
        let mut it = std::env::args().skip(1);
        while let Some(a) = it.next() {
            if a == "--ros-args" {
                for b in it.by_ref() {
                    if b == "--" {
                        break;
                    }
                }
                continue;
            }
            if a == "-h" || a == "--help" {
                println!("{usage}");
                std::process::exit(0);
            }
            let Some(stripped) = a.strip_prefix("--") else {
                die(usage, &format!("unexpected argument '{a}'"));
            };
            let (key, value) = match stripped.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => {
                    let v = it
                        .next()
                        .unwrap_or_else(|| die(usage, &format!("--{stripped} needs a value")));
                    (stripped.to_string(), v)
                }
            };
            if !known.contains(&key.as_str()) {
                die(usage, &format!("unknown option --{key}"));
            }
            pairs.push((key, value));
        }
        Args { pairs }
    }

    pub fn get<T: std::str::FromStr>(&self, key: &str, default: T) -> T {
        match self.pairs.iter().rev().find(|(k, _)| k == key) {
            Some((_, v)) => v
                .parse()
                .unwrap_or_else(|_| die("", &format!("bad value for --{key}: '{v}'"))),
            None => default,
        }
    }
}

fn die(usage: &str, msg: &str) -> ! {
    eprintln!("error: {msg}");
    if !usage.is_empty() {
        eprintln!("{usage}");
    }
    std::process::exit(2);
}
