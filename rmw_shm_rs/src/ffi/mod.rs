//! The C ABI: the only `#[no_mangle]` code. One file per area of the rmw headers; every
//! export checks its arguments (nulls, implementation identifiers), converts handles to
//! entities ([`handles`]) and calls safe Rust, under the panic guard of [`guard`].

pub mod guard;
pub mod handles;

pub mod callback;
pub mod client;
pub mod event;
pub mod forward;
pub mod graph;
pub mod init;
mod limits;
pub mod loan;
pub mod node;
pub mod publisher;
pub mod qos;
pub mod serialize;
pub mod service;
mod strings;
pub mod subscription;
pub mod unsupported;
pub mod wait;
