//! The hub's storage behind one small interface, two engines: PostgreSQL ([`postgres`]: a
//! pool; several hub processes may share the database) and SQLite ([`sqlite`]: one file, one
//! writer, on blocking threads). Both run the same statements ([`sql`]), create the schema at
//! open (idempotent, safe when two processes open at once) and append to the log in one
//! transaction per push, under the log's lock, so seqs are committed in order.

pub mod postgres;
pub mod sql;
pub mod sqlite;

use crate::database_url::{DatabaseUrl, Engine};
use crate::judge::{Facts, Needs, Plan};
use passdesk_core::sync::wire::{
    Change, ChangeBody, ConflictRecord, ConflictSide, NodeKeyRecord, HUB_NODE_ID,
};
use passdesk_core::Timestamp;
use serde::Serialize;

/// What went wrong in the storage; the words are for the log (a client sees a generic 500).
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("cannot get a PostgreSQL connection: {0}")]
    Pool(String),
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the hub database's schema is version {found}, newer than this passdesk ({known}): upgrade passdesk")]
    NewerSchema { found: i32, known: i32 },
    #[error("the hub database holds a row this passdesk cannot read ({what}): {why}")]
    Corrupt { what: &'static str, why: String },
    #[error("a storage task failed: {0}")]
    Task(String),
}

pub type StorageResult<T> = Result<T, StorageError>;

/// A node as a call authenticated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRef {
    pub id: String,
    pub name: String,
}

/// An enrolled node as `passdesk hub nodes` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    pub node_id: String,
    pub name: String,
    pub key_id: String,
    pub enrolled_at: Timestamp,
    pub last_contact_at: Option<Timestamp>,
}

/// A node to enroll, its token's hash and its credential's.
#[derive(Debug, Clone)]
pub struct NewNode {
    pub token_hash: String,
    pub node_id: String,
    pub key_id: String,
    pub public_key: String,
    pub credential_hash: String,
}

/// Why an enrollment was refused; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrollRefusal {
    /// Unknown, used or expired: the words say which.
    BadToken(&'static str),
    /// The node id is enrolled already.
    NodeTaken,
}

/// What the token named the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolled {
    pub name: String,
    pub seq: i64,
}

/// What a push appended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Appended {
    pub accepted: u64,
    pub duplicates: u64,
    pub conflicts: u64,
    /// The last seq written, if any.
    pub last_seq: Option<i64>,
}

/// A page of the log: each seq with its body, `None` for a change left out for the caller.
pub type PageRows = Vec<(i64, Option<String>)>;

/// A token that cannot enroll, in words; `Ok` when it can.
pub(crate) fn token_usable(
    expires_at: i64,
    used_at: Option<i64>,
    now: Timestamp,
) -> Result<(), EnrollRefusal> {
    if used_at.is_some() {
        return Err(EnrollRefusal::BadToken(
            "this enrollment token was used already",
        ));
    }
    if expires_at <= now.unix_ms() {
        return Err(EnrollRefusal::BadToken("this enrollment token has expired"));
    }
    Ok(())
}

pub(crate) const UNKNOWN_TOKEN: EnrollRefusal = EnrollRefusal::BadToken("no such enrollment token");

/// Whether a node's last contact, stored as `stored`, is worth writing again at `now`.
pub(crate) fn contact_is_stale(stored: Option<i64>, now: Timestamp) -> bool {
    stored.is_none_or(|t| now.unix_ms() - t >= sql::CONTACT_RESOLUTION_MS)
}

/// The `nodeKey` change written at enrollment: every counter learns the node's PD1 key.
pub(crate) fn node_key_change(node: &NewNode, name: &str, now: Timestamp) -> Change {
    Change {
        id: uuid::Uuid::now_v7().to_string(),
        node_id: HUB_NODE_ID.to_owned(),
        at: now,
        body: ChangeBody::NodeKey(NodeKeyRecord {
            node_id: node.node_id.clone(),
            node_name: name.to_owned(),
            key_id: node.key_id.clone(),
            public_key: node.public_key.clone(),
        }),
    }
}

/// A change's row: its JSON as pulled.
pub(crate) fn change_json(change: &Change) -> String {
    // A Change is plain data (strings, numbers, maps with string keys): it always serialises.
    serde_json::to_string(change).unwrap_or_default()
}

pub(crate) fn side_json(side: &ConflictSide) -> String {
    serde_json::to_string(side).unwrap_or_default()
}

pub(crate) fn parse_side(text: &str) -> StorageResult<ConflictSide> {
    serde_json::from_str(text).map_err(|e| StorageError::Corrupt {
        what: "a conflict side",
        why: e.to_string(),
    })
}

pub(crate) fn parse_conflict(text: &str) -> StorageResult<ConflictRecord> {
    serde_json::from_str(text).map_err(|e| StorageError::Corrupt {
        what: "a conflict",
        why: e.to_string(),
    })
}

pub(crate) fn kind_name(kind: passdesk_core::sync::wire::ConflictKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Judges a push: the plan for `fresh` against what `load` reads.
pub(crate) fn plan_push(
    fresh: Vec<Change>,
    pusher: &NodeRef,
    facts: Facts,
    now: Timestamp,
) -> Plan {
    let mut facts = facts;
    let names = [(pusher.id.clone(), pusher.name.clone())]
        .into_iter()
        .collect();
    crate::judge::judge(fresh, &pusher.id, &names, &mut facts, now, || {
        uuid::Uuid::now_v7().to_string()
    })
}

/// The needs of `fresh`, for the engines' loaders.
pub(crate) fn needs_of(fresh: &[Change]) -> Needs {
    crate::judge::needs(fresh)
}

/// The storage of one hub process.
pub enum Storage {
    Postgres(postgres::PgStorage),
    Sqlite(sqlite::SqliteStorage),
}

impl Storage {
    /// Opens (and at the first open, creates) the hub's database.
    pub async fn open(url: &DatabaseUrl) -> StorageResult<Self> {
        Ok(match url {
            DatabaseUrl::Postgres(u) => Self::Postgres(postgres::PgStorage::open(u).await?),
            DatabaseUrl::Sqlite(p) => Self::Sqlite(sqlite::SqliteStorage::open(p.clone()).await?),
        })
    }

    pub fn engine(&self) -> Engine {
        match self {
            Self::Postgres(_) => Engine::Postgres,
            Self::Sqlite(_) => Engine::Sqlite,
        }
    }

    pub fn hub_id(&self) -> &str {
        match self {
            Self::Postgres(s) => &s.hub_id,
            Self::Sqlite(s) => &s.hub_id,
        }
    }

    pub async fn create_token(
        &self,
        hash: String,
        name: String,
        now: Timestamp,
        expires: Timestamp,
    ) -> StorageResult<()> {
        match self {
            Self::Postgres(s) => s.create_token(hash, name, now, expires).await,
            Self::Sqlite(s) => s.create_token(hash, name, now, expires).await,
        }
    }

    /// Enrolls a node with a token, in one transaction: the node, the token used, the
    /// `nodeKey` change. Refused: nothing written.
    pub async fn enroll(
        &self,
        node: NewNode,
        now: Timestamp,
    ) -> StorageResult<Result<Enrolled, EnrollRefusal>> {
        match self {
            Self::Postgres(s) => s.enroll(node, now).await,
            Self::Sqlite(s) => s.enroll(node, now).await,
        }
    }

    /// The node whose credential hashes to `hash` (compared in constant time), its last
    /// contact set to `now` (to the second).
    pub async fn touch_node(&self, hash: String, now: Timestamp) -> StorageResult<Option<NodeRef>> {
        match self {
            Self::Postgres(s) => s.touch_node(hash, now).await,
            Self::Sqlite(s) => s.touch_node(hash, now).await,
        }
    }

    /// Appends a push's changes (each already checked to be the pusher's own and pushable) in
    /// one transaction with their conflicts; ids already in the log count as duplicates.
    pub async fn push(
        &self,
        pusher: NodeRef,
        changes: Vec<Change>,
        now: Timestamp,
    ) -> StorageResult<Appended> {
        match self {
            Self::Postgres(s) => s.push(pusher, changes, now).await,
            Self::Sqlite(s) => s.push(pusher, changes, now).await,
        }
    }

    /// Appends the hub's own changes (an import) in transactions of `batch`; ids already in
    /// the log are skipped. Returns how many were appended.
    pub async fn append_own(
        &self,
        changes: Vec<Change>,
        now: Timestamp,
    ) -> StorageResult<Appended> {
        match self {
            Self::Postgres(s) => s.append_own(changes, now).await,
            Self::Sqlite(s) => s.append_own(changes, now).await,
        }
    }

    /// At most `limit` rows of the log after `after`, for node `node_id`.
    pub async fn page(&self, node_id: String, after: i64, limit: i64) -> StorageResult<PageRows> {
        match self {
            Self::Postgres(s) => s.page(node_id, after, limit).await,
            Self::Sqlite(s) => s.page(node_id, after, limit).await,
        }
    }

    /// The newest committed seq.
    pub async fn tail(&self) -> StorageResult<i64> {
        match self {
            Self::Postgres(s) => s.tail().await,
            Self::Sqlite(s) => s.tail().await,
        }
    }

    pub async fn nodes(&self) -> StorageResult<Vec<NodeInfo>> {
        match self {
            Self::Postgres(s) => s.nodes().await,
            Self::Sqlite(s) => s.nodes().await,
        }
    }

    /// Every conflict, in the order found.
    pub async fn conflicts(&self) -> StorageResult<Vec<ConflictRecord>> {
        match self {
            Self::Postgres(s) => s.conflicts().await,
            Self::Sqlite(s) => s.conflicts().await,
        }
    }
}
