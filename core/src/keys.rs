//! This node's identity and signing key, the public keys we trust, revoked tokens.

use crate::store::{StoreError, StoreResult};
use crate::time::Timestamp;
use crate::token::{self, NodeKey};
use p256::ecdsa::VerifyingKey;
use rusqlite::{params, Connection, OptionalExtension};

/// Who this node is: its id (in every scan row it writes) and its signing key.
#[derive(Debug, Clone)]
pub struct NodeIdentity {
    pub node_id: String,
    pub key: NodeKey,
}

/// Loads this node's identity, creating it on first call. Returns `true` when it was created.
pub fn init_node(conn: &Connection) -> StoreResult<(NodeIdentity, bool)> {
    if let Some(node) = load_node_opt(conn)? {
        return Ok((node, false));
    }
    let key = NodeKey::generate();
    let node = NodeIdentity {
        node_id: uuid::Uuid::now_v7().to_string(),
        key,
    };
    let now = Timestamp::now();
    conn.execute(
        "INSERT INTO node (singleton, node_id, key_id, private_key, created_at) VALUES (1, ?1, ?2, ?3, ?4)",
        params![node.node_id, node.key.key_id(), node.key.to_pkcs8_der(), now],
    )?;
    add_trusted_key(conn, &node.node_id, &node.key.public_sec1(), now)?;
    Ok((node, true))
}

pub fn load_node(conn: &Connection) -> StoreResult<NodeIdentity> {
    load_node_opt(conn)?.ok_or(StoreError::NotInitialized)
}

fn load_node_opt(conn: &Connection) -> StoreResult<Option<NodeIdentity>> {
    let row: Option<(String, Vec<u8>)> = conn
        .query_row(
            "SELECT node_id, private_key FROM node WHERE singleton = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        None => Ok(None),
        Some((node_id, der)) => Ok(Some(NodeIdentity {
            node_id,
            key: NodeKey::from_pkcs8_der(&der)?,
        })),
    }
}

/// Trusts the PD1 tokens signed by `public_sec1` (another node's key, or ours). Idempotent.
pub fn add_trusted_key(
    conn: &Connection,
    node_id: &str,
    public_sec1: &[u8],
    at: Timestamp,
) -> StoreResult<String> {
    let key = token::verifying_key_from_sec1(public_sec1).ok_or(StoreError::Corrupt {
        what: "public key",
        detail: "not a SEC1 P-256 point".into(),
    })?;
    let key_id = token::key_id_of(&key);
    conn.execute(
        "INSERT INTO node_keys (key_id, node_id, public_key, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(key_id) DO NOTHING",
        params![key_id, node_id, key.to_encoded_point(true).as_bytes(), at],
    )?;
    Ok(key_id)
}

/// The trusted, unrevoked key with this id.
pub fn trusted_key(conn: &Connection, key_id: &str) -> StoreResult<Option<VerifyingKey>> {
    let sec1: Option<Vec<u8>> = conn
        .prepare_cached(
            "SELECT public_key FROM node_keys WHERE key_id = ?1 AND revoked_at IS NULL",
        )?
        .query_row([key_id], |r| r.get(0))
        .optional()?;
    match sec1 {
        None => Ok(None),
        Some(bytes) => {
            token::verifying_key_from_sec1(&bytes)
                .map(Some)
                .ok_or(StoreError::Corrupt {
                    what: "public key",
                    detail: format!("key {key_id} is not a SEC1 P-256 point"),
                })
        }
    }
}

pub fn is_token_revoked(conn: &Connection, token_id: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM revoked_tokens WHERE token_id = ?1")?
        .exists([token_id])?)
}

/// Revokes a token id. Idempotent: revoking twice keeps the first record.
pub fn revoke_token(
    conn: &Connection,
    token_id: &str,
    pass_id: Option<&str>,
    reason: Option<&str>,
    at: Timestamp,
) -> StoreResult<bool> {
    let n = conn.execute(
        "INSERT INTO revoked_tokens (token_id, pass_id, reason, revoked_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(token_id) DO NOTHING",
        params![token_id, pass_id, reason, at],
    )?;
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn init_is_idempotent_and_trusts_own_key() {
        let store = Store::open_in_memory().unwrap();
        let (a, created) = init_node(store.conn()).unwrap();
        assert!(created);
        let (b, created) = init_node(store.conn()).unwrap();
        assert!(!created);
        assert_eq!(a.node_id, b.node_id);
        assert_eq!(a.key.key_id(), b.key.key_id());
        assert!(trusted_key(store.conn(), a.key.key_id()).unwrap().is_some());
        assert!(trusted_key(store.conn(), "0000000000000000")
            .unwrap()
            .is_none());
    }

    #[test]
    fn revocation_is_idempotent() {
        let store = Store::open_in_memory().unwrap();
        let now = Timestamp::now();
        assert!(revoke_token(store.conn(), "t1", None, None, now).unwrap());
        assert!(!revoke_token(store.conn(), "t1", None, None, now).unwrap());
        assert!(is_token_revoked(store.conn(), "t1").unwrap());
        assert!(!is_token_revoked(store.conn(), "t2").unwrap());
    }
}
