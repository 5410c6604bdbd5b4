//! rmw/qos_profiles.h: `rmw_qos_profile_check_compatible`.

use std::ffi::c_char;

use super::handles::{non_null, write_out};
use crate::entity::qos::{check_compatible, Compatibility};
use crate::error::Error;
use crate::rmw_export;
use crate::sys::*;

rmw_export! {
    /// Whether a publisher and a subscription with these profiles match, with rmw_fastrtps_cpp's
    /// verdicts and reasons. `reason` (optional) receives the text, truncated to `reason_size`
    /// bytes including the terminating NUL.
    fn rmw_qos_profile_check_compatible(publisher_profile: rmw_qos_profile_t, subscription_profile: rmw_qos_profile_t, compatibility: *mut rmw_qos_compatibility_type_t, reason: *mut c_char, reason_size: usize) -> rmw_ret_t {
        non_null(compatibility, "compatibility")?;
        if reason.is_null() && reason_size != 0 {
            return Err(Error::invalid("reason is null but reason_size is not 0"));
        }
        let (verdict, text) = check_compatible(&publisher_profile, &subscription_profile);
        let value = match verdict {
            Compatibility::Ok => rmw_qos_compatibility_type_e_RMW_QOS_COMPATIBILITY_OK,
            Compatibility::Warning => rmw_qos_compatibility_type_e_RMW_QOS_COMPATIBILITY_WARNING,
            Compatibility::Error => rmw_qos_compatibility_type_e_RMW_QOS_COMPATIBILITY_ERROR,
        };
        if reason_size > 0 {
            let n = text.len().min(reason_size - 1);
            // SAFETY: `reason` is non-null (checked) with room for `reason_size` bytes.
            unsafe {
                std::ptr::copy_nonoverlapping(text.as_ptr(), reason.cast::<u8>(), n);
                *reason.add(n) = 0;
            }
        }
        // SAFETY: non-null out-argument (checked above).
        unsafe { write_out(compatibility, "compatibility", value) }
    }
}
