//! What a test makes go wrong: an outage, a rate limit, a refused pass, a page that changes
//! between requests, a crash between applying a request and answering it.

use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How PassEntry is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Connections refused: the listener is closed and every open connection dropped, until
    /// lifted (then it listens again on the same port).
    Refused,
    /// Every request answered 503 Service Unavailable.
    Unavailable,
}

/// At most `requests` requests per `window`; more are answered 429 Too Many Requests with
/// `Retry-After` (whole seconds until the window ends, at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub window: Duration,
}

/// What a crash window does once it has applied a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashMode {
    /// Closes the connection without an answer: the client sees a network error right away.
    Drop,
    /// Holds the connection open and never answers (until the stand-in stops): the client
    /// waits, e.g. to be killed while it does.
    Hang,
}

/// What a request was, as the stand-in classifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestKind {
    /// `GET /api/v1/passes` with its `page` (1 when absent or not a number).
    PassesPage(u32),
    /// `GET /api/v1/passes/{id}`.
    Pass,
    /// `GET /api/v1/pass-templates` with its page.
    TemplatesPage(u32),
    /// `GET /api/v1/events` with its page.
    EventsPage(u32),
    /// `POST /api/v1/scans/log`.
    ScanLog,
    /// `GET /api/v1/scans`.
    Scans,
    /// `PATCH /api/v1/passes/{id}/loyalty`.
    LoyaltyPatch,
    Other,
}

/// A change made to the account right after a passes page was served (before the client can
/// ask for the next one).
#[derive(Debug, Clone)]
pub enum PageChange {
    /// Deletes this pass.
    DeletePass(String),
    /// Adds a pass: its id and attributes (no `createdAt`: it is the newest).
    AddPass(String, serde_json::Map<String, Value>),
    /// Starts this outage.
    Outage(Outage),
}

type Matcher = Box<dyn Fn(&RequestKind) -> bool + Send>;

pub(crate) struct CrashWindow {
    pub mode: CrashMode,
    pub matches: Matcher,
}

/// A refusal of every request about one pass.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub status: u16,
    pub body: Value,
}

#[derive(Default)]
pub(crate) struct Faults {
    pub outage: Option<Outage>,
    pub rate_limit: Option<RateLimit>,
    /// The current window's start and the requests counted in it.
    pub window: Option<(Instant, u32)>,
    pub refusals: HashMap<String, Refusal>,
    /// Passes page → the changes to make once it has been served (each once).
    pub page_changes: HashMap<u32, Vec<PageChange>>,
    pub crash: Option<CrashWindow>,
}

impl Faults {
    /// Counts a request against the rate limit: `Some(seconds to wait)` when it is over.
    pub fn over_rate_limit(&mut self, now: Instant) -> Option<u64> {
        let limit = self.rate_limit?;
        let (start, count) = match self.window {
            Some((start, count)) if now.duration_since(start) < limit.window => (start, count),
            _ => (now, 0),
        };
        if count >= limit.requests {
            self.window = Some((start, count));
            let left = limit.window.saturating_sub(now.duration_since(start));
            return Some(left.as_secs_f64().ceil().max(1.0) as u64);
        }
        self.window = Some((start, count + 1));
        None
    }

    /// The crash window, taken if it applies to this request (it applies once).
    pub fn take_crash(&mut self, kind: &RequestKind) -> Option<CrashMode> {
        if self.crash.as_ref().is_some_and(|c| (c.matches)(kind)) {
            self.crash.take().map(|c| c.mode)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_counts_per_window() {
        let mut f = Faults {
            rate_limit: Some(RateLimit {
                requests: 2,
                window: Duration::from_secs(3),
            }),
            ..Faults::default()
        };
        let t0 = Instant::now();
        assert_eq!(f.over_rate_limit(t0), None);
        assert_eq!(f.over_rate_limit(t0), None);
        assert_eq!(f.over_rate_limit(t0 + Duration::from_millis(500)), Some(3));
        assert_eq!(f.over_rate_limit(t0 + Duration::from_millis(2900)), Some(1));
        assert_eq!(f.over_rate_limit(t0 + Duration::from_secs(3)), None);
    }
}
