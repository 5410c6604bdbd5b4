//! r2r listener: prints every std_msgs/msg/String it receives as "I heard: '<data>'" and exits
//! after --count messages (0 = never).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use futures::{executor::LocalPool, stream::StreamExt, task::LocalSpawnExt};
use r2r::QosProfile;
use r2r_demo::{announce_rmw, install_watchdog, Args};

const USAGE: &str =
    "usage: r2r_listener [--count N (0 = never exit)] [--topic /chatter] [--watchdog S]";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse(USAGE, &["count", "topic", "watchdog"]);
    let count: usize = args.get("count", 0);
    let topic: String = args.get("topic", "/chatter".to_string());
    install_watchdog(args.get("watchdog", 0.0), "r2r_listener");

    let ctx = r2r::Context::create()?;
    announce_rmw("r2r_listener");
    let mut node = r2r::Node::create(ctx, "r2r_listener", "")?;
    let mut sub = node.subscribe::<r2r::std_msgs::msg::String>(&topic, QosProfile::default())?;

    let received = Rc::new(Cell::new(0usize));
    let mut pool = LocalPool::new();
    let counter = received.clone();
    pool.spawner().spawn_local(async move {
        while let Some(msg) = sub.next().await {
            counter.set(counter.get() + 1);
            println!("I heard: '{}'", msg.data);
        }
    })?;
    println!("r2r_listener: ready");

    while count == 0 || received.get() < count {
        node.spin_once(Duration::from_millis(100));
        pool.run_until_stalled();
    }
    println!("r2r_listener: received {} messages", received.get());
    Ok(())
}
