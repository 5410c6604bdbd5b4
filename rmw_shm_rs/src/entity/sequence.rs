//! What a subscription has seen of each publisher's sequence numbers: gaps count as lost
//! messages, and a sample seen before is a duplicate (a keep-all publisher sends a message
//! again when a subscription that had not connected yet missed it; the others drop the copy).

use std::collections::HashMap;

/// How many sequence numbers below the highest one are remembered exactly. Samples arrive
/// in order per publisher except when several threads publish at once, and a subscription's
/// queue holds at most `RMW_SHM_RS_MAX_DEPTH` samples, so a duplicate is never older.
const WINDOW: u64 = 128;

/// How many publishers are tracked at once. A subscription has far fewer live publishers; a peer
/// that invents GIDs (or many short-lived publishers) makes the least recently heard one be
/// forgotten instead of growing the table: its next sample then counts no loss and a duplicate
/// of an older one is delivered, as for a new publisher.
const MAX_PUBLISHERS: usize = 1024;

/// One publisher's sequence numbers seen so far.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// The highest sequence number seen.
    highest: u64,
    /// Bit `i` set: sequence number `highest - i` was seen.
    mask: u128,
    /// The tracker's arrival count when this publisher was last heard.
    heard: u64,
}

/// Verdict on a sample's sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Not seen before; `lost` messages of this publisher were skipped since the last one.
    New { lost: u64 },
    /// Seen before: drop it.
    Duplicate,
}

/// Sequence numbers seen, per publisher GID.
#[derive(Debug, Default)]
pub struct SequenceTracker {
    seen: HashMap<[u8; 16], Seen>,
    arrivals: u64,
}

impl SequenceTracker {
    /// Records `sequence` of publisher `gid` and says whether it is new.
    pub fn arrive(&mut self, gid: [u8; 16], sequence: u64) -> Arrival {
        self.arrivals += 1;
        let heard = self.arrivals;
        let Some(s) = self.seen.get_mut(&gid) else {
            if self.seen.len() >= MAX_PUBLISHERS {
                self.forget_least_recent();
            }
            self.seen.insert(
                gid,
                Seen {
                    highest: sequence,
                    mask: 1,
                    heard,
                },
            );
            return Arrival::New { lost: 0 };
        };
        s.heard = heard;
        if sequence > s.highest {
            let ahead = sequence - s.highest;
            s.mask = if ahead >= WINDOW {
                1
            } else {
                (s.mask << ahead) | 1
            };
            s.highest = sequence;
            return Arrival::New { lost: ahead - 1 };
        }
        let behind = s.highest - sequence;
        if behind >= WINDOW {
            // Too old to know: deliver rather than risk dropping a message never seen.
            return Arrival::New { lost: 0 };
        }
        let bit = 1u128 << behind;
        if s.mask & bit != 0 {
            return Arrival::Duplicate;
        }
        s.mask |= bit;
        Arrival::New { lost: 0 }
    }

    fn forget_least_recent(&mut self) {
        let oldest = self
            .seen
            .iter()
            .min_by_key(|(_, s)| s.heard)
            .map(|(g, _)| *g);
        if let Some(g) = oldest {
            self.seen.remove(&g);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 16] = [1; 16];
    const B: [u8; 16] = [2; 16];

    #[test]
    fn in_order_samples_are_new_and_gaps_count_as_lost() {
        let mut t = SequenceTracker::default();
        assert_eq!(t.arrive(A, 5), Arrival::New { lost: 0 });
        assert_eq!(t.arrive(A, 6), Arrival::New { lost: 0 });
        assert_eq!(t.arrive(A, 9), Arrival::New { lost: 2 });
        assert_eq!(t.arrive(B, 1), Arrival::New { lost: 0 });
        assert_eq!(t.arrive(A, 1000), Arrival::New { lost: 990 });
    }

    #[test]
    fn a_sample_seen_before_is_a_duplicate() {
        let mut t = SequenceTracker::default();
        for s in 1..=10 {
            t.arrive(A, s);
        }
        assert_eq!(t.arrive(A, 10), Arrival::Duplicate);
        assert_eq!(t.arrive(A, 3), Arrival::Duplicate);
        assert_eq!(t.arrive(B, 3), Arrival::New { lost: 0 });
    }

    #[test]
    fn out_of_order_samples_are_delivered_once() {
        // Two threads publishing at once: 7 may arrive after 8.
        let mut t = SequenceTracker::default();
        t.arrive(A, 6);
        assert_eq!(t.arrive(A, 8), Arrival::New { lost: 1 });
        assert_eq!(t.arrive(A, 7), Arrival::New { lost: 0 });
        assert_eq!(t.arrive(A, 7), Arrival::Duplicate);
        assert_eq!(t.arrive(A, 8), Arrival::Duplicate);
    }

    #[test]
    fn the_table_keeps_the_most_recently_heard_publishers() {
        let mut t = SequenceTracker::default();
        let gid = |i: usize| {
            let mut g = [0u8; 16];
            g[..8].copy_from_slice(&(i as u64).to_le_bytes());
            g
        };
        t.arrive(A, 1);
        for i in 0..3 * MAX_PUBLISHERS {
            t.arrive(gid(i + 1000), 1);
            if i % 100 == 0 {
                t.arrive(A, 2 + i as u64 / 100);
            }
        }
        assert_eq!(t.seen.len(), MAX_PUBLISHERS, "bounded");
        // A is heard regularly, so it is kept: its last sample is still a duplicate.
        let last = 2 + (3 * MAX_PUBLISHERS as u64 - 1) / 100;
        assert_eq!(t.arrive(A, last), Arrival::Duplicate);
        // The earliest invented GIDs were forgotten: they count as new publishers.
        assert_eq!(t.arrive(gid(1000), 1), Arrival::New { lost: 0 });
    }

    #[test]
    fn the_window_slides_with_the_highest_sequence_number() {
        let mut t = SequenceTracker::default();
        t.arrive(A, 1);
        t.arrive(A, 1 + WINDOW - 1);
        assert_eq!(
            t.arrive(A, 1),
            Arrival::Duplicate,
            "still inside the window"
        );
        t.arrive(A, 1 + 3 * WINDOW);
        assert_eq!(
            t.arrive(A, 2),
            Arrival::New { lost: 0 },
            "older than the window: delivered"
        );
    }
}
