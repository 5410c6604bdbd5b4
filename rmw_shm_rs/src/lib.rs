//! rmw_shm_rs: a ROS 2 middleware (rmw) implementation over iceoryx2 shared memory.
//!
//! Data flows one way: the C ABI ([`ffi`]) checks arguments and converts handles into
//! entities ([`entity`]); a publisher serializes the ROS message to CDR through the cached
//! type plan ([`typesupport`], [`cdr`]) straight into a loaned shared-memory sample of the
//! transport ([`transport`]); a subscription deserializes out of the received sample; wait sets
//! ([`wait`]) block on the transport's event file descriptors and on guard conditions.

pub mod cdr;
pub mod counters;
pub mod delegate;
pub mod entity;
pub mod error;
pub mod ffi;
mod finished;
pub mod graph;
pub mod log;
pub mod path;
pub mod sys;
pub mod transport;
pub mod typesupport;
pub mod wait;
