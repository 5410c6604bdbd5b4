//! `hz <topic>`: subscribes to a topic's shared-memory service directly (no ROS node, no graph
//! entry) and reports the message rate.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use rmw_shm_rs::graph::model::EndpointKind;
use rmw_shm_rs::transport::shm::{Lane, ShmSubscriber, Wake};

use crate::graph::observe;
use crate::{Opts, Progress};

/// Samples a subscriber queues between two looks (the tool looks every millisecond).
const DEPTH: usize = 64;

fn fully_qualified(topic: &str) -> String {
    if topic.starts_with('/') {
        topic.to_owned()
    } else {
        format!("/{topic}")
    }
}

pub fn run(opts: &Opts) -> Result<(), String> {
    let [topic] = opts.positional.as_slice() else {
        return Err("hz needs exactly one topic name".into());
    };
    let topic = fully_qualified(topic);
    let obs = observe(opts)?;
    let types: BTreeSet<(String, String)> = obs
        .participants
        .iter()
        .flat_map(|p| p.nodes.iter())
        .flat_map(|n| n.endpoints.iter())
        .filter(|e| e.kind == EndpointKind::Publisher && e.name == topic)
        .map(|e| (e.type_name.clone(), e.type_hash.clone()))
        .collect();
    if types.is_empty() {
        return Err(format!(
            "no publisher of {topic} in domain {} (see `rmw_shm_rs topics`)",
            opts.domain
        ));
    }
    let mut subscribers = Vec::new();
    for (ty, hash) in &types {
        let hash = if hash.is_empty() {
            None
        } else {
            Some(hash.as_str())
        };
        let service = obs.shm.topic_service_name(&topic, ty, hash);
        // Polled below: no wake-up target.
        let nowhere = std::sync::Weak::<Wake>::new();
        let sub = ShmSubscriber::new(&obs.shm, &service, DEPTH, Lane::Volatile, nowhere)
            .map_err(|e| format!("cannot subscribe to {topic} [{ty}]: {e}"))?;
        subscribers.push(sub);
    }
    let names: Vec<&str> = types.iter().map(|(t, _)| t.as_str()).collect();
    println!(
        "{topic} [{}]: measuring for {:.1} s (domain {})",
        names.join(", "),
        opts.seconds,
        opts.domain
    );

    let window = Duration::from_secs_f64(opts.seconds);
    let start = Instant::now();
    let mut arrivals: Vec<Instant> = Vec::new();
    let mut bytes: u64 = 0;
    let mut per_publisher: HashMap<[u8; 16], u64> = HashMap::new();
    let mut progress = Progress::new();
    let mut next_report = Duration::from_secs(1);
    while start.elapsed() < window {
        let mut got = false;
        for s in &subscribers {
            while let Ok(Some(sample)) = s.receive() {
                arrivals.push(Instant::now());
                bytes += sample.payload().len() as u64;
                *per_publisher
                    .entry(sample.header().publisher_gid)
                    .or_default() += 1;
                got = true;
            }
        }
        obs.shm.doorbell().drain();
        let elapsed = start.elapsed();
        if elapsed >= next_report {
            progress.update(&format!(
                "[{:.0}/{:.0} s] {} messages, {:.2} Hz",
                elapsed.as_secs_f64(),
                opts.seconds,
                arrivals.len(),
                arrivals.len() as f64 / elapsed.as_secs_f64()
            ));
            next_report += Duration::from_secs(1);
        }
        if !got {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    progress.finish();
    let elapsed = start.elapsed().as_secs_f64();
    let n = arrivals.len();
    println!(
        "messages: {n} in {elapsed:.2} s from {} publishers",
        per_publisher.len()
    );
    if n == 0 {
        println!("average rate: 0.00 Hz (no messages)");
        return Ok(());
    }
    // Rate from the gaps between arrivals (like `ros2 topic hz`) when there are two or more.
    let gaps: Vec<f64> = arrivals
        .windows(2)
        .map(|w| w[1].duration_since(w[0]).as_secs_f64())
        .collect();
    if gaps.is_empty() {
        println!("average rate: {:.2} Hz (one message)", n as f64 / elapsed);
    } else {
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let min = gaps.iter().copied().fold(f64::INFINITY, f64::min);
        let max = gaps.iter().copied().fold(0.0, f64::max);
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        let rate = if mean > 0.0 {
            1.0 / mean
        } else {
            f64::INFINITY
        };
        println!("average rate: {rate:.2} Hz");
        println!(
            "  gaps: min {min:.4} s, max {max:.4} s, std dev {:.4} s, window {}",
            var.sqrt(),
            gaps.len()
        );
    }
    println!(
        "bandwidth: {:.1} B/s, average size {} B",
        bytes as f64 / elapsed,
        bytes / n as u64
    );
    Ok(())
}
