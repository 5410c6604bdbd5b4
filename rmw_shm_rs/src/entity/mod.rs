//! The rmw entities as safe Rust: what the C handles' `data` pointers point to.

mod client;
mod context;
pub mod event;
mod gid;
mod guard_condition;
mod node;
mod publisher;
pub mod qos;
mod sequence;
mod service;
mod service_endpoint;
mod subscription;

pub use client::Client;
pub use context::Context;
pub use gid::Gid;
pub use guard_condition::GuardCondition;
pub use node::Node;
pub use publisher::Publisher;
pub use service::Service;
pub use service_endpoint::ServiceEndpoint;
pub use subscription::{Subscription, TakenInfo};

/// Nanoseconds since the Unix epoch (the clock of `rmw_message_info_t` timestamps).
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}
