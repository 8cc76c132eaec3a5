//! The hub on one SQLite file (one site): WAL, `synchronous=FULL` (a push is acknowledged only
//! once it is on disk), one connection behind a mutex on tokio's blocking threads. Its writer
//! lock (`BEGIN IMMEDIATE`) is the log's lock; a second process on the same file waits for it
//! (`busy_timeout`).

use super::sql::{self, for_sqlite};
use super::{
    change_json, contact_is_stale, kind_name, needs_of, node_key_change, parse_conflict,
    parse_side, plan_push, side_json, token_usable, Appended, EnrollRefusal, Enrolled, NewNode,
    NodeInfo, NodeRef, PageRows, StorageError, StorageResult, UNKNOWN_TOKEN,
};
use crate::judge::{AdmissionFacts, BalanceFacts, Facts, Needs, OfflineDay, Plan};
use passdesk_core::sync::wire::{Change, ConflictRecord};
use passdesk_core::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a write waits for another process's writer lock before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Changes of an import per transaction.
const IMPORT_BATCH: usize = 20_000;

pub struct SqliteStorage {
    conn: Arc<Mutex<Connection>>,
    pub(crate) hub_id: String,
}

impl SqliteStorage {
    pub async fn open(path: PathBuf) -> StorageResult<Self> {
        let (conn, hub_id) = blocking(move || {
            let mut conn = Connection::open(&path)?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            let hub_id = create_schema(&mut conn)?;
            Ok((conn, hub_id))
        })
        .await?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            hub_id,
        })
    }

    /// Runs `f` on the connection on a blocking thread.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> StorageResult<T> + Send + 'static,
    ) -> StorageResult<T> {
        let conn = self.conn.clone();
        blocking(move || {
            // A panic while holding the lock cannot leave a half-done transaction behind
            // (rusqlite rolls back on drop): the connection is still good.
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
    }

    pub async fn create_token(
        &self,
        hash: String,
        name: String,
        now: Timestamp,
        expires: Timestamp,
    ) -> StorageResult<()> {
        self.with(move |c| {
            c.execute(
                &for_sqlite(sql::INSERT_TOKEN),
                params![hash, name, now.unix_ms(), expires.unix_ms()],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn enroll(
        &self,
        node: NewNode,
        now: Timestamp,
    ) -> StorageResult<Result<Enrolled, EnrollRefusal>> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let last: i64 = tx.query_row(sql::LOCK_LOG_SQLITE, [], |r| r.get(0))?;
            let token: Option<(String, i64, Option<i64>)> = tx
                .query_row(&for_sqlite(sql::TOKEN), [&node.token_hash], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            let Some((name, expires_at, used_at)) = token else {
                return Ok(Err(UNKNOWN_TOKEN));
            };
            if let Err(refused) = token_usable(expires_at, used_at, now) {
                return Ok(Err(refused));
            }
            let taken = tx
                .query_row(&for_sqlite(sql::NODE_EXISTS), [&node.node_id], |_| Ok(()))
                .optional()?
                .is_some();
            if taken {
                return Ok(Err(EnrollRefusal::NodeTaken));
            }
            tx.execute(
                &for_sqlite(sql::INSERT_NODE),
                params![
                    node.node_id,
                    name,
                    node.key_id,
                    node.public_key,
                    node.credential_hash,
                    now.unix_ms()
                ],
            )?;
            tx.execute(
                &for_sqlite(sql::USE_TOKEN),
                params![node.token_hash, now.unix_ms(), node.node_id],
            )?;
            let plan = Plan {
                log: vec![node_key_change(&node, &name, now)],
                ..Plan::default()
            };
            let seq = write_plan(&tx, &plan, last, now)?;
            tx.commit()?;
            Ok(Ok(Enrolled { name, seq }))
        })
        .await
    }

    pub async fn touch_node(&self, hash: String, now: Timestamp) -> StorageResult<Option<NodeRef>> {
        self.with(move |c| {
            let row: Option<(String, String, String, Option<i64>)> = c
                .prepare_cached(&for_sqlite(sql::NODE_BY_CREDENTIAL))?
                .query_row([&hash], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?;
            let Some((id, name, stored, contact)) = row else {
                return Ok(None);
            };
            if !crate::secret::same_hash(&stored, &hash) {
                return Ok(None);
            }
            if contact_is_stale(contact, now) {
                c.prepare_cached(&for_sqlite(sql::SET_LAST_CONTACT))?
                    .execute(params![id, now.unix_ms()])?;
            }
            Ok(Some(NodeRef { id, name }))
        })
        .await
    }

    pub async fn push(
        &self,
        pusher: NodeRef,
        changes: Vec<Change>,
        now: Timestamp,
    ) -> StorageResult<Appended> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let last: i64 = tx.query_row(sql::LOCK_LOG_SQLITE, [], |r| r.get(0))?;
            let (fresh, duplicates) = split_fresh(&tx, changes)?;
            let facts = load_facts(&tx, &needs_of(&fresh), &pusher.id)?;
            let accepted = fresh.len() as u64;
            let plan = plan_push(fresh, &pusher, facts, now);
            let seq = write_plan(&tx, &plan, last, now)?;
            tx.commit()?;
            Ok(Appended {
                accepted,
                duplicates,
                conflicts: plan.conflicts.len() as u64,
                last_seq: (!plan.log.is_empty()).then_some(seq),
            })
        })
        .await
    }

    pub async fn append_own(
        &self,
        changes: Vec<Change>,
        now: Timestamp,
    ) -> StorageResult<Appended> {
        self.with(move |c| {
            let mut total = Appended::default();
            let mut changes = changes.into_iter().peekable();
            while changes.peek().is_some() {
                let batch: Vec<Change> = changes.by_ref().take(IMPORT_BATCH).collect();
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let last: i64 = tx.query_row(sql::LOCK_LOG_SQLITE, [], |r| r.get(0))?;
                let (fresh, duplicates) = split_fresh(&tx, batch)?;
                let plan = Plan {
                    log: fresh,
                    ..Plan::default()
                };
                let seq = write_plan(&tx, &plan, last, now)?;
                tx.commit()?;
                total.accepted += plan.log.len() as u64;
                total.duplicates += duplicates;
                if !plan.log.is_empty() {
                    total.last_seq = Some(seq);
                }
            }
            Ok(total)
        })
        .await
    }

    pub async fn page(&self, node_id: String, after: i64, limit: i64) -> StorageResult<PageRows> {
        self.with(move |c| {
            let mut stmt = c.prepare_cached(&for_sqlite(sql::PAGE))?;
            let rows = stmt
                .query_map(params![node_id, after, limit], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    pub async fn tail(&self) -> StorageResult<i64> {
        self.with(|c| Ok(c.query_row(sql::TAIL, [], |r| r.get(0))?))
            .await
    }

    pub async fn nodes(&self) -> StorageResult<Vec<NodeInfo>> {
        self.with(|c| {
            let mut stmt = c.prepare(sql::NODES)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(NodeInfo {
                        node_id: r.get(0)?,
                        name: r.get(1)?,
                        key_id: r.get(2)?,
                        enrolled_at: Timestamp::from_unix_ms(r.get(3)?),
                        last_contact_at: r.get::<_, Option<i64>>(4)?.map(Timestamp::from_unix_ms),
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    pub async fn conflicts(&self) -> StorageResult<Vec<ConflictRecord>> {
        self.with(|c| {
            let mut stmt = c.prepare(sql::CONFLICTS)?;
            let bodies: Vec<String> = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            bodies.iter().map(|b| parse_conflict(b)).collect()
        })
        .await
    }
}

/// Runs `f` on tokio's blocking threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> StorageResult<T> + Send + 'static,
) -> StorageResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StorageError::Task(e.to_string()))?
}

/// Creates the schema on a new file; returns the hub's id. Under the writer lock, so a second
/// process opening at once waits and then finds it made.
fn create_schema(conn: &mut Connection) -> StorageResult<String> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(sql::CREATE_VERSION_TABLE, [])?;
    let version: Option<i32> = tx.query_row(sql::SCHEMA_VERSION_NOW, [], |r| r.get(0))?;
    match version {
        None => {
            tx.execute_batch(sql::SCHEMA_V1)?;
            tx.execute(&for_sqlite(sql::SET_VERSION), [sql::SCHEMA_VERSION])?;
            tx.execute(
                &for_sqlite(sql::SET_HUB_ID),
                [uuid::Uuid::now_v7().to_string()],
            )?;
        }
        Some(v) if v > sql::SCHEMA_VERSION => {
            return Err(StorageError::NewerSchema {
                found: v,
                known: sql::SCHEMA_VERSION,
            })
        }
        Some(_) => {}
    }
    let hub_id: String = tx.query_row(sql::HUB_ID, [], |r| r.get(0))?;
    tx.commit()?;
    Ok(hub_id)
}

/// The changes whose id is not in the log yet (nor earlier in `changes`), and how many were.
fn split_fresh(tx: &Transaction<'_>, changes: Vec<Change>) -> StorageResult<(Vec<Change>, u64)> {
    let mut stmt = tx.prepare_cached(&for_sqlite(sql::CHANGE_EXISTS))?;
    let mut seen = std::collections::HashSet::new();
    let mut fresh = Vec::with_capacity(changes.len());
    let mut duplicates = 0;
    for change in changes {
        if !seen.insert(change.id.clone()) || stmt.exists([&change.id])? {
            duplicates += 1;
        } else {
            fresh.push(change);
        }
    }
    Ok((fresh, duplicates))
}

fn load_facts(tx: &Transaction<'_>, needs: &Needs, pusher: &str) -> StorageResult<Facts> {
    let mut facts = Facts::default();
    let side_of = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> StorageResult<Option<_>> {
        let text: Option<String> = tx
            .prepare_cached(&for_sqlite(sql))?
            .query_row(p, |r| r.get(0))
            .optional()?;
        text.as_deref().map(parse_side).transpose()
    };
    for pass in &needs.admissions {
        let entries: i64 = tx
            .prepare_cached(&for_sqlite(sql::ENTRIES))?
            .query_row([pass], |r| r.get(0))?;
        let last: Option<(String, String)> = tx
            .prepare_cached(&for_sqlite(sql::LAST_ADMISSION))?
            .query_row([pass], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let last = match last {
            Some((direction, side)) => Some((direction, parse_side(&side)?)),
            None => None,
        };
        let first_foreign_entry = side_of(sql::FIRST_FOREIGN_ENTRY, params![pass, pusher])?;
        facts.admissions.insert(
            pass.clone(),
            AdmissionFacts {
                entries: entries.max(0) as u64,
                last,
                first_foreign_entry,
            },
        );
    }
    for reward in &needs.rewards {
        if let Some(first) = side_of(sql::FIRST_REDEMPTION, params![reward])? {
            facts.rewards.insert(reward.clone(), first);
        }
    }
    for (pass, day) in &needs.offline_days {
        let count: i64 = tx
            .prepare_cached(&for_sqlite(sql::OFFLINE_DAY_COUNT))?
            .query_row(params![pass, day], |r| r.get(0))?;
        let first = side_of(sql::OFFLINE_DAY_FIRST, params![pass, day])?;
        facts.offline_days.insert(
            (pass.clone(), *day),
            OfflineDay {
                count: count.max(0) as u64,
                first,
            },
        );
    }
    for pass in &needs.balances {
        let points: Option<i64> = tx
            .prepare_cached(&for_sqlite(sql::BALANCE))?
            .query_row([pass], |r| r.get(0))
            .optional()?;
        let last_foreign_spend = side_of(sql::LAST_FOREIGN_SPEND, params![pass, pusher])?;
        facts.balances.insert(
            pass.clone(),
            BalanceFacts {
                points: points.unwrap_or(0),
                last_foreign_spend,
            },
        );
    }
    Ok(facts)
}

/// Writes `plan` after seq `last`; returns the new last seq.
fn write_plan(tx: &Transaction<'_>, plan: &Plan, last: i64, now: Timestamp) -> StorageResult<i64> {
    let seq_of = |index: usize| last + 1 + index as i64;
    {
        let mut insert = tx.prepare_cached(&for_sqlite(sql::INSERT_CHANGE))?;
        for (i, change) in plan.log.iter().enumerate() {
            insert.execute(params![
                seq_of(i),
                change.id,
                change.node_id,
                change.body.kind(),
                change.body.pass_id(),
                change.at.unix_ms(),
                now.unix_ms(),
                change_json(change),
            ])?;
        }
    }
    for (i, c) in &plan.conflicts {
        tx.prepare_cached(&for_sqlite(sql::INSERT_CONFLICT))?
            .execute(params![
                c.id,
                seq_of(*i),
                kind_name(c.kind),
                c.pass_id,
                c.detected_at.unix_ms(),
                serde_json::to_string(c).unwrap_or_default(),
            ])?;
    }
    for a in &plan.admissions {
        tx.prepare_cached(&for_sqlite(sql::INSERT_ADMISSION))?
            .execute(params![
                a.pass_id,
                seq_of(a.log_index),
                a.node_id,
                a.direction,
                side_json(&a.side),
            ])?;
    }
    for r in &plan.redemptions {
        tx.prepare_cached(&for_sqlite(sql::INSERT_REDEMPTION))?
            .execute(params![
                seq_of(r.log_index),
                r.ordinal,
                r.reward_id,
                r.pass_id,
                r.day,
                r.offline,
                r.node_id,
                side_json(&r.side),
            ])?;
    }
    for s in &plan.spends {
        tx.prepare_cached(&for_sqlite(sql::INSERT_SPEND))?
            .execute(params![
                s.pass_id,
                seq_of(s.log_index),
                s.node_id,
                side_json(&s.side),
            ])?;
    }
    for (pass, delta) in &plan.balance_deltas {
        tx.prepare_cached(&for_sqlite(sql::ADD_BALANCE))?
            .execute(params![pass, delta])?;
    }
    let new_last = last + plan.log.len() as i64;
    tx.prepare_cached(&for_sqlite(sql::SET_LAST_SEQ))?
        .execute([new_last])?;
    Ok(new_last)
}
