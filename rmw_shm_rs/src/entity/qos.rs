//! QoS profiles: resolving SYSTEM_DEFAULT and BEST_AVAILABLE into what the endpoint really
//! gets, and the names of the policy values. docs/qos.md maps each policy onto the transport.

use crate::sys;

pub use sys::rmw_qos_profile_t as QosProfile;

/// `RMW_QOS_POLICY_HISTORY_KEEP_LAST`.
pub const KEEP_LAST: sys::rmw_qos_history_policy_e =
    sys::rmw_qos_history_policy_e_RMW_QOS_POLICY_HISTORY_KEEP_LAST;
/// `RMW_QOS_POLICY_HISTORY_KEEP_ALL`.
pub const KEEP_ALL: sys::rmw_qos_history_policy_e =
    sys::rmw_qos_history_policy_e_RMW_QOS_POLICY_HISTORY_KEEP_ALL;
const HISTORY_SYSTEM_DEFAULT: sys::rmw_qos_history_policy_e =
    sys::rmw_qos_history_policy_e_RMW_QOS_POLICY_HISTORY_SYSTEM_DEFAULT;
/// `RMW_QOS_POLICY_RELIABILITY_RELIABLE`.
pub const RELIABLE: sys::rmw_qos_reliability_policy_e =
    sys::rmw_qos_reliability_policy_e_RMW_QOS_POLICY_RELIABILITY_RELIABLE;
const RELIABILITY_SYSTEM_DEFAULT: sys::rmw_qos_reliability_policy_e =
    sys::rmw_qos_reliability_policy_e_RMW_QOS_POLICY_RELIABILITY_SYSTEM_DEFAULT;
const RELIABILITY_BEST_AVAILABLE: sys::rmw_qos_reliability_policy_e =
    sys::rmw_qos_reliability_policy_e_RMW_QOS_POLICY_RELIABILITY_BEST_AVAILABLE;
/// `RMW_QOS_POLICY_DURABILITY_VOLATILE`.
pub const VOLATILE: sys::rmw_qos_durability_policy_e =
    sys::rmw_qos_durability_policy_e_RMW_QOS_POLICY_DURABILITY_VOLATILE;
const DURABILITY_SYSTEM_DEFAULT: sys::rmw_qos_durability_policy_e =
    sys::rmw_qos_durability_policy_e_RMW_QOS_POLICY_DURABILITY_SYSTEM_DEFAULT;
const DURABILITY_BEST_AVAILABLE: sys::rmw_qos_durability_policy_e =
    sys::rmw_qos_durability_policy_e_RMW_QOS_POLICY_DURABILITY_BEST_AVAILABLE;
const LIVELINESS_AUTOMATIC: sys::rmw_qos_liveliness_policy_e =
    sys::rmw_qos_liveliness_policy_e_RMW_QOS_POLICY_LIVELINESS_AUTOMATIC;
const LIVELINESS_SYSTEM_DEFAULT: sys::rmw_qos_liveliness_policy_e =
    sys::rmw_qos_liveliness_policy_e_RMW_QOS_POLICY_LIVELINESS_SYSTEM_DEFAULT;
const LIVELINESS_BEST_AVAILABLE: sys::rmw_qos_liveliness_policy_e =
    sys::rmw_qos_liveliness_policy_e_RMW_QOS_POLICY_LIVELINESS_BEST_AVAILABLE;

/// Depth used for KEEP_LAST when the profile asks for the system default depth (0), as Fast
/// DDS does.
pub const DEFAULT_DEPTH: usize = 1;

/// The profile an endpoint actually gets: SYSTEM_DEFAULT becomes KEEP_LAST / RELIABLE /
/// VOLATILE / AUTOMATIC (rmw_fastrtps_cpp's defaults); BEST_AVAILABLE becomes RELIABLE,
/// VOLATILE and AUTOMATIC (the strongest this transport offers today: TRANSIENT_LOCAL comes
/// with the durability work); a KEEP_LAST depth of 0 becomes 1.
pub fn resolve(requested: &QosProfile) -> QosProfile {
    let mut q = *requested;
    if q.history == HISTORY_SYSTEM_DEFAULT {
        q.history = KEEP_LAST;
    }
    if q.history == KEEP_LAST && q.depth == 0 {
        q.depth = DEFAULT_DEPTH;
    }
    if q.reliability == RELIABILITY_SYSTEM_DEFAULT || q.reliability == RELIABILITY_BEST_AVAILABLE {
        q.reliability = RELIABLE;
    }
    if q.durability == DURABILITY_SYSTEM_DEFAULT || q.durability == DURABILITY_BEST_AVAILABLE {
        q.durability = VOLATILE;
    }
    if q.liveliness == LIVELINESS_SYSTEM_DEFAULT || q.liveliness == LIVELINESS_BEST_AVAILABLE {
        q.liveliness = LIVELINESS_AUTOMATIC;
    }
    q
}

/// How many samples a subscription queues under `qos` (before the transport's clamp):
/// KEEP_LAST keeps `depth`, KEEP_ALL as many as the transport allows.
pub fn queue_depth(qos: &QosProfile) -> usize {
    if qos.history == KEEP_ALL {
        usize::MAX
    } else {
        qos.depth.max(1)
    }
}

/// The default profile of services (`rmw_qos_profile_services_default`): reliable,
/// volatile, keep last 10.
pub fn services_default() -> QosProfile {
    QosProfile {
        history: KEEP_LAST,
        depth: 10,
        reliability: RELIABLE,
        durability: VOLATILE,
        liveliness: LIVELINESS_AUTOMATIC,
        ..Default::default()
    }
}
