//! API keys: `pdk_<id>_<secret>`, random, shown once, stored as SHA-256 of the secret, with a
//! role. The id part finds the row; the secret's hash is compared in constant time.
//!
//! SHA-256 (not a slow password hash) is right here: the secret is 32 random bytes, so there is
//! nothing to guess by brute force, and checking a key costs microseconds on every request.
//!
//! A key may be bound to readers (`api_key_readers`): it then scans only as one of them. A key
//! bound to none may act as any reader its role allows.

use crate::scan::ReaderId;
use crate::store::{StoreError, StoreResult};
use crate::time::Timestamp;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand_core::{OsRng, RngCore};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;
use subtle::ConstantTimeEq;

/// What a key may do; each role may do everything the roles before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Post scans only (a gate reader, a kiosk).
    Reader,
    /// Scans and loyalty at the till.
    Cashier,
    /// Issue and void passes, templates, events, readers, balance overrides.
    Manager,
    /// Keys and settings.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reader => "reader",
            Self::Cashier => "cashier",
            Self::Manager => "manager",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "reader" => Ok(Self::Reader),
            "cashier" => Ok(Self::Cashier),
            "manager" => Ok(Self::Manager),
            "admin" => Ok(Self::Admin),
            other => Err(format!(
                "unknown role {other:?} (expected reader, cashier, manager or admin)"
            )),
        }
    }
}

/// A key as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    /// The readers it may scan as; empty: not bound.
    pub readers: Vec<String>,
}

/// Who a presented key is: what a request may do, and when it was last recorded as used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyIdentity {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The readers it may scan as; empty: not bound.
    pub readers: Vec<ReaderId>,
    pub last_used_at: Option<Timestamp>,
}

/// A new key's full text, to show once. Its `Debug` hides it.
pub struct NewKey(pub String);

impl fmt::Debug for NewKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewKey(…)")
    }
}

fn secret_hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

pub fn create(
    conn: &Connection,
    name: &str,
    role: Role,
    at: Timestamp,
) -> StoreResult<(ApiKey, NewKey)> {
    create_bound(conn, name, role, &[], at)
}

/// A key that scans only as `readers` (none: any reader). Run it inside a transaction so that
/// the key and its bindings are written together.
pub fn create_bound(
    conn: &Connection,
    name: &str,
    role: Role,
    readers: &[ReaderId],
    at: Timestamp,
) -> StoreResult<(ApiKey, NewKey)> {
    let mut id = [0u8; 9];
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut id);
    OsRng.fill_bytes(&mut secret);
    let id = hex::encode(id);
    let secret = URL_SAFE_NO_PAD.encode(secret);
    conn.execute(
        "INSERT INTO api_keys (id, name, role, secret_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, name, role.as_str(), secret_hash(&secret).as_slice(), at],
    )?;
    let mut bind = conn.prepare_cached(
        "INSERT INTO api_key_readers (key_id, reader_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?;
    for reader in readers {
        bind.execute(params![id, reader.as_str()])?;
    }
    let mut readers: Vec<String> = readers.iter().map(|r| r.as_str().to_owned()).collect();
    readers.sort();
    readers.dedup();
    let key = ApiKey {
        id: id.clone(),
        name: name.to_owned(),
        role,
        created_at: at,
        revoked_at: None,
        last_used_at: None,
        readers,
    };
    Ok((key, NewKey(format!("pdk_{id}_{secret}"))))
}

/// The id and role of a presented key, or `None` for anything that is not a live key of ours.
pub fn authenticate(conn: &Connection, presented: &str) -> StoreResult<Option<(String, Role)>> {
    Ok(identify(conn, presented)?.map(|k| (k.id, k.role)))
}

/// Who a presented key is, or `None` for anything that is not a live key of ours.
pub fn identify(conn: &Connection, presented: &str) -> StoreResult<Option<KeyIdentity>> {
    let Some((id, secret)) = presented
        .strip_prefix("pdk_")
        .and_then(|rest| rest.split_once('_'))
    else {
        return Ok(None);
    };
    if id.len() != 18 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let row: Option<(Vec<u8>, String, String, Option<Timestamp>)> = conn
        .prepare_cached(
            "SELECT secret_hash, role, name, last_used_at FROM api_keys
             WHERE id = ?1 AND revoked_at IS NULL",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let Some((stored, role, name, last_used_at)) = row else {
        return Ok(None);
    };
    if !bool::from(stored.as_slice().ct_eq(secret_hash(secret).as_slice())) {
        return Ok(None);
    }
    let role = role.parse().map_err(|detail| StoreError::Corrupt {
        what: "api key",
        detail,
    })?;
    let readers = readers_of(conn, id)?
        .iter()
        .map(|r| {
            ReaderId::parse(r).map_err(|e| StoreError::Corrupt {
                what: "api key reader",
                detail: e.to_string(),
            })
        })
        .collect::<StoreResult<_>>()?;
    Ok(Some(KeyIdentity {
        id: id.to_owned(),
        name,
        role,
        readers,
        last_used_at,
    }))
}

fn readers_of(conn: &Connection, key_id: &str) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT reader_id FROM api_key_readers WHERE key_id = ?1 ORDER BY reader_id",
    )?;
    let readers = stmt
        .query_map([key_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(readers)
}

/// Records when keys were last used (`last_used_at` only moves forward). The service calls it
/// at most once a minute per key, batched, off the request path.
pub fn record_use(conn: &Connection, used: &[(String, Timestamp)]) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE api_keys SET last_used_at = ?2
         WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)",
    )?;
    for (id, at) in used {
        stmt.execute(params![id, at])?;
    }
    Ok(())
}

pub fn list(conn: &Connection) -> StoreResult<Vec<ApiKey>> {
    let mut stmt = conn.prepare(
        "SELECT id, name, role, created_at, revoked_at, last_used_at FROM api_keys ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get(1)?,
            r.get::<_, String>(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, name, role, created_at, revoked_at, last_used_at) = row?;
        let role = role.parse().map_err(|detail| StoreError::Corrupt {
            what: "api key",
            detail,
        })?;
        out.push(ApiKey {
            readers: readers_of(conn, &id)?,
            id,
            name,
            role,
            created_at,
            revoked_at,
            last_used_at,
        });
    }
    Ok(out)
}

/// Revokes a key by id (or by its full text). Returns false when no live key matched.
pub fn revoke(conn: &Connection, id_or_key: &str, at: Timestamp) -> StoreResult<bool> {
    let id = id_or_key
        .strip_prefix("pdk_")
        .and_then(|rest| rest.split_once('_'))
        .map_or(id_or_key, |(id, _)| id);
    let n = conn.execute(
        "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, at],
    )?;
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn keys_authenticate_until_revoked() {
        let store = Store::open_in_memory().unwrap();
        let now = Timestamp::now();
        let (key, text) = create(store.conn(), "till", Role::Cashier, now).unwrap();
        assert_eq!(
            authenticate(store.conn(), &text.0).unwrap(),
            Some((key.id.clone(), Role::Cashier))
        );
        let mut tampered = text.0.clone();
        tampered.pop();
        tampered.push('x');
        for bad in [
            tampered.as_str(),
            "",
            "pdk_",
            "Bearer x",
            "pdk_zz_yy",
            &text.0[..text.0.len() - 1],
        ] {
            assert_eq!(authenticate(store.conn(), bad).unwrap(), None, "{bad}");
        }
        assert!(revoke(store.conn(), &key.id, now).unwrap());
        assert!(!revoke(store.conn(), &key.id, now).unwrap());
        assert_eq!(authenticate(store.conn(), &text.0).unwrap(), None);
        assert!(format!("{text:?}").find("pdk_").is_none());
    }

    #[test]
    fn a_bound_key_carries_its_readers() {
        let mut store = Store::open_in_memory().unwrap();
        let now = Timestamp::from_unix_ms(1_700_000_000_000);
        let readers = [
            ReaderId::parse("gate-b").unwrap(),
            ReaderId::parse("gate-a").unwrap(),
            ReaderId::parse("gate-a").unwrap(),
        ];
        let (key, text) = store
            .write(|tx| create_bound(tx, "gate", Role::Reader, &readers, now))
            .unwrap();
        assert_eq!(key.readers, ["gate-a", "gate-b"]);
        let who = identify(store.conn(), &text.0).unwrap().unwrap();
        assert_eq!(
            (who.id.as_str(), who.name.as_str(), who.role),
            (key.id.as_str(), "gate", Role::Reader)
        );
        assert_eq!(
            who.readers,
            [
                ReaderId::parse("gate-a").unwrap(),
                ReaderId::parse("gate-b").unwrap()
            ]
        );
        let (_, free) = create(store.conn(), "till", Role::Cashier, now).unwrap();
        assert!(identify(store.conn(), &free.0)
            .unwrap()
            .unwrap()
            .readers
            .is_empty());
        let listed = list(store.conn()).unwrap();
        let readers_of = |name: &str| &listed.iter().find(|k| k.name == name).unwrap().readers;
        assert_eq!(readers_of("gate"), &["gate-a", "gate-b"]);
        assert!(readers_of("till").is_empty());
    }

    #[test]
    fn last_use_only_moves_forward() {
        let store = Store::open_in_memory().unwrap();
        let t = |ms| Timestamp::from_unix_ms(ms);
        let (key, text) = create(store.conn(), "till", Role::Cashier, t(1)).unwrap();
        let last = || {
            identify(store.conn(), &text.0)
                .unwrap()
                .unwrap()
                .last_used_at
        };
        assert_eq!(last(), None);
        record_use(store.conn(), &[(key.id.clone(), t(100))]).unwrap();
        assert_eq!(last(), Some(t(100)));
        record_use(store.conn(), &[(key.id.clone(), t(50))]).unwrap();
        assert_eq!(last(), Some(t(100)));
        assert_eq!(list(store.conn()).unwrap()[0].last_used_at, Some(t(100)));
    }

    #[test]
    fn roles_are_ordered() {
        assert!(
            Role::Admin > Role::Manager
                && Role::Manager > Role::Cashier
                && Role::Cashier > Role::Reader
        );
    }
}
