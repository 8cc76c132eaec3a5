//! How long a provider event's row is kept. The row is what makes the provider's retry, or a
//! replay, change nothing ([`super::apply`]); past the longest retry the seeds describe
//! (PassEntry: 10 tries over 3 days) it only grows the database, so the webhook worker's
//! hourly retention pass forgets it: after [`KEPT_AT_LEAST`], or the `[webhooks]
//! retention_days` when that is longer.

use crate::store::StoreResult;
use crate::time::Timestamp;
use rusqlite::{params, Connection};
use std::time::Duration;

/// Ten times PassEntry's three days of retries: a row is never forgotten sooner, whatever the
/// webhook retention (which may be 0 days).
pub const KEPT_AT_LEAST: Duration = Duration::from_secs(30 * 24 * 3600);

/// Forgets at most `limit` provider events received before `cutoff`, oldest first, in the
/// caller's transaction. Returns how many, and whether the batch was full (more may be left).
pub fn forget_received_before(
    conn: &Connection,
    cutoff: Timestamp,
    limit: u32,
) -> StoreResult<(u64, bool)> {
    let forgotten = conn
        .prepare_cached(
            "DELETE FROM hook_events WHERE (provider, dedup_key) IN (
                 SELECT provider, dedup_key FROM hook_events INDEXED BY hook_events_received
                 WHERE received_at < ?1 ORDER BY received_at LIMIT ?2)",
        )?
        .execute(params![cutoff, limit])? as u64;
    Ok((forgotten, forgotten == u64::from(limit)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::apply::{apply, count, Applied};
    use crate::hooks::{passcreator, HookEvent};
    use crate::store::Store;
    use crate::testkit as seeds;

    const DAY_MS: i64 = 24 * 3600 * 1000;

    fn at(days: i64) -> Timestamp {
        Timestamp::from_unix_ms(1_800_000_000_000 + days * DAY_MS)
    }

    fn event(name: &str, n: usize) -> HookEvent {
        passcreator::parse(name, seeds::passcreator(n).as_bytes()).unwrap()
    }

    /// Rows older than the cutoff go, oldest first and a batch at a time; younger ones stay
    /// and still make a repeat change nothing; a forgotten event is an event again.
    #[test]
    fn old_provider_events_are_forgotten_in_batches_and_young_ones_kept() {
        let mut s = Store::open_in_memory().unwrap();
        let created = event("pass_created", 0);
        let registered = event("first_pushnotification_registered", 3);
        let voided = event("pass_voided", 2);
        apply(&mut s, &created, at(0)).unwrap();
        apply(&mut s, &registered, at(1)).unwrap();
        apply(&mut s, &voided, at(40)).unwrap();
        assert_eq!(count(s.conn()).unwrap(), 3);

        let cutoff = at(10);
        assert_eq!(
            forget_received_before(s.conn(), cutoff, 1).unwrap(),
            (1, true)
        );
        assert_eq!(
            forget_received_before(s.conn(), cutoff, 1).unwrap(),
            (1, true)
        );
        assert_eq!(
            forget_received_before(s.conn(), cutoff, 1).unwrap(),
            (0, false)
        );
        assert_eq!(count(s.conn()).unwrap(), 1);

        let again = apply(&mut s, &voided, at(41)).unwrap();
        assert!(matches!(again, Applied::Repeat { .. }), "{again:?}");
        let anew = apply(&mut s, &registered, at(41)).unwrap();
        assert!(matches!(anew, Applied::Done { .. }), "{anew:?}");
    }
}
