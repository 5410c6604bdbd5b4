//! Transports that carry samples between publishers and subscriptions.
//!
//! - [`shm`]: processes on the same host, through iceoryx2 shared memory (every pair today).
//!
//! Intra-process delivery without serialization and the DDS path to other hosts plug in here
//! (see docs/architecture.md).

pub mod shm;
