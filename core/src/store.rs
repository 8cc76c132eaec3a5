//! The SQLite store: opening, pragmas, migrations, transactions.
//!
//! Durability: WAL with `synchronous=FULL`. In WAL mode FULL syncs the WAL on every commit, so a
//! committed transaction survives a power cut, not only a crash of this process (NORMAL would
//! survive `kill -9` but may lose the last commits on power loss). A decision is acknowledged
//! only after its commit returns.

use include_dir::{include_dir, Dir};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use rusqlite_migration::Migrations;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

static MIGRATIONS_DIR: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../migrations");

static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::from_directory(&MIGRATIONS_DIR).expect("embedded migrations are well formed")
});

/// The database file inside a data directory.
pub const DB_FILE: &str = "passdesk.sqlite";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no Passdesk database at {0}: run `passdesk init` first")]
    Missing(PathBuf),
    #[error("cannot open the database at {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot migrate the database: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("this node has no identity yet: run `passdesk init`")]
    NotInitialized,
    #[error(transparent)]
    InvalidNodeKey(#[from] crate::token::InvalidNodeKey),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored {what} is unreadable: {detail}")]
    Corrupt { what: &'static str, detail: String },
    #[error("the WAL could not be emptied: another connection still reads from it")]
    CheckpointBusy,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Whether opening may create the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    CreateIfMissing,
    MustExist,
}

/// One connection to the pass cache. Not `Sync`: each thread or task owns its own `Store`.
pub struct Store {
    conn: Connection,
}

impl Store {
    pub fn open(path: &Path, mode: OpenMode) -> StoreResult<Self> {
        if mode == OpenMode::MustExist && !path.exists() {
            return Err(StoreError::Missing(path.to_owned()));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags).map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
        Self::setup(conn)
    }

    /// A private in-memory store, for tests.
    pub fn open_in_memory() -> StoreResult<Self> {
        Self::setup(Connection::open_in_memory()?)
    }

    /// The page cache a connection opens with, in KiB (16 MiB). The scan path's hot pages
    /// (the b-tree interiors of passes, scans and the outbox) fit many times over; the rest
    /// comes from the OS page cache at the cost of a copy, well under the 2 ms budget.
    pub const CACHE_KIB: u32 = 16 * 1024;

    fn setup(mut conn: Connection) -> StoreResult<Self> {
        conn.busy_timeout(Duration::from_secs(5))?;
        // journal_mode returns a row; the others do not.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -16384;
             PRAGMA journal_size_limit = 67108864;",
        )?;
        MIGRATIONS.to_latest(&mut conn)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Self { conn })
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction: the write lock is taken before the first
    /// read, so two processes deciding on the same pass are serialised, not racing. Commits if
    /// `f` returns `Ok`, rolls back otherwise.
    pub fn write<T, E>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<rusqlite::Error>,
    {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Moves WAL content into the database file without blocking writers. The service runs this
    /// off the scan path so that commits never pay for a checkpoint.
    pub fn checkpoint_passive(&self) -> StoreResult<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Moves the whole WAL into the database file and truncates the WAL to nothing, waiting
    /// (up to the busy timeout) for readers of older snapshots. For the end of a shutdown.
    pub fn checkpoint_truncate(&self) -> StoreResult<()> {
        let busy: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if busy != 0 {
            return Err(StoreError::CheckpointBusy);
        }
        Ok(())
    }

    /// Sets this connection's page cache to `kib` KiB. Every connection opens with
    /// [`Store::CACHE_KIB`]; a long-lived process with several connections (the service: one
    /// writer, a few readers) gives its readers less, because each connection's cache fills
    /// up to its limit as the store grows and stays full: the process's memory is the sum.
    pub fn set_cache_kib(&self, kib: u32) -> StoreResult<()> {
        self.conn
            .execute_batch(&format!("PRAGMA cache_size = -{kib};"))?;
        Ok(())
    }

    /// Turns off checkpoints on commit for this connection (see [`Store::checkpoint_passive`]).
    pub fn disable_autocheckpoint(&self) -> StoreResult<()> {
        self.conn
            .query_row("PRAGMA wal_autocheckpoint = 0", [], |_| Ok(()))?;
        Ok(())
    }

    /// `PRAGMA integrity_check`: `Ok(())` when SQLite finds nothing wrong.
    pub fn integrity_check(&self) -> StoreResult<()> {
        let result: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if result == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt {
                what: "database",
                detail: result,
            })
        }
    }
}

/// How many migrations this build embeds: a database whose `user_version` is this number is
/// current (rusqlite_migration counts applied migrations in `user_version`).
pub fn latest_migration() -> usize {
    MIGRATIONS_DIR.dirs().count()
}

/// What a database file holds, found without changing it (no migration runs): `passdesk
/// restore` must know a file is a sound Passdesk database before it replaces the counter's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// The migrations applied to it (`user_version`).
    pub migration: usize,
    pub passes: i64,
    pub scans: i64,
}

/// Why a file cannot stand in for the counter's database. Each reads after "FILE is ".
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("not a SQLite database ({0})")]
    NotSqlite(String),
    #[error("damaged: SQLite's integrity check says {0}")]
    Corrupt(String),
    #[error("a SQLite database but not a Passdesk one (it has no {0} table)")]
    NotPassdesk(&'static str),
    #[error(
        "from a newer Passdesk (migration {found}; this one knows up to {known}): use that version"
    )]
    Newer { found: usize, known: usize },
    #[error("unreadable: {0}")]
    Unreadable(rusqlite::Error),
}

/// The tables every Passdesk database has had since its first migration.
const CORE_TABLES: [&str; 4] = ["node", "passes", "scans", "outbox"];

/// Opens `path` (which must exist) without migrating it and checks, in this order, that it is
/// SQLite, that `PRAGMA integrity_check` finds nothing wrong, that it is a Passdesk database
/// and that no migration newer than this build's has been applied to it.
pub fn inspect(path: &Path) -> Result<Inspection, InspectError> {
    let failed = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => InspectError::NotSqlite(e.to_string()),
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => InspectError::Corrupt(e.to_string()),
        _ => InspectError::Unreadable(e),
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(failed)?;
    let problems: Vec<String> = conn
        .prepare("PRAGMA integrity_check(20)")
        .and_then(|mut stmt| {
            stmt.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<_, _>>()
        })
        .map_err(failed)?;
    if problems != ["ok"] {
        return Err(InspectError::Corrupt(problems.join("; ")));
    }
    for table in CORE_TABLES {
        let found: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .map_err(failed)?;
        if found == 0 {
            return Err(InspectError::NotPassdesk(table));
        }
    }
    let migration: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(failed)?;
    let migration = usize::try_from(migration).unwrap_or(usize::MAX);
    if migration > latest_migration() {
        return Err(InspectError::Newer {
            found: migration,
            known: latest_migration(),
        });
    }
    let count = |table: &str| -> Result<i64, InspectError> {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .map_err(failed)
    };
    Ok(Inspection {
        migration,
        passes: count("passes")?,
        scans: count("scans")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }

    #[test]
    fn open_sets_durable_pragmas() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join(DB_FILE), OpenMode::CreateIfMissing).unwrap();
        let mode: String = store
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = store
            .conn()
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        let fk: i64 = store
            .conn()
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!((mode.as_str(), sync, fk), ("wal", 2, 1));
    }

    /// Migration 04 rebuilds the loyalty tables: a store written before it keeps every account,
    /// lot and reward, and its ledger still folds to its accounts.
    #[test]
    fn compact_loyalty_migration_keeps_every_row() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        MIGRATIONS.to_version(&mut conn, 3).unwrap();
        conn.execute_batch(
            "INSERT INTO templates (id, name, created_at, updated_at) VALUES ('t', 'Card', 1, 1);
             INSERT INTO passes (id, status, pass_type, template_id, created_at, updated_at)
                 VALUES ('p1', 'active', 'storeCard', 't', 1, 1), ('p2', 'active', 'storeCard', 't', 1, 1);
             INSERT INTO loyalty_ledger (id, op_id, node_id, pass_id, kind, points, at)
                 VALUES ('e1', 'o1', 'n', 'p1', 'earn', 30, 10), ('e2', 'o2', 'n', 'p2', 'earn', 70, 11),
                        ('e3', 'o3', 'n', 'p2', 'reward_create', -50, 12);
             UPDATE loyalty_ledger SET reserved_points = 50, reward_id = 'r1' WHERE id = 'e3';
             INSERT INTO loyalty_lots (entry_id, pass_id, seq, remaining, expires_at)
                 VALUES ('e1', 'p1', 1, 30, 99), ('e2', 'p2', 2, 20, NULL);
             INSERT INTO loyalty_accounts (pass_id, points, reserved_points, updated_at)
                 VALUES ('p1', 30, 0, 10), ('p2', 20, 50, 12);
             INSERT INTO loyalty_rewards (id, pass_id, tier_name, unit, cost, status, created_at)
                 VALUES ('r1', 'p2', 'Coffee', 'points', 50, 'available', 12);
             INSERT INTO loyalty_operations (op_id, request_hash, result, at) VALUES ('o1', 'h1', '{\"opId\":\"o1\"}', 10);
             INSERT INTO outbox (id, topic, subject_id, payload, created_at)
                 VALUES ('x1', 'passLoyaltyUpdated', 'p1', '{\"opId\":\"o1\"}', 10);",
        )
        .unwrap();
        MIGRATIONS.to_latest(&mut conn).unwrap();
        let rows = |sql: &str| -> Vec<String> {
            let mut stmt = conn.prepare(sql).unwrap();
            stmt.query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        assert_eq!(
            rows("SELECT pass_id || ':' || points || ':' || reserved_points FROM loyalty_accounts ORDER BY 1"),
            ["p1:30:0", "p2:20:50"]
        );
        assert_eq!(
            rows("SELECT pass_id || ':' || seq || ':' || entry_id || ':' || remaining || ':' || ifnull(expires_at, '-') FROM loyalty_lots ORDER BY 1"),
            ["p1:1:e1:30:99", "p2:2:e2:20:-"]
        );
        assert_eq!(
            rows("SELECT id || ':' || pass_id || ':' || status FROM loyalty_rewards"),
            ["r1:p2:available"]
        );
        let (checked, drift) = crate::loyalty::ledger::verify(&conn).unwrap();
        assert_eq!((checked, drift.len()), (2, 0));
        // Migration 05: an operation recorded before it still answers a replay with its result.
        assert_eq!(
            rows("SELECT op_id || ':' || request_hash || ':' || result FROM loyalty_operations"),
            [r#"o1:h1:{"opId":"o1"}"#]
        );
        assert_eq!(rows("SELECT id || ':' || seq FROM outbox"), ["x1:1"]);
    }

    /// An outbox event that answers a loyalty replay cannot be deleted.
    #[test]
    fn an_operations_event_is_kept() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        MIGRATIONS.to_latest(&mut conn).unwrap();
        conn.execute_batch(
            "INSERT INTO outbox (id, topic, subject_id, payload, created_at)
                 VALUES ('x1', 'passLoyaltyUpdated', 'p1', '{}', 10);
             INSERT INTO loyalty_operations (op_id, request_hash, outbox_seq, at) VALUES ('o1', 'h1', 1, 10);",
        )
        .unwrap();
        let err = conn.execute("DELETE FROM outbox", []).unwrap_err();
        assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
    }

    #[test]
    fn inspect_tells_a_passdesk_database_from_anything_else() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(DB_FILE);
        drop(Store::open(&db, OpenMode::CreateIfMissing).unwrap());
        let found = inspect(&db).unwrap();
        assert_eq!(
            (found.migration, found.passes, found.scans),
            (latest_migration(), 0, 0)
        );
        assert!(latest_migration() >= 5);

        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "not a database, just words ".repeat(100)).unwrap();
        let err = inspect(&text).unwrap_err();
        assert!(matches!(err, InspectError::NotSqlite(_)), "{err}");
        assert!(
            err.to_string().starts_with("not a SQLite database"),
            "{err}"
        );

        let other = dir.path().join("other.sqlite");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let err = inspect(&other).unwrap_err();
        assert!(matches!(err, InspectError::NotPassdesk("node")), "{err}");

        Connection::open(&db)
            .unwrap()
            .execute_batch(&format!("PRAGMA user_version = {}", latest_migration() + 1))
            .unwrap();
        let err = inspect(&db).unwrap_err();
        assert!(matches!(err, InspectError::Newer { .. }), "{err}");
        assert!(err.to_string().contains("newer Passdesk"), "{err}");
    }

    #[test]
    fn must_exist_names_the_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = Store::open(&dir.path().join("nope.sqlite"), OpenMode::MustExist)
            .err()
            .unwrap();
        assert!(err.to_string().contains("passdesk init"), "{err}");
    }
}
