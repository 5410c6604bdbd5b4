//! The remote path: the installed rmw_fastrtps_cpp, loaded privately and driven through its own
//! rmw functions, carries our CDR to and from other hosts (issue 5).

pub mod loader;

pub use loader::Delegate;
pub mod api;
pub mod context;
pub mod endpoints;
pub mod graph;
mod profile;
pub mod services;
pub mod shm_files;
mod watch;

pub use context::{DdsContext, DdsNode, DiscoveryOptions};
pub use endpoints::{
    DdsPublisher, DdsSubscription, LocalPrefixes, RemoteSample, TypeSupportHandle,
};
pub use services::{DdsClient, DdsService, ServiceTypeSupportHandle};
