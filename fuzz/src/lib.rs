//! Helpers shared by the fuzz targets: the message types under test ([`types`]) and the
//! allocation check ([`alloc`]). See docs/fuzzing.md.

pub mod alloc;
pub mod rng;
pub mod types;
