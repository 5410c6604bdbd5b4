//! The C ABI: the only `#[no_mangle]` code. One file per area of the rmw headers; every
//! export checks its arguments (nulls, implementation identifiers), converts handles to
//! entities ([`handles`]) and calls safe Rust, under the panic guard of [`guard`].

pub mod guard;
pub mod handles;

mod client;
mod init;
mod node;
mod publisher;
mod serialize;
mod service;
mod strings;
mod subscription;
mod unsupported;
mod wait;
