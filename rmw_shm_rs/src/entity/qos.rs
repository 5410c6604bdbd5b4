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

/// `RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL`.
pub const TRANSIENT_LOCAL: sys::rmw_qos_durability_policy_e =
    sys::rmw_qos_durability_policy_e_RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL;
/// `RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT`.
pub const BEST_EFFORT: sys::rmw_qos_reliability_policy_e =
    sys::rmw_qos_reliability_policy_e_RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT;

/// Depth used for KEEP_LAST when the profile asks for the system default depth (0), as Fast
/// DDS does.
pub const DEFAULT_DEPTH: usize = 1;

/// The profile a publisher actually gets: SYSTEM_DEFAULT becomes KEEP_LAST / RELIABLE /
/// VOLATILE / AUTOMATIC (rmw_fastrtps_cpp's defaults); BEST_AVAILABLE becomes the strongest
/// offer, RELIABLE and TRANSIENT_LOCAL (as rmw_dds_common resolves it for publishers); a
/// KEEP_LAST depth of 0 becomes 1.
pub fn resolve_publisher(requested: &QosProfile) -> QosProfile {
    let mut q = *requested;
    if q.durability == DURABILITY_BEST_AVAILABLE {
        q.durability = TRANSIENT_LOCAL;
    }
    resolve(&q)
}

/// The profile a subscription actually gets, given the QoS of the publishers already on its
/// topic: BEST_AVAILABLE asks for RELIABLE (TRANSIENT_LOCAL) only when every such publisher
/// offers it, so that it matches them all (rmw_dds_common's rule); other values as
/// [`resolve_publisher`].
pub fn resolve_subscription(requested: &QosProfile, publishers: &[QosProfile]) -> QosProfile {
    let mut q = *requested;
    if q.reliability == RELIABILITY_BEST_AVAILABLE {
        q.reliability = if publishers.iter().all(|p| p.reliability == RELIABLE) {
            RELIABLE
        } else {
            BEST_EFFORT
        };
    }
    if q.durability == DURABILITY_BEST_AVAILABLE {
        q.durability = if !publishers.is_empty()
            && publishers.iter().all(|p| p.durability == TRANSIENT_LOCAL)
        {
            TRANSIENT_LOCAL
        } else {
            VOLATILE
        };
    }
    resolve(&q)
}

/// SYSTEM_DEFAULT becomes KEEP_LAST / RELIABLE / VOLATILE / AUTOMATIC; a remaining
/// BEST_AVAILABLE becomes RELIABLE / VOLATILE / AUTOMATIC (services and clients use this as is).
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

/// A duration in nanoseconds, `None` for the default (zero) and for infinite durations.
pub fn finite_ns(t: &sys::rmw_time_t) -> Option<u64> {
    let ns = t.sec.checked_mul(1_000_000_000)?.checked_add(t.nsec)?;
    (ns != 0 && ns < i64::MAX as u64).then_some(ns)
}

/// Whether a sample stamped `source_ns` (ns since the epoch) is still within the publisher's
/// `lifespan_ns` at `now_ns` (rmw QoS lifespan: older samples are not delivered). 0 means
/// infinite, and so does a lifespan beyond `i64` nanoseconds (292 years), which a peer may send.
pub fn within_lifespan(now_ns: i64, source_ns: i64, lifespan_ns: u64) -> bool {
    lifespan_ns == 0
        || i64::try_from(lifespan_ns).map_or(true, |l| now_ns.saturating_sub(source_ns) <= l)
}

/// `qos` as DDS matching sees it: an unspecified deadline or liveliness lease duration (0) is
/// infinite. Endpoints reported by DDS discovery (other hosts) carry RMW_DURATION_INFINITE where
/// a ROS profile says "unspecified"; comparing both in this form gives DDS's verdict
/// (DDS 1.4 §2.2.3) for either.
pub fn for_matching(qos: &QosProfile) -> QosProfile {
    let infinite = sys::rmw_time_t {
        sec: 9_223_372_036,
        nsec: 854_775_807,
    };
    let fix = |t: sys::rmw_time_t| {
        if t.sec == 0 && t.nsec == 0 {
            infinite
        } else {
            t
        }
    };
    QosProfile {
        deadline: fix(qos.deadline),
        liveliness_lease_duration: fix(qos.liveliness_lease_duration),
        ..*qos
    }
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

/// Verdict of [`check_compatible`] (`rmw_qos_compatibility_type_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compatibility {
    /// The pair matches.
    Ok,
    /// The pair may not match (a policy is SYSTEM_DEFAULT or UNKNOWN).
    Warning,
    /// The pair never matches.
    Error,
}

fn time_is_default(t: &sys::rmw_time_t) -> bool {
    t.sec == 0 && t.nsec == 0
}

fn time_less(a: &sys::rmw_time_t, b: &sys::rmw_time_t) -> bool {
    (a.sec, a.nsec) < (b.sec, b.nsec)
}

fn unknown_name(value: u32, system_default: u32) -> &'static str {
    if value == system_default {
        "system_default"
    } else {
        "unknown"
    }
}

/// Whether a publisher with `publisher` QoS and a subscription with `subscription` QoS match,
/// with the verdicts and reason texts of rmw_fastrtps_cpp (rmw_dds_common's check, which
/// follows the DDS request/offered rules of DDS 1.4 §2.2.3): errors for a best-effort publisher
/// and reliable subscription, volatile publisher and transient-local subscription, deadlines and
/// liveliness lease durations the publisher does not offer, automatic publisher liveliness with
/// manual-by-topic subscription liveliness; warnings only when there is no error and a policy is
/// SYSTEM_DEFAULT or UNKNOWN on one side.
pub fn check_compatible(
    publisher: &QosProfile,
    subscription: &QosProfile,
) -> (Compatibility, String) {
    use sys::*;
    let (p, s) = (publisher, subscription);
    let best_effort = BEST_EFFORT;
    let transient_local = TRANSIENT_LOCAL;
    let automatic = LIVELINESS_AUTOMATIC;
    let manual_by_topic = rmw_qos_liveliness_policy_e_RMW_QOS_POLICY_LIVELINESS_MANUAL_BY_TOPIC;
    let mut verdict = Compatibility::Ok;
    let mut reason = String::new();
    for (_, text) in incompatibilities(p, s) {
        verdict = Compatibility::Error;
        reason.push_str("ERROR: ");
        reason.push_str(text);
        reason.push(';');
    }
    if verdict == Compatibility::Ok {
        let mut warn = |text: String| {
            verdict = Compatibility::Warning;
            reason.push_str("WARNING: ");
            reason.push_str(&text);
            reason.push(';');
        };
        let rel_unknown = |v| {
            v == RELIABILITY_SYSTEM_DEFAULT
                || v == rmw_qos_reliability_policy_e_RMW_QOS_POLICY_RELIABILITY_UNKNOWN
        };
        let dur_unknown = |v| {
            v == DURABILITY_SYSTEM_DEFAULT
                || v == rmw_qos_durability_policy_e_RMW_QOS_POLICY_DURABILITY_UNKNOWN
        };
        let liv_unknown = |v| {
            v == LIVELINESS_SYSTEM_DEFAULT
                || v == rmw_qos_liveliness_policy_e_RMW_QOS_POLICY_LIVELINESS_UNKNOWN
        };
        let rel = |v| unknown_name(v, RELIABILITY_SYSTEM_DEFAULT);
        let dur = |v| unknown_name(v, DURABILITY_SYSTEM_DEFAULT);
        let liv = |v| unknown_name(v, LIVELINESS_SYSTEM_DEFAULT);
        if rel_unknown(p.reliability) && rel_unknown(s.reliability) {
            warn(format!(
                "Publisher reliability is {} and subscription reliability is {}",
                rel(p.reliability),
                rel(s.reliability)
            ));
        } else if rel_unknown(p.reliability) && s.reliability == RELIABLE {
            warn(format!(
                "Reliable subscription, but publisher is {}",
                rel(p.reliability)
            ));
        } else if p.reliability == best_effort && rel_unknown(s.reliability) {
            warn(format!(
                "Best effort publisher, but subscription is {}",
                rel(s.reliability)
            ));
        }
        if dur_unknown(p.durability) && dur_unknown(s.durability) {
            warn(format!(
                "Publisher durabilty is {} and subscription durability is {}",
                dur(p.durability),
                dur(s.durability)
            ));
        } else if dur_unknown(p.durability) && s.durability == transient_local {
            warn(format!(
                "Transient local subscription, but publisher is {}",
                dur(p.durability)
            ));
        } else if p.durability == VOLATILE && dur_unknown(s.durability) {
            warn(format!(
                "Volatile publisher, but subscription is {}",
                dur(s.durability)
            ));
        }
        if liv_unknown(p.liveliness) && liv_unknown(s.liveliness) {
            warn(format!(
                "Publisher liveliness is {} and subscription liveliness is {}",
                liv(p.liveliness),
                liv(s.liveliness)
            ));
        } else if liv_unknown(p.liveliness) && s.liveliness == manual_by_topic {
            warn(format!(
                "Subscription's liveliness is manual by topic, but publisher's is {}",
                liv(p.liveliness)
            ));
        } else if p.liveliness == automatic && liv_unknown(s.liveliness) {
            warn(format!(
                "Publisher's liveliness is automatic, but subscription's is {}",
                liv(s.liveliness)
            ));
        }
    }
    (verdict, reason)
}

/// The request/offered rules a publisher and subscription pair breaks, in
/// rmw_fastrtps_cpp's order: each with its `rmw_qos_policy_kind_t` and reason text.
fn incompatibilities(p: &QosProfile, s: &QosProfile) -> Vec<(u32, &'static str)> {
    use sys::*;
    let mut out = Vec::new();
    if p.reliability == BEST_EFFORT && s.reliability == RELIABLE {
        out.push((
            rmw_qos_policy_kind_e_RMW_QOS_POLICY_RELIABILITY,
            "Best effort publisher and reliable subscription",
        ));
    }
    if p.durability == VOLATILE && s.durability == TRANSIENT_LOCAL {
        out.push((
            rmw_qos_policy_kind_e_RMW_QOS_POLICY_DURABILITY,
            "Volatile publisher and transient local subscription",
        ));
    }
    let deadline = rmw_qos_policy_kind_e_RMW_QOS_POLICY_DEADLINE;
    let (pd, sd) = (&p.deadline, &s.deadline);
    if time_is_default(pd) && !time_is_default(sd) {
        out.push((
            deadline,
            "Subscription has a deadline, but publisher does not",
        ));
    }
    if !time_is_default(pd) && !time_is_default(sd) && time_less(sd, pd) {
        out.push((
            deadline,
            "Subscription deadline is less than publisher deadline",
        ));
    }
    if p.liveliness == LIVELINESS_AUTOMATIC
        && s.liveliness == rmw_qos_liveliness_policy_e_RMW_QOS_POLICY_LIVELINESS_MANUAL_BY_TOPIC
    {
        out.push((
            rmw_qos_policy_kind_e_RMW_QOS_POLICY_LIVELINESS,
            "Publisher's liveliness is automatic and subscription's is manual by topic",
        ));
    }
    let lease = rmw_qos_policy_kind_e_RMW_QOS_POLICY_LIVELINESS_LEASE_DURATION;
    let (pl, sl) = (&p.liveliness_lease_duration, &s.liveliness_lease_duration);
    if time_is_default(pl) && !time_is_default(sl) {
        out.push((
            lease,
            "Subscription has a liveliness lease duration, but publisher does not",
        ));
    }
    if !time_is_default(pl) && !time_is_default(sl) && time_less(sl, pl) {
        out.push((
            lease,
            "Subscription liveliness lease duration is less than publisher",
        ));
    }
    out
}

/// The `rmw_qos_policy_kind_t` of the first rule [`check_compatible`] finds broken, or
/// `RMW_QOS_POLICY_INVALID` when the pair is compatible.
pub fn first_incompatible_policy(publisher: &QosProfile, subscription: &QosProfile) -> u32 {
    incompatibilities(publisher, subscription).first().map_or(
        sys::rmw_qos_policy_kind_e_RMW_QOS_POLICY_INVALID,
        |(kind, _)| *kind,
    )
}

#[cfg(test)]
mod tests {
    use super::within_lifespan;

    #[test]
    fn lifespan_bounds_the_age_and_huge_values_are_infinite() {
        assert!(within_lifespan(1_000, 900, 100));
        assert!(!within_lifespan(1_001, 900, 100));
        assert!(within_lifespan(i64::MAX, 0, 0), "0: infinite");
        assert!(
            within_lifespan(i64::MAX, 0, 1 << 63),
            "beyond i64: infinite"
        );
        assert!(within_lifespan(i64::MAX, i64::MIN, u64::MAX), "no overflow");
        assert!(!within_lifespan(i64::MAX, i64::MIN, 5), "saturating age");
    }
}
