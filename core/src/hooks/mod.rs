//! Provider webhooks in: what PassEntry, Passcreator and Skycore post to a counter, parsed from
//! raw bytes into one provider-neutral [`HookEvent`], then applied to the cache ([`apply`]).
//!
//! One file per provider format (`passentry`, `passcreator`, `skycore_xml`, `skycore_json`),
//! each a pure function of the bytes (and, for Passcreator, the event named in the URL): no
//! I/O, no clock. A body that cannot be what the provider sends is a [`HookError`] naming what
//! is wrong; nothing a provider (or anyone else) sends may panic.
//!
//! The outbound formats in [`crate::webhook`] speak the same seeds the other way; where a field
//! means something there (Skycore's SERIALNUMBER is the pass id, Passcreator's
//! `uniqueIdentifier` the barcode value), it means the same here.

pub mod apply;
pub mod passcreator;
pub mod passentry;
pub mod retention;
pub mod skycore_json;
pub mod skycore_xml;

use crate::pass::{Barcode, PassStatus, PassType};
use crate::scan::ScanValue;
use crate::time::Timestamp;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::fmt;

/// Who sent an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    PassEntry,
    Passcreator,
    Skycore,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PassEntry => "passentry",
            Self::Passcreator => "passcreator",
            Self::Skycore => "skycore",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One provider event, whatever its format.
#[derive(Debug, Clone, PartialEq)]
pub struct HookEvent {
    pub provider: Provider,
    /// What makes a repeat a repeat: the provider's event id where it has one (PassEntry's
    /// `data.id`), else the SHA-256 (hex) of the raw body ([`body_key`]).
    pub dedup_key: String,
    /// The provider's own word for the event (`passInstalled`, `pass_voided`, `N804`,
    /// `GENERATE_PASS`), for the hook log.
    pub event_name: String,
    /// When the provider says the event happened, where it says so with a zone: a replayed
    /// old body, or one from the future, is refused by it ([`check_fresh`]).
    pub at: Option<Timestamp>,
    /// The pass it is about: the provider's id, looked up as any value
    /// ([`crate::pass_store::find`]). `None` only for a [`Change::Noted`] about no pass.
    pub pass: Option<PassRef>,
    pub change: Change,
}

/// A pass as a provider names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassRef(pub String);

impl PassRef {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What an event does to the cache.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Added to a wallet: `addedAt`, status active (a voided or expired pass stays so).
    Installed {
        at: Option<Timestamp>,
        device_type: Option<String>,
    },
    /// Removed from the wallet: `removedAt`, status removed (a voided or expired pass stays so).
    Removed { at: Option<Timestamp> },
    /// A tap at one of the provider's readers: recorded in the hook log only (the counter's
    /// scan log holds the counter's own decisions).
    Tapped(Tap),
    /// A new pass; when the cache has it already, its fields are updated instead.
    Created(Box<PassData>),
    /// The fields the payload carries.
    Updated(Box<PassData>),
    /// No longer valid: the next scan is refused.
    Voided { at: Option<Timestamp> },
    /// Nothing to change in the cache (a failed generation, an update notified to a phone, a
    /// provider's test): acknowledged and logged.
    Noted { why: String },
}

impl Change {
    /// The outcome recorded for it in the hook log.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Installed { .. } => "installed",
            Self::Removed { .. } => "removed",
            Self::Tapped(_) => "tapped",
            Self::Created(_) => "created",
            Self::Updated(_) => "updated",
            Self::Voided { .. } => "voided",
            Self::Noted { .. } => "noted",
        }
    }
}

/// A tap at a provider's reader, as its webhook describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tap {
    pub tap_id: Option<String>,
    pub reader_id: Option<String>,
    pub reader_name: Option<String>,
    pub tapped_at: Option<Timestamp>,
    pub successful: Option<bool>,
}

/// What a payload says about a pass. `None` (or [`Content::Unsaid`]): the payload does not
/// say, and the cache keeps what it has.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PassData {
    /// The provider's id, kept as the pass's id.
    pub id: String,
    pub ext_id: Option<String>,
    pub template: Option<TemplateRef>,
    pub event: Option<EventRef>,
    pub pass_type: Option<PassType>,
    pub status: Option<PassStatus>,
    pub device_type: Option<String>,
    pub barcode: Option<Barcode>,
    pub nfc: Option<String>,
    pub group_tag: Option<String>,
    pub content: Content,
    pub latest_message: Option<String>,
    pub created_at: Option<Timestamp>,
    pub added_at: Option<Timestamp>,
    pub removed_at: Option<Timestamp>,
    pub deactivated_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
}

/// What a payload says about the pass's `passContent`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Content {
    #[default]
    Unsaid,
    /// The whole content (PassEntry's pass resource).
    Replace(Map<String, Value>),
    /// Some keys (a flat format's fields): each replaces the key of that name.
    Merge(Map<String, Value>),
}

/// A pass's template as a payload names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRef {
    pub id: String,
    pub name: Option<String>,
}

/// A pass's event as a payload names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRef {
    pub id: String,
    pub name: Option<String>,
}

/// Why a body is refused. Each names what was wrong; none carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the body is not XML: {0}")]
    NotXml(String),
    /// A field missing or of the wrong kind; `pointer` is a JSON pointer (`/data/id`) or, in
    /// XML, the element's path (`/POSTBACK/SERIALNUMBER`).
    #[error("{}: {problem}", if .pointer.is_empty() { "the body" } else { .pointer.as_str() })]
    Field { pointer: String, problem: String },
    #[error("unknown event {0:?}")]
    UnknownEvent(String),
    #[error("no X-Webhook-Signature header")]
    MissingSignature,
    #[error("the X-Webhook-Signature does not match the body")]
    BadSignature,
    #[error(
        "the event is from {at}, older than the {max_age_seconds} s a webhook is accepted for"
    )]
    TooOld { at: Timestamp, max_age_seconds: u64 },
    #[error("the event is from {at}, more than {} s in the future", FUTURE_TOLERANCE_MS / 1000)]
    InFuture { at: Timestamp },
}

impl HookError {
    pub(crate) fn field(pointer: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Field {
            pointer: pointer.into(),
            problem: problem.into(),
        }
    }

    /// A short code for the answer and the log: `not_json`, `invalid_field`, ...
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotJson(_) => "not_json",
            Self::NotXml(_) => "not_xml",
            Self::Field { .. } => "invalid_field",
            Self::UnknownEvent(_) => "unknown_event",
            Self::MissingSignature => "missing_signature",
            Self::BadSignature => "bad_signature",
            Self::TooOld { .. } => "too_old",
            Self::InFuture { .. } => "in_future",
        }
    }

    /// The JSON pointer (or element path) of the offending field, if one is to blame.
    pub fn pointer(&self) -> Option<&str> {
        match self {
            Self::Field { pointer, .. } => Some(pointer),
            _ => None,
        }
    }
}

/// How far ahead of this counter's clock an event may be: clocks drift, and a provider's
/// clock may run a little ahead; more than this is not a clock, it is a forged time.
pub const FUTURE_TOLERANCE_MS: i64 = 5 * 60 * 1000;

/// An event's time, if it states one, within `max_age_seconds` before `now` and at most
/// [`FUTURE_TOLERANCE_MS`] after it. An event without a time passes (its repeats are caught by
/// the dedup key instead).
pub fn check_fresh(
    at: Option<Timestamp>,
    now: Timestamp,
    max_age_seconds: u64,
) -> Result<(), HookError> {
    let Some(at) = at else { return Ok(()) };
    let max_age_ms = i64::try_from(max_age_seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
    if at < now.minus_ms(max_age_ms) {
        return Err(HookError::TooOld {
            at,
            max_age_seconds,
        });
    }
    if at > now.plus_ms(FUTURE_TOLERANCE_MS) {
        return Err(HookError::InFuture { at });
    }
    Ok(())
}

/// The dedup key of a body without an event id: SHA-256 of its bytes, hex. `salt` goes
/// before them (Passcreator's event name: its bodies do not name the event, and a pass's
/// `pass_updated` and `pass_voided` bodies may be byte for byte the same).
pub fn body_key(salt: &str, raw: &[u8]) -> String {
    let mut h = Sha256::new();
    if !salt.is_empty() {
        h.update(salt.as_bytes());
        h.update(b"\n");
    }
    h.update(raw);
    hex::encode(h.finalize())
}

/// A Skycore postback, XML or JSON by its content (Skycore posts both forms to the one URL):
/// a body that starts with `<` is the XML postback, `{` the wallet JSON postback (after any
/// whitespace and byte order mark), anything else neither.
pub fn skycore(raw: &[u8]) -> Result<HookEvent, HookError> {
    let start = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    match start.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'<') => skycore_xml::parse(start),
        Some(b'{') => skycore_json::parse(start),
        _ => Err(HookError::NotJson(
            "neither an XML postback (<POSTBACK>) nor a JSON one ({...})".into(),
        )),
    }
}

/// Whether the secret given in a URL path is the configured one, compared in constant time
/// over their SHA-256 digests (so neither where they differ nor the secret's length shows in
/// the time taken). An empty configured secret matches nothing.
pub fn path_secret_matches(configured: &str, given: &str) -> bool {
    use subtle::ConstantTimeEq;
    let a = Sha256::digest(configured.as_bytes());
    let b = Sha256::digest(given.as_bytes());
    bool::from(a.ct_eq(&b)) && !configured.is_empty()
}

/// The longest id a provider may give a pass: ids are keys here, and PassEntry's are 40 hex
/// digits (import takes 128 too).
pub const MAX_ID_CHARS: usize = 128;

/// A pass id as a provider gives it: non-empty, no surrounding whitespace, no control
/// characters, at most [`MAX_ID_CHARS`].
pub(crate) fn pass_id(pointer: &str, text: &str) -> Result<String, HookError> {
    if text.trim().is_empty() {
        return Err(HookError::field(pointer, "empty"));
    }
    if text.trim() != text {
        return Err(HookError::field(pointer, "has surrounding whitespace"));
    }
    if text.chars().count() > MAX_ID_CHARS {
        return Err(HookError::field(
            pointer,
            format!("longer than {MAX_ID_CHARS} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(HookError::field(pointer, "has a control character"));
    }
    Ok(text.to_owned())
}

/// A value a reader will be asked to find (a barcode, an NFC value): one a reader can deliver.
pub(crate) fn scannable(pointer: &str, text: &str) -> Result<String, HookError> {
    match ScanValue::parse(text.as_bytes()) {
        Ok(v) if v.as_str() == text => Ok(text.to_owned()),
        Ok(_) => Err(HookError::field(pointer, "has surrounding whitespace")),
        Err(e) => Err(HookError::field(pointer, e.to_string())),
    }
}

/// The device type as the cache spells it (`apple`, `android`), from a provider's words for a
/// wallet app or an operating system.
pub(crate) fn device_type_of(words: &str) -> Option<String> {
    let w = words.trim().to_ascii_lowercase();
    if w.is_empty() {
        None
    } else if w.contains("apple") || w == "ios" {
        Some("apple".into())
    } else if w.contains("google") || w.contains("android") {
        Some("android".into())
    } else {
        Some(words.trim().chars().take(40).collect())
    }
}

/// A short quote of a value for an error message.
pub(crate) fn quote(text: &str) -> String {
    let cut: String = text.chars().take(40).collect();
    format!("{cut:?}")
}

/// A JSON value's kind, for "expected a string, got a number".
pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON document into `T`, a syntax error as [`HookError::NotJson`] and a field of the wrong
/// kind (or missing) as [`HookError::Field`] with its pointer.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(raw: &[u8]) -> Result<T, HookError> {
    let value: Value =
        serde_json::from_slice(raw).map_err(|e| HookError::NotJson(e.to_string()))?;
    from_value(value)
}

pub(crate) fn from_value<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, HookError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = crate::json_pointer::of(e.path());
        HookError::field(pointer, e.into_inner().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit as seeds;

    #[test]
    fn freshness_has_a_window_both_ways() {
        let now = Timestamp::from_unix_ms(1_800_000_000_000);
        let day = 24 * 3600;
        assert_eq!(check_fresh(None, now, day), Ok(()));
        assert_eq!(check_fresh(Some(now), now, day), Ok(()));
        assert_eq!(
            check_fresh(Some(now.minus_ms(day as i64 * 1000 - 1)), now, day),
            Ok(())
        );
        let old = now.minus_ms(day as i64 * 1000 + 1);
        assert_eq!(
            check_fresh(Some(old), now, day),
            Err(HookError::TooOld {
                at: old,
                max_age_seconds: day
            })
        );
        assert_eq!(check_fresh(Some(now.plus_ms(299_000)), now, day), Ok(()));
        let ahead = now.plus_ms(301_000);
        assert_eq!(
            check_fresh(Some(ahead), now, day),
            Err(HookError::InFuture { at: ahead })
        );
        // A window too large for milliseconds is no window, not an overflow.
        assert_eq!(check_fresh(Some(old), now, u64::MAX), Ok(()));
    }

    #[test]
    fn body_keys_differ_by_salt() {
        let a = body_key("pass_updated", b"{}");
        assert_eq!(a.len(), 64);
        assert_ne!(a, body_key("pass_voided", b"{}"));
        assert_eq!(body_key("", b"abc"), hex::encode(Sha256::digest(b"abc")));
    }

    #[test]
    fn ids_and_values_are_checked() {
        assert!(pass_id("/x", "abc").is_ok());
        assert!(pass_id("/x", "").is_err());
        assert!(pass_id("/x", " a").is_err());
        assert!(pass_id("/x", "a\u{0}b").is_err());
        assert!(pass_id("/x", &"a".repeat(129)).is_err());
        assert!(scannable("/x", "ABC-1").is_ok());
        assert!(scannable("/x", "ABC\n").is_err());
    }

    #[test]
    fn path_secrets() {
        assert!(path_secret_matches("s3cret-path", "s3cret-path"));
        assert!(!path_secret_matches("s3cret-path", "s3cret-patH"));
        assert!(!path_secret_matches("s3cret-path", "s3cret"));
        assert!(!path_secret_matches("", ""));
    }

    #[test]
    fn skycore_by_content() {
        let xml = seeds::skycore_xml("skycore-pass-postback-bundle.txt");
        assert_eq!(
            skycore(format!("\u{FEFF}\n {xml}").as_bytes())
                .unwrap()
                .event_name,
            "GENERATE_PASS/N801"
        );
        let json = seeds::skycore_json("5. Response");
        assert_eq!(skycore(json.as_bytes()).unwrap().event_name, "N805");
        assert_eq!(skycore(b"").unwrap_err().code(), "not_json");
        assert_eq!(skycore(b"hello").unwrap_err().code(), "not_json");
        assert_eq!(skycore(b"<nope").unwrap_err().code(), "not_xml");
    }

    #[test]
    fn device_types() {
        assert_eq!(device_type_of("Apple Wallet").as_deref(), Some("apple"));
        assert_eq!(device_type_of("iOS").as_deref(), Some("apple"));
        assert_eq!(device_type_of("Google Pay").as_deref(), Some("android"));
        assert_eq!(
            device_type_of("AndroidWalletPasses").as_deref(),
            Some("android")
        );
        assert_eq!(device_type_of(" "), None);
    }
}
