//! rmw/init_options.h, rmw/init.h and the implementation-wide queries of rmw/rmw.h.

use std::ffi::{c_char, CStr};
use std::sync::Arc;

use super::handles::{
    check_identifier, entity, into_data, non_null, take_data, IDENTIFIER, SERIALIZATION_FORMAT,
};
use super::strings::{free_with, strdup_with};
use crate::entity::Context;
use crate::error::{Error, Result};
use crate::rmw_export;
use crate::sys::*;

fn check_ret(r: rmw_ret_t, what: &str) -> Result<()> {
    if r == crate::error::RET_OK {
        Ok(())
    } else {
        Err(Error::Other(format!("{what} failed ({r})")))
    }
}

/// Deep copy of init options (`rmw_init_options_copy` semantics) without going through our
/// exported symbol (a preload or dispatcher could redirect it).
unsafe fn copy_options(src: &rmw_init_options_t, dst: &mut rmw_init_options_t) -> Result<()> {
    // SAFETY: a valid allocator was stored by rmw_init_options_init.
    if !unsafe { rcutils_allocator_is_valid(&src.allocator) } {
        return Err(Error::invalid(
            "source init options have an invalid allocator",
        ));
    }
    let mut allocator = src.allocator;
    let mut out = *src;
    // SAFETY: the source enclave is null or a C string owned by the source options.
    out.enclave = unsafe { strdup_with(src.enclave, &allocator)? };
    // SAFETY: zero-initialized targets, valid sources and allocator, as the helpers require.
    unsafe {
        out.security_options = rmw_get_zero_initialized_security_options();
        out.discovery_options = rmw_get_zero_initialized_discovery_options();
        let r =
            rmw_security_options_copy(&src.security_options, &allocator, &mut out.security_options);
        if let Err(e) = check_ret(r, "copying the security options") {
            free_with(out.enclave, &allocator);
            return Err(e);
        }
        let r = rmw_discovery_options_copy(
            &src.discovery_options,
            &mut allocator,
            &mut out.discovery_options,
        );
        if let Err(e) = check_ret(r, "copying the discovery options") {
            rmw_security_options_fini(&mut out.security_options, &allocator);
            free_with(out.enclave, &allocator);
            return Err(e);
        }
    }
    *dst = out;
    Ok(())
}

/// Releases what [`copy_options`] or `rmw_init_options_init` allocated and zeroes the struct.
unsafe fn fini_options(opts: &mut rmw_init_options_t) -> Result<()> {
    let allocator = opts.allocator;
    // SAFETY: the options were initialized by us with this allocator.
    unsafe {
        if !rcutils_allocator_is_valid(&allocator) {
            return Err(Error::invalid("init options have an invalid allocator"));
        }
        free_with(opts.enclave, &allocator);
        check_ret(
            rmw_security_options_fini(&mut opts.security_options, &allocator),
            "security options fini",
        )?;
        check_ret(
            rmw_discovery_options_fini(&mut opts.discovery_options),
            "discovery options fini",
        )?;
        *opts = rmw_get_zero_initialized_init_options();
    }
    Ok(())
}

rmw_export! {
    /// Initializes zero-initialized init options with `allocator` (rmw/init_options.h).
    fn rmw_init_options_init(init_options: *mut rmw_init_options_t, allocator: rcutils_allocator_t) -> rmw_ret_t {
        non_null(init_options, "init_options")?;
        // SAFETY: non-null, points to caller-owned options.
        let opts = unsafe { &mut *init_options };
        if !opts.implementation_identifier.is_null() {
            return Err(Error::invalid("init_options must be zero-initialized"));
        }
        // SAFETY: reads the allocator's function pointers only.
        if !unsafe { rcutils_allocator_is_valid(&allocator) } {
            return Err(Error::invalid("allocator is invalid"));
        }
        let mut allocator = allocator;
        // SAFETY: plain constructors from librmw.
        let mut out = unsafe { rmw_get_zero_initialized_init_options() };
        out.instance_id = 0;
        out.implementation_identifier = IDENTIFIER.as_ptr();
        out.allocator = allocator;
        out.domain_id = RMW_DEFAULT_DOMAIN_ID as usize;
        // SAFETY: zero-initialized discovery options and a valid allocator.
        unsafe {
            out.security_options = rmw_get_zero_initialized_security_options();
            out.discovery_options = rmw_get_zero_initialized_discovery_options();
            check_ret(rmw_discovery_options_init(&mut out.discovery_options, 0, &mut allocator), "discovery options init")?;
        }
        *opts = out;
        Ok(())
    }
}

rmw_export! {
    /// Deep-copies init options into zero-initialized `dst` (rmw/init_options.h).
    forward(src);
    fn rmw_init_options_copy(src: *const rmw_init_options_t, dst: *mut rmw_init_options_t) -> rmw_ret_t {
        non_null(src, "src")?;
        non_null(dst, "dst")?;
        // SAFETY: non-null caller-owned options.
        let (src, dst) = unsafe { (&*src, &mut *dst) };
        // SAFETY: the identifier is null or a C string.
        unsafe { check_identifier(src.implementation_identifier, "source init options")? };
        if !dst.implementation_identifier.is_null() {
            return Err(Error::invalid("dst must be zero-initialized"));
        }
        // SAFETY: both valid; dst zero-initialized.
        unsafe { copy_options(src, dst) }
    }
}

rmw_export! {
    /// Finalizes init options (rmw/init_options.h).
    forward(init_options);
    fn rmw_init_options_fini(init_options: *mut rmw_init_options_t) -> rmw_ret_t {
        non_null(init_options, "init_options")?;
        // SAFETY: non-null caller-owned options.
        let opts = unsafe { &mut *init_options };
        // SAFETY: the identifier is null or a C string.
        unsafe { check_identifier(opts.implementation_identifier, "init options")? };
        // SAFETY: options initialized by this implementation.
        unsafe { fini_options(opts) }
    }
}

fn security_enforced(opts: &rmw_init_options_t) -> bool {
    opts.security_options.enforce_security
        == rmw_security_enforcement_policy_e_RMW_SECURITY_ENFORCEMENT_ENFORCE
}

/// Whether security was asked for without enforcement: rcl found a keystore enclave
/// (`security_root_path`), or `ROS_SECURITY_ENABLE=true` (rcl's own test; with
/// `ROS_SECURITY_STRATEGY=Permissive` and no keystore it passes no other trace of it).
fn security_requested(opts: &rmw_init_options_t) -> bool {
    !opts.security_options.security_root_path.is_null()
        || std::env::var("ROS_SECURITY_ENABLE").is_ok_and(|v| v == "true")
}

/// The `rmw_init` error when enforcement is requested (docs/security.md).
pub const SECURITY_ENFORCE_ERROR: &str = "security is not supported by rmw_shm_rs: \
    ROS_SECURITY_STRATEGY=Enforce asks for authentication, encryption and access control, \
    which this middleware does not provide; refusing to run without them \
    (unset ROS_SECURITY_ENABLE, or set ROS_SECURITY_STRATEGY=Permissive to run unsecured)";

/// The warning `rmw_init` prints when security is requested without enforcement.
pub const SECURITY_PERMISSIVE_WARNING: &str = "security is not supported by rmw_shm_rs: \
    ROS_SECURITY_ENABLE=true without ROS_SECURITY_STRATEGY=Enforce (Permissive), so this \
    process runs WITHOUT security \
    (no authentication, encryption or access control; shared memory is readable only by \
    the same user, remote traffic is plain DDS)";

/// A warning the user must see even when `RMW_SHM_RS_LOG` is unset: through `tracing` when a
/// subscriber takes it, else straight to stderr (never rcutils logging, see src/log.rs).
fn warn_always(msg: &str) {
    if tracing::enabled!(target: "rmw_shm_rs::security", tracing::Level::WARN) {
        tracing::warn!(target: "rmw_shm_rs::security", "{msg}");
    } else {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "[WARN] [rmw_shm_rs]: {msg}");
    }
}

rmw_export! {
    /// Initializes the middleware into a zero-initialized context (rmw/init.h). Fails with
    /// `RMW_RET_ERROR` (and leaves the context zero-initialized) when security enforcement is
    /// requested: rmw_shm_rs has no security plugin. Security requested without enforcement
    /// runs unsecured after a warning on stderr.
    forward(options);
    fn rmw_init(options: *const rmw_init_options_t, context: *mut rmw_context_t) -> rmw_ret_t {
        crate::log::init();
        non_null(options, "options")?;
        non_null(context, "context")?;
        // SAFETY: non-null caller-owned structs.
        let (opts, ctx) = unsafe { (&*options, &mut *context) };
        // SAFETY: the identifier is null or a C string.
        unsafe { check_identifier(opts.implementation_identifier, "init options")? };
        if !ctx.implementation_identifier.is_null() {
            return Err(Error::invalid("context must be zero-initialized"));
        }
        if security_enforced(opts) {
            return Err(Error::Other(SECURITY_ENFORCE_ERROR.into()));
        }
        if security_requested(opts) {
            warn_always(SECURITY_PERMISSIVE_WARNING);
        }
        let domain_id = if opts.domain_id == RMW_DEFAULT_DOMAIN_ID as usize { 0 } else { opts.domain_id };
        let enclave = if opts.enclave.is_null() {
            String::from("/")
        } else {
            // SAFETY: non-null C string owned by the options.
            unsafe { CStr::from_ptr(opts.enclave) }.to_string_lossy().into_owned()
        };
        let d = &opts.discovery_options;
        let static_peers = (0..d.static_peers_count)
            .filter(|_| !d.static_peers.is_null())
            .map(|i| {
                // SAFETY: `static_peers` holds `static_peers_count` entries (rmw_discovery_options_t).
                let raw = unsafe { &(*d.static_peers.add(i)).peer_address };
                // SAFETY: a fixed array; CStr::from_bytes_until_nul stops at the first NUL.
                let bytes = unsafe { std::slice::from_raw_parts(raw.as_ptr().cast::<u8>(), raw.len()) };
                CStr::from_bytes_until_nul(bytes).map(CStr::to_owned).unwrap_or_default()
            })
            .collect();
        let discovery = crate::delegate::DiscoveryOptions {
            range: d.automatic_discovery_range,
            static_peers,
        };
        super::limits::raise_fd_limit();
        let state = Arc::new(Context::new(domain_id, enclave, discovery)?);
        // SAFETY: zero-initialized target, valid source.
        let mut copied = unsafe { rmw_get_zero_initialized_init_options() };
        // SAFETY: as above.
        unsafe { copy_options(opts, &mut copied)? };
        ctx.instance_id = opts.instance_id;
        ctx.implementation_identifier = IDENTIFIER.as_ptr();
        ctx.actual_domain_id = domain_id;
        ctx.options = copied;
        ctx.impl_ = into_data(state).cast();
        tracing::debug!(target: "rmw_shm_rs::init", domain_id, "context initialized");
        Ok(())
    }
}

rmw_export! {
    /// Shuts the context down (rmw/init.h): entities may still be destroyed, none created.
    forward(context);
    fn rmw_shutdown(context: *mut rmw_context_t) -> rmw_ret_t {
        // SAFETY: null or a context; checked by `entity`.
        let ctx = unsafe { entity(context.cast_const())? };
        ctx.shutdown();
        Ok(())
    }
}

rmw_export! {
    /// Finalizes a shut-down context and zeroes it (rmw/init.h).
    forward(context);
    fn rmw_context_fini(context: *mut rmw_context_t) -> rmw_ret_t {
        // SAFETY: null or a context; checked by `entity`.
        let state = unsafe { entity(context.cast_const())? };
        if !state.is_shutdown() {
            return Err(Error::invalid("context has not been shut down"));
        }
        // SAFETY: checked above: a context of ours.
        let ctx = unsafe { &mut *context };
        // SAFETY: `impl_` holds the `Arc<Context>` stored by rmw_init; not used after this.
        drop(unsafe { take_data::<Context>(ctx.impl_.cast()) });
        // SAFETY: options copied by rmw_init.
        unsafe { fini_options(&mut ctx.options)? };
        // SAFETY: plain constructor.
        *ctx = unsafe { rmw_get_zero_initialized_context() };
        Ok(())
    }
}

rmw_export! {
    /// "rmw_shm_rs" (rmw/rmw.h).
    fn rmw_get_implementation_identifier() -> *const c_char = std::ptr::null(); {
        Ok(IDENTIFIER.as_ptr())
    }
}

rmw_export! {
    /// "cdr": the CDR encoding rmw_fastrtps_cpp uses (rmw/rmw.h).
    fn rmw_get_serialization_format() -> *const c_char = std::ptr::null(); {
        Ok(SERIALIZATION_FORMAT.as_ptr())
    }
}

rmw_export! {
    /// Accepts the five `rmw_log_severity_t` values and changes nothing: the library logs
    /// through `tracing` (RMW_SHM_RS_LOG), never through rcutils. Any other value is
    /// RMW_RET_INVALID_ARGUMENT.
    #[allow(non_upper_case_globals)] // bindgen's names of the C enumerators
    fn rmw_set_log_severity(severity: rmw_log_severity_t) -> rmw_ret_t {
        match severity {
            rmw_log_severity_t_RMW_LOG_SEVERITY_DEBUG
            | rmw_log_severity_t_RMW_LOG_SEVERITY_INFO
            | rmw_log_severity_t_RMW_LOG_SEVERITY_WARN
            | rmw_log_severity_t_RMW_LOG_SEVERITY_ERROR
            | rmw_log_severity_t_RMW_LOG_SEVERITY_FATAL => Ok(()),
            _ => Err(Error::invalid(format!("unknown log severity {severity}"))),
        }
    }
}

rmw_export! {
    /// Publication and reception sequence numbers are filled in; the other features are not
    /// offered (rmw/features.h).
    fn rmw_feature_supported(feature: rmw_feature_t) -> bool = false; {
        Ok(feature == rmw_feature_e_RMW_FEATURE_MESSAGE_INFO_PUBLICATION_SEQUENCE_NUMBER
            || feature == rmw_feature_e_RMW_FEATURE_MESSAGE_INFO_RECEPTION_SEQUENCE_NUMBER)
    }
}
