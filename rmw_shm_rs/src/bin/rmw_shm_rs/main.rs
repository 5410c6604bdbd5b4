//! `rmw_shm_rs`: the command-line tool of the rmw_shm_rs middleware.
//!
//! ```text
//! rmw_shm_rs graph [--domain N] [--wait S]          nodes, endpoints, QoS and the path of each pair
//! rmw_shm_rs topics [--domain N] [--wait S]         topics with types, endpoint counts, services
//! rmw_shm_rs hz <topic> [--domain N] [--seconds S]  message rate of a topic
//! rmw_shm_rs clean [--dry-run]                      remove what dead processes left in shared memory
//! ```
//!
//! The tool joins a domain's graph as a passive observer: it announces a participant without
//! nodes, so it never shows up as a ROS node in other processes' graphs. See docs/cli.md.

mod clean;
mod graph;
mod hz;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
rmw_shm_rs: inspect and maintain the rmw_shm_rs shared-memory middleware on this host

usage:
  rmw_shm_rs graph  [--domain N] [--wait S]           nodes, endpoints (types, QoS) and the path of
                                                      every matched publisher/subscription pair
  rmw_shm_rs topics [--domain N] [--wait S]           topics and services with types and counts
  rmw_shm_rs hz <topic> [--domain N] [--seconds S]    message rate of a topic (default 5 s)
  rmw_shm_rs clean  [--dry-run]                       remove the shared-memory resources of dead
                                                      processes (all domains)
  rmw_shm_rs help

--domain defaults to ROS_DOMAIN_ID (0 when unset). --wait: how long to collect the graph at most
(default 2 s). Do not run it with LD_PRELOAD of librmw_shm_rs.so.
";

/// Parsed command-line options shared by the subcommands.
pub struct Opts {
    pub domain: usize,
    pub wait: Duration,
    pub seconds: f64,
    pub dry_run: bool,
    pub positional: Vec<String>,
}

fn default_domain() -> Result<usize, String> {
    match std::env::var("ROS_DOMAIN_ID") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map_err(|_| format!("ROS_DOMAIN_ID='{v}' is not a number")),
        _ => Ok(0),
    }
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        domain: default_domain()?,
        wait: Duration::from_secs(2),
        seconds: 5.0,
        dry_run: false,
        positional: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "--domain" | "-d" => {
                let v = value(a)?;
                o.domain = v
                    .parse()
                    .map_err(|_| format!("--domain '{v}' is not a number"))?;
            }
            "--seconds" | "-s" => {
                let v = value(a)?;
                o.seconds = v
                    .parse::<f64>()
                    .ok()
                    .filter(|s| *s > 0.0 && s.is_finite())
                    .ok_or_else(|| format!("--seconds '{v}' is not a positive number"))?;
            }
            "--wait" => {
                let v = value(a)?;
                let s = v
                    .parse::<f64>()
                    .ok()
                    .filter(|s| *s > 0.0 && s.is_finite())
                    .ok_or_else(|| format!("--wait '{v}' is not a positive number"))?;
                o.wait = Duration::from_secs_f64(s);
            }
            "--dry-run" | "-n" => o.dry_run = true,
            s if s.starts_with('-') => return Err(format!("unknown option '{s}'")),
            s => o.positional.push(s.to_owned()),
        }
    }
    Ok(o)
}

/// A status line on stderr for long operations: rewritten in place on a terminal, one line per
/// update otherwise (so logs of non-interactive runs stay readable).
pub struct Progress {
    tty: bool,
    shown: bool,
    last: Option<std::time::Instant>,
}

impl Progress {
    fn new() -> Self {
        Progress {
            tty: std::io::stderr().is_terminal(),
            shown: false,
            last: None,
        }
    }

    pub fn update(&mut self, text: &str) {
        // Without a terminal, at most one line per second.
        if !self.tty
            && self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        self.last = Some(std::time::Instant::now());
        let mut e = std::io::stderr().lock();
        if self.tty {
            let _ = write!(e, "\r\x1b[2K{text}");
        } else {
            let _ = writeln!(e, "{text}");
        }
        let _ = e.flush();
        self.shown = true;
    }

    pub fn finish(&mut self) {
        if self.tty && self.shown {
            let mut e = std::io::stderr().lock();
            let _ = write!(e, "\r\x1b[2K");
            let _ = e.flush();
        }
        self.shown = false;
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    if matches!(cmd.as_str(), "help" | "--help" | "-h") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if std::env::var("LD_PRELOAD").is_ok_and(|v| v.contains("librmw_shm_rs")) {
        eprintln!("rmw_shm_rs: warning: LD_PRELOAD holds librmw_shm_rs.so; unset it for this tool");
    }
    let opts = match parse(rest) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("rmw_shm_rs: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match cmd.as_str() {
        "graph" => graph::run_graph(&opts),
        "topics" => graph::run_topics(&opts),
        "hz" => hz::run(&opts),
        "clean" => clean::run(&opts),
        other => Err(format!("unknown command '{other}'\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rmw_shm_rs: {e}");
            ExitCode::FAILURE
        }
    }
}
