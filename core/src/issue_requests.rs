//! Idempotent issuance: a pass issued under an `Idempotency-Key` is remembered with a hash of
//! its request, in the pass's own transaction, so that a retry of the same request answers the
//! pass the first one made (and makes nothing), and the same key with another request is
//! refused. One row per key, keyed by the key: a retry costs one probe.

use crate::store::{StoreError, StoreResult};
use crate::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// SHA-256 (hex) of a request in canonical form: its JSON with the keys of every object in
/// order, so the same request sent with its keys in another order hashes the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHash(String);

impl RequestHash {
    pub fn of(request: &impl Serialize) -> Result<Self, serde_json::Error> {
        let canonical = sorted(serde_json::to_value(request)?);
        Ok(Self(hex::encode(Sha256::digest(serde_json::to_vec(
            &canonical,
        )?))))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The value with every object's keys in order. (serde_json keeps keys sorted today, but only
/// while no crate in the build turns on its `preserve_order`: this does not depend on it.)
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IssueKeyError {
    #[error("Idempotency-Key {0} was already used for a different request")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for IssueKeyError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(e.into())
    }
}

/// The pass issued under `key`, if one was: `Ok(Some(pass id))` when the request is the same,
/// [`IssueKeyError::Conflict`] when it is not, `Ok(None)` for a key not seen before.
pub fn recall(
    conn: &Connection,
    key: &str,
    hash: &RequestHash,
) -> Result<Option<String>, IssueKeyError> {
    let row: Option<(String, String)> = conn
        .prepare_cached(
            "SELECT request_hash, pass_id FROM issue_requests WHERE idempotency_key = ?1",
        )?
        .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        None => Ok(None),
        Some((stored, _)) if stored != hash.0 => Err(IssueKeyError::Conflict(key.to_owned())),
        Some((_, pass_id)) => Ok(Some(pass_id)),
    }
}

/// Remembers the pass issued under `key`. Call it in the transaction that writes the pass.
pub fn remember(
    conn: &Connection,
    key: &str,
    hash: &RequestHash,
    pass_id: &str,
    at: Timestamp,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO issue_requests (idempotency_key, request_hash, pass_id, at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![key, hash.0, pass_id, at])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_same_request_with_keys_in_another_order_hashes_the_same() {
        let a: Value = serde_json::from_str(
            r#"{"passTemplate":"t","pass":{"fullName":"Ada","qr":{"value":"X","displayText":false}},"initialBalance":5}"#,
        )
        .unwrap();
        let b: Value = serde_json::from_str(
            r#"{"initialBalance":5,"pass":{"qr":{"displayText":false,"value":"X"},"fullName":"Ada"},"passTemplate":"t"}"#,
        )
        .unwrap();
        assert_eq!(RequestHash::of(&a).unwrap(), RequestHash::of(&b).unwrap());
        let c = json!({"passTemplate": "t", "pass": {"fullName": "Ada"}, "initialBalance": 6});
        assert_ne!(RequestHash::of(&a).unwrap(), RequestHash::of(&c).unwrap());
    }
}
