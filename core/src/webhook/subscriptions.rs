//! Webhook subscriptions: who receives which events, in which format, signed with which secret.
//!
//! A subscription receives the events written after it was made (`after_seq`). Turning it off
//! keeps its deliveries pending; turning it on again makes them due at once (its backlog is
//! replayed).

use super::secret::Secret;
use super::{EventType, Format};
use crate::store::{StoreError, StoreResult};
use crate::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use std::fmt;

/// Why the counter turned a subscription off by itself.
pub mod disabled_reason {
    /// The endpoint answered `410 Gone`.
    pub const GONE: &str = "gone";
    /// Every attempt failed for [`super::FAILING_FOR_MS`].
    pub const FAILING: &str = "failing";
}

/// A subscription failing this long without a success is turned off (3 days).
pub const FAILING_FOR_MS: i64 = 3 * 24 * 3600 * 1000;

/// A subscription's endpoint: an absolute http or https URL with a host, at most 2048 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub fn parse(text: &str) -> Result<WebhookUrl, String> {
        if text.len() > 2048 {
            return Err("the url is longer than 2048 bytes".into());
        }
        let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not a url: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "the url must be http or https, not {}:",
                url.scheme()
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("{text:?} names no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(
                "the url must not carry a user name or password: the secret signs each delivery"
                    .into(),
            );
        }
        Ok(WebhookUrl(url.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The events a subscription receives: every one, or those named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter(Vec<EventType>);

impl EventFilter {
    pub fn all() -> EventFilter {
        EventFilter(Vec::new())
    }

    /// Names from `subscribedEvents`; an empty list means every event.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<EventFilter, String> {
        let mut events = names
            .iter()
            .map(|n| EventType::parse_subscribed(n.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        events.sort();
        events.dedup();
        Ok(EventFilter(events))
    }

    pub fn wants(&self, event: EventType) -> bool {
        event == EventType::WebhookTest || self.0.is_empty() || self.0.contains(&event)
    }

    /// The names as stored and shown (`[]`: every event).
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|e| e.as_str()).collect()
    }
}

/// A subscription as stored, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub id: String,
    #[schema(value_type = String)]
    pub url: WebhookUrl,
    pub format: Format,
    #[serde(serialize_with = "serialize_filter")]
    #[schema(value_type = Vec<String>)]
    pub subscribed_events: EventFilter,
    pub enabled: bool,
    /// `gone` (the endpoint answered 410) or `failing` (3 days without a success) when the
    /// counter turned it off.
    pub disabled_reason: Option<String>,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>)]
    pub last_success_at: Option<Timestamp>,
    #[schema(value_type = Option<String>)]
    pub failing_since: Option<Timestamp>,
    pub last_error: Option<String>,
    /// Deliveries waiting to be sent.
    pub backlog: u64,
}

fn serialize_filter<S: serde::Serializer>(f: &EventFilter, s: S) -> Result<S::Ok, S::Error> {
    f.names().serialize(s)
}

/// What a new subscription is.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub url: WebhookUrl,
    pub format: Format,
    pub events: EventFilter,
    pub enabled: bool,
    /// The secret to sign with; a random one when `None`.
    pub secret: Option<Secret>,
}

/// A change to a subscription; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub url: Option<WebhookUrl>,
    pub format: Option<Format>,
    pub events: Option<EventFilter>,
    pub enabled: Option<bool>,
}

const COLUMNS: &str = "id, url, format, events, enabled, disabled_reason, created_at, updated_at, \
                       last_success_at, failing_since, last_error, backlog";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Result<Subscription, StoreError>> {
    let corrupt = |detail: String| StoreError::Corrupt {
        what: "webhook subscription",
        detail,
    };
    let format: String = r.get(2)?;
    let events: String = r.get(3)?;
    let built = (|| {
        let format = format.parse::<Format>().map_err(corrupt)?;
        let names: Vec<String> =
            serde_json::from_str(&events).map_err(|e| corrupt(e.to_string()))?;
        let events = EventFilter::parse(&names).map_err(corrupt)?;
        Ok((format, events))
    })();
    let (format, events) = match built {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(Subscription {
        id: r.get(0)?,
        url: WebhookUrl(r.get(1)?),
        format,
        subscribed_events: events,
        enabled: r.get(4)?,
        disabled_reason: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
        last_success_at: r.get(8)?,
        failing_since: r.get(9)?,
        last_error: r.get(10)?,
        backlog: r.get::<_, i64>(11)?.max(0) as u64,
    }))
}

/// Makes a subscription; it receives the events written from now on. Returns it with its
/// secret (shown this once).
pub fn create(
    conn: &Connection,
    new: NewSubscription,
    now: Timestamp,
) -> StoreResult<(Subscription, Secret)> {
    let id = uuid::Uuid::now_v7().to_string();
    let secret = new.secret.unwrap_or_else(Secret::generate);
    let events = serde_json::to_string(&new.events.names()).expect("names serialise");
    conn.execute(
        "INSERT INTO webhook_subscriptions (id, url, format, events, secret, enabled, after_seq, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, (SELECT coalesce(max(seq), 0) FROM outbox), ?7, ?7)",
        params![
            id,
            new.url.as_str(),
            new.format.as_str(),
            events,
            secret.expose(),
            new.enabled,
            now
        ],
    )?;
    let sub = get(conn, &id)?.ok_or_else(|| StoreError::Corrupt {
        what: "webhook subscription",
        detail: format!("{id} vanished after its insert"),
    })?;
    Ok((sub, secret))
}

pub fn get(conn: &Connection, id: &str) -> StoreResult<Option<Subscription>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM webhook_subscriptions WHERE id = ?1"
    ))?
    .query_row([id], from_row)
    .optional()?
    .transpose()
}

/// Every subscription, oldest first.
pub fn all(conn: &Connection) -> StoreResult<Vec<Subscription>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM webhook_subscriptions ORDER BY id"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    rows.map(|r| r?).collect()
}

/// One page of subscriptions, oldest first (`page` from 1), and how many there are.
pub fn page(conn: &Connection, page: u32, per_page: u32) -> StoreResult<(Vec<Subscription>, u64)> {
    let total: i64 = conn.query_row("SELECT count(*) FROM webhook_subscriptions", [], |r| {
        r.get(0)
    })?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM webhook_subscriptions ORDER BY id LIMIT ?1 OFFSET ?2"
    ))?;
    let offset = i64::from(page.max(1) - 1) * i64::from(per_page);
    let rows = stmt.query_map(params![per_page, offset], from_row)?;
    let subs = rows.map(|r| r?).collect::<StoreResult<Vec<_>>>()?;
    Ok((subs, total.max(0) as u64))
}

/// Applies a change. Turning a subscription on clears why it was off and makes its pending
/// deliveries due now, each with the whole retry schedule before it again (its backlog is
/// replayed; the attempt log keeps counting). `None` when there is no such subscription.
pub fn update(
    conn: &Connection,
    id: &str,
    change: Change,
    now: Timestamp,
) -> StoreResult<Option<Subscription>> {
    let Some(before) = get(conn, id)? else {
        return Ok(None);
    };
    let url = change.url.unwrap_or(before.url);
    let format = change.format.unwrap_or(before.format);
    let events = change.events.unwrap_or(before.subscribed_events);
    let enabled = change.enabled.unwrap_or(before.enabled);
    let turned_on = enabled && !before.enabled;
    conn.execute(
        "UPDATE webhook_subscriptions SET url = ?2, format = ?3, events = ?4, enabled = ?5,
             disabled_reason = CASE WHEN ?5 THEN NULL ELSE disabled_reason END,
             failing_since = CASE WHEN ?6 THEN NULL ELSE failing_since END,
             updated_at = ?7
         WHERE id = ?1",
        params![
            id,
            url.as_str(),
            format.as_str(),
            serde_json::to_string(&events.names()).expect("names serialise"),
            enabled,
            turned_on,
            now
        ],
    )?;
    if turned_on {
        conn.execute(
            "UPDATE webhook_deliveries SET next_attempt_at = ?2, attempts = 0
             WHERE subscription_id = ?1 AND state = 'pending'",
            params![id, now],
        )?;
    }
    get(conn, id)
}

/// Deletes a subscription and its delivery log. `false` when there was none.
pub fn delete(conn: &Connection, id: &str) -> StoreResult<bool> {
    Ok(conn.execute("DELETE FROM webhook_subscriptions WHERE id = ?1", [id])? > 0)
}

/// A new secret; the old one signs nothing from now on. `None` when there is no such
/// subscription.
pub fn rotate_secret(conn: &Connection, id: &str, now: Timestamp) -> StoreResult<Option<Secret>> {
    let secret = Secret::generate();
    let n = conn.execute(
        "UPDATE webhook_subscriptions SET secret = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, secret.expose(), now],
    )?;
    Ok((n > 0).then_some(secret))
}

/// A subscription's secret as stored, whether it is on or off (the worker signs with
/// `deliveries::signing_secret`, which answers only while it is on).
pub fn secret(conn: &Connection, id: &str) -> StoreResult<Option<Secret>> {
    let text: Option<String> = conn
        .prepare_cached("SELECT secret FROM webhook_subscriptions WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    text.map(parse_stored_secret).transpose()
}

/// A secret read back from the table: what was stored parses, or the row is corrupt.
pub(super) fn parse_stored_secret(text: String) -> StoreResult<Secret> {
    Secret::parse(&text).map_err(|detail| StoreError::Corrupt {
        what: "webhook secret",
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_http_or_https_with_a_host() {
        assert!(WebhookUrl::parse("https://pos.example/hooks").is_ok());
        assert!(WebhookUrl::parse("http://127.0.0.1:8080/x?y=1").is_ok());
        for bad in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "example.com/hook",
            "",
            "https://user:pw@example.com/",
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad} accepted");
        }
        assert!(WebhookUrl::parse(&format!("https://e.com/{}", "a".repeat(2048))).is_err());
    }

    #[test]
    fn event_filters_take_passentry_names_and_the_scanned_alias() {
        let f = EventFilter::parse(&["passScanned", "passTapped", "passVoided"]).unwrap();
        assert_eq!(f.names(), vec!["passVoided", "passTapped"]);
        assert!(f.wants(EventType::PassTapped));
        assert!(!f.wants(EventType::PassCreated));
        assert!(f.wants(EventType::WebhookTest));
        assert!(EventFilter::parse(&["pass_created"]).is_err());
        assert!(EventFilter::all().wants(EventType::PassConflict));
    }
}
