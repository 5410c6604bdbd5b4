//! Transports that carry samples between publishers and subscriptions.
//!
//! - [`intra`]: endpoints of one rmw context, C messages handed over without CDR;
//! - [`shm`]: processes on the same host, through iceoryx2 shared memory.
//!
//! [`crate::path`] decides which one each publisher/subscription pair uses. The DDS path to
//! other hosts plugs in here (see docs/architecture.md).

pub mod intra;
pub mod shm;
