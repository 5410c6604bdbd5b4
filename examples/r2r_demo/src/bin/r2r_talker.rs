//! r2r talker: publishes std_msgs/msg/String "Hello from r2r: <i>" (i = 1, 2, ...) at ~10 Hz.

use std::time::{Duration, Instant};

use r2r::QosProfile;
use r2r_demo::{announce_rmw, install_watchdog, Args};

const USAGE: &str = "usage: r2r_talker [--count N (0 = until stopped)] [--topic /chatter] \
[--period 0.1 (s)] [--wait-match S (first wait up to S s for a subscriber; 0 = do not)] \
[--linger 10 (s, after the last message wait for the subscribers to leave)] [--watchdog S]";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse(
        USAGE,
        &[
            "count",
            "topic",
            "period",
            "wait-match",
            "linger",
            "watchdog",
        ],
    );
    let count: u64 = args.get("count", 0);
    let topic: String = args.get("topic", "/chatter".to_string());
    let period = Duration::from_secs_f64(args.get("period", 0.1));
    let wait_match: f64 = args.get("wait-match", 0.0);
    let linger: f64 = args.get("linger", 10.0);
    install_watchdog(args.get("watchdog", 0.0), "r2r_talker");

    let ctx = r2r::Context::create()?;
    announce_rmw("r2r_talker");
    let mut node = r2r::Node::create(ctx, "r2r_talker", "")?;
    let publisher =
        node.create_publisher::<r2r::std_msgs::msg::String>(&topic, QosProfile::default())?;

    if wait_match > 0.0 {
        let deadline = Instant::now() + Duration::from_secs_f64(wait_match);
        while publisher.get_inter_process_subscription_count()? == 0 {
            if Instant::now() >= deadline {
                println!("r2r_talker: no subscription matched within {wait_match} s");
                std::process::exit(2);
            }
            node.spin_once(Duration::from_millis(20));
        }
        println!("r2r_talker: subscription matched");
    }

    let mut n: u64 = 0;
    let mut next = Instant::now();
    while count == 0 || n < count {
        n += 1;
        let msg = r2r::std_msgs::msg::String {
            data: format!("Hello from r2r: {n}"),
        };
        println!("Publishing: '{}'", msg.data);
        publisher.publish(&msg)?;
        next += period;
        // Spin until the next slot (keeps graph and other events moving).
        loop {
            let now = Instant::now();
            if now >= next {
                break;
            }
            node.spin_once((next - now).min(Duration::from_millis(50)));
        }
    }
    println!("r2r_talker: published {n} messages");

    let deadline = Instant::now() + Duration::from_secs_f64(linger);
    while Instant::now() < deadline && publisher.get_inter_process_subscription_count()? > 0 {
        node.spin_once(Duration::from_millis(20));
    }
    Ok(())
}
