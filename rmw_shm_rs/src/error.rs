//! The crate's error type and its mapping onto `rmw_ret_t` (rmw/ret_types.h).

use crate::sys::rmw_ret_t;
use crate::{cdr::CdrError, typesupport::TypeSupportError};

/// `RMW_RET_OK`.
pub const RET_OK: rmw_ret_t = crate::sys::RMW_RET_OK as rmw_ret_t;
/// `RMW_RET_ERROR`.
pub const RET_ERROR: rmw_ret_t = crate::sys::RMW_RET_ERROR as rmw_ret_t;
/// `RMW_RET_TIMEOUT`.
pub const RET_TIMEOUT: rmw_ret_t = crate::sys::RMW_RET_TIMEOUT as rmw_ret_t;
/// `RMW_RET_UNSUPPORTED`.
pub const RET_UNSUPPORTED: rmw_ret_t = crate::sys::RMW_RET_UNSUPPORTED as rmw_ret_t;
/// `RMW_RET_BAD_ALLOC`.
pub const RET_BAD_ALLOC: rmw_ret_t = crate::sys::RMW_RET_BAD_ALLOC as rmw_ret_t;
/// `RMW_RET_INVALID_ARGUMENT`.
pub const RET_INVALID_ARGUMENT: rmw_ret_t = crate::sys::RMW_RET_INVALID_ARGUMENT as rmw_ret_t;
/// `RMW_RET_INCORRECT_RMW_IMPLEMENTATION`.
pub const RET_INCORRECT_RMW_IMPLEMENTATION: rmw_ret_t =
    crate::sys::RMW_RET_INCORRECT_RMW_IMPLEMENTATION as rmw_ret_t;
/// `RMW_RET_NODE_NAME_NON_EXISTENT`.
pub const RET_NODE_NAME_NON_EXISTENT: rmw_ret_t =
    crate::sys::RMW_RET_NODE_NAME_NON_EXISTENT as rmw_ret_t;

/// Every failure the library reports. Each variant maps to one `rmw_ret_t` ([`Error::ret`]);
/// the `Display` text becomes the rcutils error message.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A null pointer, a zero-initialized handle, or a value the rmw header rules out.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A handle created by another rmw implementation.
    #[error("{what} was created by implementation '{found}', not rmw_shm_rs")]
    IncorrectImplementation { what: &'static str, found: String },
    /// The rmw function or the requested mode is not implemented (see docs/capabilities.md).
    #[error("not supported by rmw_shm_rs: {0}")]
    Unsupported(String),
    /// A resource could not be allocated (memory, shared-memory segment, port).
    #[error("allocation failed: {0}")]
    BadAlloc(String),
    /// `rmw_wait` found nothing ready before the timeout; sets no error message.
    #[error("timeout")]
    Timeout,
    /// A node name that the graph does not know.
    #[error("node name does not exist: {0}")]
    NodeNameNonExistent(String),
    /// Serialized data that does not decode, or a message that does not encode.
    #[error("CDR: {0}")]
    Cdr(#[from] CdrError),
    /// A type support handle that cannot be resolved to an introspection type support.
    #[error("type support: {0}")]
    TypeSupport(#[from] TypeSupportError),
    /// The shared-memory transport failed.
    #[error("shared memory: {0}")]
    Transport(String),
    /// Any other failure.
    #[error("{0}")]
    Other(String),
}

/// Result alias used by every safe layer below the C ABI.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The `rmw_ret_t` that the rmw headers document for this failure.
    pub fn ret(&self) -> rmw_ret_t {
        match self {
            Error::InvalidArgument(_) => RET_INVALID_ARGUMENT,
            Error::IncorrectImplementation { .. } => RET_INCORRECT_RMW_IMPLEMENTATION,
            Error::Unsupported(_) => RET_UNSUPPORTED,
            Error::BadAlloc(_) => RET_BAD_ALLOC,
            Error::Timeout => RET_TIMEOUT,
            Error::NodeNameNonExistent(_) => RET_NODE_NAME_NON_EXISTENT,
            Error::Cdr(_) | Error::TypeSupport(_) | Error::Transport(_) | Error::Other(_) => {
                RET_ERROR
            }
        }
    }

    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }

    /// Shorthand for [`Error::Transport`] from any displayable iceoryx2 error.
    pub fn transport(context: &str, e: impl std::fmt::Debug) -> Self {
        Error::Transport(format!("{context}: {e:?}"))
    }
}
