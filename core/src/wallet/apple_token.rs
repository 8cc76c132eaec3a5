//! A pass's Apple `authenticationToken`: the secret a phone shows Apple's pass update web
//! service (`Authorization: ApplePass <token>`) to register for, and fetch, that one pass.
//!
//! 128 random bits, made the first time the pass's `.pkpass` is built and kept for life, so a
//! phone holding an older file still updates. Whoever holds the `.pkpass` holds the token; it
//! is never logged and never in API output other than inside the file.

use rand_core::{OsRng, RngCore};
use rusqlite::{params, Connection, OptionalExtension};
use std::fmt;
use subtle::ConstantTimeEq;

use crate::store::StoreResult;
use crate::time::Timestamp;

/// An `authenticationToken`: 32 lowercase hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct AppleAuthToken(String);

impl AppleAuthToken {
    pub const LEN: usize = 32;

    fn generate() -> Self {
        let mut bytes = [0u8; Self::LEN / 2];
        OsRng.fill_bytes(&mut bytes);
        Self(hex::encode(bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AppleAuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppleAuthToken(…)")
    }
}

/// The pass's token, made now if it has none yet (one write, the first time only).
pub fn token_for(conn: &Connection, pass_id: &str, now: Timestamp) -> StoreResult<AppleAuthToken> {
    conn.prepare_cached(
        "INSERT INTO wallet_apple_tokens (pass_id, token, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(pass_id) DO NOTHING",
    )?
    .execute(params![
        pass_id,
        AppleAuthToken::generate().as_str(),
        now.unix_ms()
    ])?;
    let token: String = conn
        .prepare_cached("SELECT token FROM wallet_apple_tokens WHERE pass_id = ?1")?
        .query_row([pass_id], |r| r.get(0))?;
    Ok(AppleAuthToken(token))
}

/// The pass's token if it has one, without making one (a read: the connection may be a
/// reader's).
pub fn token_of(conn: &Connection, pass_id: &str) -> StoreResult<Option<AppleAuthToken>> {
    Ok(conn
        .prepare_cached("SELECT token FROM wallet_apple_tokens WHERE pass_id = ?1")?
        .query_row([pass_id], |r| r.get(0))
        .optional()?
        .map(AppleAuthToken))
}

/// True when `presented` is the pass's token (compared in constant time). A pass without a
/// token (its `.pkpass` never built here) matches nothing.
pub fn token_matches(conn: &Connection, pass_id: &str, presented: &str) -> StoreResult<bool> {
    let stored: Option<String> = conn
        .prepare_cached("SELECT token FROM wallet_apple_tokens WHERE pass_id = ?1")?
        .query_row([pass_id], |r| r.get(0))
        .optional()?;
    Ok(stored.is_some_and(|t| bool::from(t.as_bytes().ct_eq(presented.as_bytes()))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pass::{Pass, PassType};
    use crate::store::Store;

    #[test]
    fn a_pass_keeps_its_token_and_only_it_matches() {
        let store = Store::open_in_memory().unwrap();
        let now = Timestamp::from_unix_ms(1_700_000_000_000);
        let conn = store.conn();
        conn.execute(
            "INSERT INTO templates (id, name, pass_type, created_at, updated_at)
             VALUES ('t', 'T', 'storeCard', 0, 0)",
            [],
        )
        .unwrap();
        crate::pass_store::upsert_pass(
            conn,
            &Pass::new("p1", "t", PassType::new("storeCard"), now),
        )
        .unwrap();
        assert_eq!(
            token_of(conn, "p1").unwrap(),
            None,
            "no token until one is made"
        );
        let first = token_for(conn, "p1", now).unwrap();
        assert_eq!(token_of(conn, "p1").unwrap().as_ref(), Some(&first));
        let again = token_for(conn, "p1", now).unwrap();
        assert_eq!(first, again, "a pass keeps its token");
        assert_eq!(first.as_str().len(), AppleAuthToken::LEN);
        assert!(token_matches(conn, "p1", first.as_str()).unwrap());
        assert!(!token_matches(conn, "p1", "0".repeat(32).as_str()).unwrap());
        assert!(!token_matches(conn, "p1", "").unwrap());
        assert!(!token_matches(conn, "nope", first.as_str()).unwrap());
        assert!(
            !format!("{first:?}").contains(first.as_str()),
            "Debug hides the token"
        );
    }
}
