//! The hub's SQL, one text for both engines: written for PostgreSQL (`$1` parameters) and
//! turned into SQLite's numbered parameters (`?1`) by [`for_sqlite`]. Both engines read every
//! statement here the same way (`ON CONFLICT … DO UPDATE`, `RETURNING`, `CASE`).

/// The schema's version this build writes and reads.
pub const SCHEMA_VERSION: i32 = 1;

/// Made first, alone, so that every later open finds where the version is.
pub const CREATE_VERSION_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS hub_schema (version INTEGER NOT NULL)";

pub const SCHEMA_VERSION_NOW: &str = "SELECT max(version) FROM hub_schema";

/// Version 1. `hub_seq` is the log's one-row counter: a push takes its row lock first and
/// holds it to commit, so pushes (and conflict detection) are serialised and seqs are
/// committed in order. Times are unix milliseconds; `side` columns hold a `ConflictSide` as
/// JSON; `body` the change as pulled.
pub const SCHEMA_V1: &str = "
CREATE TABLE hub_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE hub_seq (id INTEGER PRIMARY KEY CHECK (id = 1), last BIGINT NOT NULL);
INSERT INTO hub_seq (id, last) VALUES (1, 0);
CREATE TABLE hub_nodes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    key_id TEXT NOT NULL,
    public_key TEXT NOT NULL,
    credential_hash TEXT NOT NULL UNIQUE,
    enrolled_at BIGINT NOT NULL,
    last_contact_at BIGINT
);
CREATE TABLE hub_enrollment_tokens (
    hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    node_id TEXT
);
CREATE TABLE hub_changes (
    seq BIGINT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    node_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    pass_id TEXT,
    at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX hub_changes_pass ON hub_changes (pass_id);
CREATE TABLE hub_conflicts (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    pass_id TEXT NOT NULL,
    detected_at BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE hub_admissions (
    pass_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    node_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    side TEXT NOT NULL,
    PRIMARY KEY (pass_id, seq)
);
CREATE TABLE hub_redemptions (
    seq BIGINT NOT NULL,
    ordinal INTEGER NOT NULL,
    reward_id TEXT,
    pass_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    offline BOOLEAN NOT NULL,
    node_id TEXT NOT NULL,
    side TEXT NOT NULL,
    PRIMARY KEY (seq, ordinal)
);
CREATE INDEX hub_redemptions_reward ON hub_redemptions (reward_id, seq);
CREATE INDEX hub_redemptions_day ON hub_redemptions (pass_id, day, seq);
CREATE TABLE hub_spends (
    pass_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    node_id TEXT NOT NULL,
    side TEXT NOT NULL,
    PRIMARY KEY (pass_id, seq)
);
CREATE TABLE hub_balances (pass_id TEXT PRIMARY KEY, points BIGINT NOT NULL);
";

pub const SET_VERSION: &str = "INSERT INTO hub_schema (version) VALUES ($1)";
pub const SET_HUB_ID: &str = "INSERT INTO hub_meta (key, value) VALUES ('hub_id', $1)";
pub const HUB_ID: &str = "SELECT value FROM hub_meta WHERE key = 'hub_id'";

/// Takes the log's lock (PostgreSQL: the row lock, held to commit) and reads the last seq.
pub const LOCK_LOG: &str = "SELECT last FROM hub_seq WHERE id = 1 FOR UPDATE";
/// SQLite has no row locks: its writer lock (`BEGIN IMMEDIATE`) is the log's lock.
pub const LOCK_LOG_SQLITE: &str = "SELECT last FROM hub_seq WHERE id = 1";
pub const SET_LAST_SEQ: &str = "UPDATE hub_seq SET last = $1 WHERE id = 1";
/// The newest committed seq (what a waiting pull watches).
pub const TAIL: &str = "SELECT last FROM hub_seq WHERE id = 1";

pub const CHANGE_EXISTS: &str = "SELECT 1 FROM hub_changes WHERE id = $1";
pub const INSERT_CHANGE: &str = "INSERT INTO hub_changes
    (seq, id, node_id, kind, pass_id, at, received_at, body)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
pub const INSERT_CONFLICT: &str = "INSERT INTO hub_conflicts
    (id, seq, kind, pass_id, detected_at, body) VALUES ($1, $2, $3, $4, $5, $6)";
pub const INSERT_ADMISSION: &str = "INSERT INTO hub_admissions
    (pass_id, seq, node_id, direction, side) VALUES ($1, $2, $3, $4, $5)";
pub const INSERT_REDEMPTION: &str = "INSERT INTO hub_redemptions
    (seq, ordinal, reward_id, pass_id, day, offline, node_id, side)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
pub const INSERT_SPEND: &str =
    "INSERT INTO hub_spends (pass_id, seq, node_id, side) VALUES ($1, $2, $3, $4)";
pub const ADD_BALANCE: &str = "INSERT INTO hub_balances (pass_id, points) VALUES ($1, $2)
    ON CONFLICT (pass_id) DO UPDATE SET points = hub_balances.points + excluded.points";

// What conflict detection loads (judge::Facts).
pub const ENTRIES: &str =
    "SELECT count(*) FROM hub_admissions WHERE pass_id = $1 AND direction = 'entry'";
pub const LAST_ADMISSION: &str =
    "SELECT direction, side FROM hub_admissions WHERE pass_id = $1 ORDER BY seq DESC LIMIT 1";
pub const FIRST_FOREIGN_ENTRY: &str = "SELECT side FROM hub_admissions
    WHERE pass_id = $1 AND direction = 'entry' AND node_id <> $2 ORDER BY seq LIMIT 1";
pub const FIRST_REDEMPTION: &str =
    "SELECT side FROM hub_redemptions WHERE reward_id = $1 ORDER BY seq, ordinal LIMIT 1";
pub const OFFLINE_DAY_COUNT: &str =
    "SELECT count(*) FROM hub_redemptions WHERE pass_id = $1 AND day = $2 AND offline";
pub const OFFLINE_DAY_FIRST: &str = "SELECT side FROM hub_redemptions
    WHERE pass_id = $1 AND day = $2 AND offline ORDER BY seq, ordinal LIMIT 1";
pub const BALANCE: &str = "SELECT points FROM hub_balances WHERE pass_id = $1";
pub const LAST_FOREIGN_SPEND: &str = "SELECT side FROM hub_spends
    WHERE pass_id = $1 AND node_id <> $2 ORDER BY seq DESC LIMIT 1";

/// A page of the log after a seq for node `$1`: its own scans and ledger operations without
/// their body (left out of the answer, but the cursor moves past them).
pub const PAGE: &str = "SELECT seq, CASE WHEN node_id = $1 AND kind IN ('scan', 'ledger')
    THEN NULL ELSE body END FROM hub_changes WHERE seq > $2 ORDER BY seq LIMIT $3";

pub const INSERT_TOKEN: &str = "INSERT INTO hub_enrollment_tokens
    (hash, name, created_at, expires_at) VALUES ($1, $2, $3, $4)";
pub const TOKEN: &str =
    "SELECT name, expires_at, used_at FROM hub_enrollment_tokens WHERE hash = $1";
pub const USE_TOKEN: &str =
    "UPDATE hub_enrollment_tokens SET used_at = $2, node_id = $3 WHERE hash = $1";
pub const NODE_EXISTS: &str = "SELECT 1 FROM hub_nodes WHERE id = $1";
pub const INSERT_NODE: &str = "INSERT INTO hub_nodes
    (id, name, key_id, public_key, credential_hash, enrolled_at, last_contact_at)
    VALUES ($1, $2, $3, $4, $5, $6, $6)";
/// The node of a credential's hash, and when it last called.
pub const NODE_BY_CREDENTIAL: &str = "SELECT id, name, credential_hash, last_contact_at
    FROM hub_nodes WHERE credential_hash = $1";
/// A node's last contact, written at most once per [`CONTACT_RESOLUTION_MS`]: a counter's
/// long polls and pushes would otherwise each be a durable write (an fsync on SQLite).
pub const SET_LAST_CONTACT: &str = "UPDATE hub_nodes SET last_contact_at = $2 WHERE id = $1";
pub const CONTACT_RESOLUTION_MS: i64 = 1000;
pub const NODES: &str =
    "SELECT id, name, key_id, enrolled_at, last_contact_at FROM hub_nodes ORDER BY enrolled_at, id";
pub const CONFLICTS: &str = "SELECT body FROM hub_conflicts ORDER BY seq";

/// `$1` → `?1`: SQLite's numbered parameters, the same positions.
pub fn for_sqlite(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn parameters_keep_their_positions() {
        assert_eq!(
            super::for_sqlite("SELECT $2, $10 WHERE a = $1"),
            "SELECT ?2, ?10 WHERE a = ?1"
        );
    }
}
