//! One scan per presentation of a code. A camera sees the same code in dozens of consecutive
//! frames (and misses it in a few of them); the counter must see one scan. The same text
//! scans again only after it has been out of view for a while, or after a repeat interval
//! while it is held up continuously (someone waiting to be let in twice is a decision for the
//! check-in rules, not for the camera).

use crate::scan::{Medium, Scan};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

/// When the same text counts as a new scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DedupPolicy {
    /// Out of view at least this long, then seen again: a new scan. Bridges frames in which
    /// the decoder missed a code that never left.
    pub gone_for: Duration,
    /// Held in view continuously this long since its last scan: scanned again.
    pub repeat_after: Duration,
}

impl Default for DedupPolicy {
    fn default() -> Self {
        Self {
            gone_for: Duration::from_millis(1500),
            repeat_after: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    emitted_at: SystemTime,
    last_seen: SystemTime,
}

/// Turns per-frame reads into scans. Pure: time comes in with each read.
#[derive(Debug, Clone)]
pub struct QrDeduper {
    reader_id: String,
    policy: DedupPolicy,
    /// Texts seen recently; several so that two codes in view at once do not keep
    /// re-triggering each other.
    seen: HashMap<String, Seen>,
}

/// `seen` never grows past this: when full, entries out of view longest are dropped first.
const MAX_TRACKED: usize = 64;

impl QrDeduper {
    pub fn new(reader_id: impl Into<String>, policy: DedupPolicy) -> Self {
        Self {
            reader_id: reader_id.into(),
            policy,
            seen: HashMap::new(),
        }
    }

    /// Feeds what one frame read (`None`: no code) at time `at`; returns a scan when this is a
    /// new presentation of the code. A clock that steps backwards counts as no time passing.
    pub fn observe(&mut self, read: Option<&str>, at: SystemTime) -> Option<Scan> {
        let gone_for = self.policy.gone_for;
        let since = |earlier: SystemTime| at.duration_since(earlier).unwrap_or_default();
        self.seen.retain(|_, s| since(s.last_seen) < gone_for);
        let text = read?;
        let emit = match self.seen.get_mut(text) {
            Some(s) if since(s.emitted_at) < self.policy.repeat_after => {
                s.last_seen = at;
                false
            }
            _ => true,
        };
        if !emit {
            return None;
        }
        if self.seen.len() >= MAX_TRACKED && !self.seen.contains_key(text) {
            if let Some(oldest) = self
                .seen
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(k, _)| k.clone())
            {
                self.seen.remove(&oldest);
            }
        }
        self.seen.insert(
            text.to_owned(),
            Seen {
                emitted_at: at,
                last_seen: at,
            },
        );
        Some(Scan {
            reader_id: self.reader_id.clone(),
            medium: Medium::Qr,
            value: text.as_bytes().to_vec(),
            at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000) + Duration::from_millis(ms)
    }

    fn deduper() -> QrDeduper {
        QrDeduper::new(
            "cam-1",
            DedupPolicy {
                gone_for: Duration::from_millis(1000),
                repeat_after: Duration::from_secs(5),
            },
        )
    }

    /// Feeds one read per 33 ms frame; returns at which frame times scans came out.
    fn run(d: &mut QrDeduper, frames: &[(u64, Option<&str>)]) -> Vec<(u64, String)> {
        frames
            .iter()
            .filter_map(|&(ms, read)| {
                d.observe(read, t(ms))
                    .map(|s| (ms, String::from_utf8(s.value).unwrap()))
            })
            .collect()
    }

    #[test]
    fn consecutive_frames_give_one_scan() {
        let mut d = deduper();
        let frames: Vec<_> = (0..60).map(|i| (i * 33, Some("PD1.a"))).collect();
        assert_eq!(run(&mut d, &frames), vec![(0, "PD1.a".to_owned())]);
    }

    #[test]
    fn the_scan_carries_reader_medium_value_and_time() {
        let scan = deduper().observe(Some("X"), t(5)).unwrap();
        assert_eq!(scan.reader_id, "cam-1");
        assert_eq!(scan.medium, Medium::Qr);
        assert_eq!(scan.value, b"X");
        assert_eq!(scan.at, t(5));
    }

    #[test]
    fn missed_frames_do_not_split_a_presentation() {
        let mut d = deduper();
        let frames = [
            (0, Some("A")),
            (33, None),
            (66, None),
            (500, None),
            (900, Some("A")), // 900 ms after last seen: still the same presentation
            (1800, Some("A")),
        ];
        assert_eq!(run(&mut d, &frames), vec![(0, "A".to_owned())]);
    }

    #[test]
    fn scans_again_after_leaving_the_view() {
        let mut d = deduper();
        let frames = [
            (0, Some("A")),
            (100, Some("A")),
            (1200, None),
            (1300, Some("A")), // gone 1200 ms >= 1000 ms
        ];
        assert_eq!(
            run(&mut d, &frames),
            vec![(0, "A".to_owned()), (1300, "A".to_owned())]
        );
    }

    #[test]
    fn scans_again_after_repeat_interval_while_held() {
        let mut d = deduper();
        let frames: Vec<_> = (0..=200).map(|i| (i * 33, Some("A"))).collect();
        let scans = run(&mut d, &frames);
        let times: Vec<u64> = scans.iter().map(|s| s.0).collect();
        assert_eq!(times, vec![0, 5016]); // first frame at or after 5 s
    }

    #[test]
    fn two_codes_each_scan_once_even_when_alternating() {
        let mut d = deduper();
        let frames: Vec<_> = (0..30)
            .map(|i| (i * 33, Some(if i % 2 == 0 { "A" } else { "B" })))
            .collect();
        assert_eq!(
            run(&mut d, &frames),
            vec![(0, "A".to_owned()), (33, "B".to_owned())]
        );
    }

    #[test]
    fn a_clock_stepping_back_does_not_repeat() {
        let mut d = deduper();
        assert!(d.observe(Some("A"), t(10_000)).is_some());
        assert!(d.observe(Some("A"), t(2_000)).is_none());
    }

    #[test]
    fn memory_stays_bounded() {
        let mut d = deduper();
        for i in 0..1000u64 {
            assert!(d.observe(Some(&format!("code-{i}")), t(i)).is_some());
        }
        assert!(d.seen.len() <= MAX_TRACKED);
    }
}
