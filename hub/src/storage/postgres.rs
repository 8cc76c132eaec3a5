//! The hub on PostgreSQL (a chain: several hub processes behind a load balancer over one
//! database). A pool of connections (deadpool); a push is one transaction that first takes the
//! row lock of `hub_seq`, so pushes from every process are serialised until commit: seqs are
//! committed in order (a reader that saw seq N never sees a lower one appear later) and
//! conflict detection always sees every earlier push. No TLS: a hub reaches its database on
//! loopback or a private network.

use super::sql;
use super::{
    change_json, contact_is_stale, kind_name, needs_of, node_key_change, parse_conflict,
    parse_side, plan_push, side_json, token_usable, Appended, EnrollRefusal, Enrolled, NewNode,
    NodeInfo, NodeRef, PageRows, StorageError, StorageResult, UNKNOWN_TOKEN,
};
use crate::judge::{BalanceFacts, Facts, Needs, OfflineDay, Plan};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Transaction};
use passdesk_core::sync::wire::{Change, ConflictRecord};
use passdesk_core::Timestamp;
use std::time::Duration;
use tokio_postgres::NoTls;

/// Connections per hub process.
const POOL_SIZE: usize = 16;
/// How long a request waits for a connection (or to make one) before it fails.
const POOL_WAIT: Duration = Duration::from_secs(10);
/// Changes of an import per transaction.
const IMPORT_BATCH: usize = 20_000;
/// The advisory lock that serialises schema creation across processes (any fixed number;
/// this one spells the default port and the issue).
const SCHEMA_LOCK: i64 = 7_480_014;

pub struct PgStorage {
    pool: Pool,
    pub(crate) hub_id: String,
}

fn pool_error(e: impl std::fmt::Display) -> StorageError {
    StorageError::Pool(e.to_string())
}

impl PgStorage {
    pub async fn open(url: &str) -> StorageResult<Self> {
        let config: tokio_postgres::Config = url.parse()?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(POOL_WAIT))
            .build()
            .map_err(pool_error)?;
        let hub_id = create_schema(&pool).await?;
        Ok(Self { pool, hub_id })
    }

    async fn client(&self) -> StorageResult<deadpool_postgres::Client> {
        self.pool.get().await.map_err(pool_error)
    }

    pub async fn create_token(
        &self,
        hash: String,
        name: String,
        now: Timestamp,
        expires: Timestamp,
    ) -> StorageResult<()> {
        let client = self.client().await?;
        client
            .execute(
                sql::INSERT_TOKEN,
                &[&hash, &name, &now.unix_ms(), &expires.unix_ms()],
            )
            .await?;
        Ok(())
    }

    pub async fn enroll(
        &self,
        node: NewNode,
        now: Timestamp,
    ) -> StorageResult<Result<Enrolled, EnrollRefusal>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let last: i64 = tx.query_one(sql::LOCK_LOG, &[]).await?.get(0);
        let Some(token) = tx.query_opt(sql::TOKEN, &[&node.token_hash]).await? else {
            return Ok(Err(UNKNOWN_TOKEN));
        };
        let (name, expires_at, used_at): (String, i64, Option<i64>) =
            (token.get(0), token.get(1), token.get(2));
        if let Err(refused) = token_usable(expires_at, used_at, now) {
            return Ok(Err(refused));
        }
        if tx
            .query_opt(sql::NODE_EXISTS, &[&node.node_id])
            .await?
            .is_some()
        {
            return Ok(Err(EnrollRefusal::NodeTaken));
        }
        tx.execute(
            sql::INSERT_NODE,
            &[
                &node.node_id,
                &name,
                &node.key_id,
                &node.public_key,
                &node.credential_hash,
                &now.unix_ms(),
            ],
        )
        .await?;
        tx.execute(
            sql::USE_TOKEN,
            &[&node.token_hash, &now.unix_ms(), &node.node_id],
        )
        .await?;
        let plan = Plan {
            log: vec![node_key_change(&node, &name, now)],
            ..Plan::default()
        };
        let seq = write_plan(&tx, &plan, last, now).await?;
        tx.commit().await?;
        Ok(Ok(Enrolled { name, seq }))
    }

    pub async fn touch_node(&self, hash: String, now: Timestamp) -> StorageResult<Option<NodeRef>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::NODE_BY_CREDENTIAL).await?;
        let Some(row) = client.query_opt(&stmt, &[&hash]).await? else {
            return Ok(None);
        };
        let (id, name, stored, contact): (String, String, String, Option<i64>) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        if !crate::secret::same_hash(&stored, &hash) {
            return Ok(None);
        }
        if contact_is_stale(contact, now) {
            let stmt = client.prepare_cached(sql::SET_LAST_CONTACT).await?;
            client.execute(&stmt, &[&id, &now.unix_ms()]).await?;
        }
        Ok(Some(NodeRef { id, name }))
    }

    pub async fn push(
        &self,
        pusher: NodeRef,
        changes: Vec<Change>,
        now: Timestamp,
    ) -> StorageResult<Appended> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let last: i64 = tx.query_one(sql::LOCK_LOG, &[]).await?.get(0);
        let (fresh, duplicates) = split_fresh(&tx, changes).await?;
        let facts = load_facts(&tx, &needs_of(&fresh), &pusher.id).await?;
        let accepted = fresh.len() as u64;
        let plan = plan_push(fresh, &pusher, facts, now);
        let seq = write_plan(&tx, &plan, last, now).await?;
        tx.commit().await?;
        Ok(Appended {
            accepted,
            duplicates,
            conflicts: plan.conflicts.len() as u64,
            last_seq: (!plan.log.is_empty()).then_some(seq),
        })
    }

    pub async fn append_own(
        &self,
        changes: Vec<Change>,
        now: Timestamp,
    ) -> StorageResult<Appended> {
        let mut client = self.client().await?;
        let mut total = Appended::default();
        let mut changes = changes.into_iter().peekable();
        while changes.peek().is_some() {
            let batch: Vec<Change> = changes.by_ref().take(IMPORT_BATCH).collect();
            let tx = client.transaction().await?;
            let last: i64 = tx.query_one(sql::LOCK_LOG, &[]).await?.get(0);
            let (fresh, duplicates) = split_fresh(&tx, batch).await?;
            let plan = Plan {
                log: fresh,
                ..Plan::default()
            };
            let seq = write_plan(&tx, &plan, last, now).await?;
            tx.commit().await?;
            total.accepted += plan.log.len() as u64;
            total.duplicates += duplicates;
            if !plan.log.is_empty() {
                total.last_seq = Some(seq);
            }
        }
        Ok(total)
    }

    pub async fn page(&self, node_id: String, after: i64, limit: i64) -> StorageResult<PageRows> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::PAGE).await?;
        let rows = client.query(&stmt, &[&node_id, &after, &limit]).await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    pub async fn tail(&self) -> StorageResult<i64> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::TAIL).await?;
        Ok(client.query_one(&stmt, &[]).await?.get(0))
    }

    pub async fn nodes(&self) -> StorageResult<Vec<NodeInfo>> {
        let client = self.client().await?;
        let rows = client.query(sql::NODES, &[]).await?;
        Ok(rows
            .iter()
            .map(|r| NodeInfo {
                node_id: r.get(0),
                name: r.get(1),
                key_id: r.get(2),
                enrolled_at: Timestamp::from_unix_ms(r.get(3)),
                last_contact_at: r.get::<_, Option<i64>>(4).map(Timestamp::from_unix_ms),
            })
            .collect())
    }

    pub async fn conflicts(&self) -> StorageResult<Vec<ConflictRecord>> {
        let client = self.client().await?;
        let rows = client.query(sql::CONFLICTS, &[]).await?;
        rows.iter().map(|r| parse_conflict(r.get(0))).collect()
    }
}

/// [`sql::ENTRIES`] for many passes at once.
const ENTRIES_OF: &str = "SELECT pass_id, count(*) FROM hub_admissions
    WHERE pass_id = ANY($1) AND direction = 'entry' GROUP BY pass_id";
/// [`sql::LAST_ADMISSION`] for many passes at once.
const LAST_ADMISSIONS_OF: &str = "SELECT DISTINCT ON (pass_id) pass_id, direction, side
    FROM hub_admissions WHERE pass_id = ANY($1) ORDER BY pass_id, seq DESC";
/// [`sql::FIRST_FOREIGN_ENTRY`] for many passes at once.
const FIRST_FOREIGN_ENTRIES_OF: &str = "SELECT DISTINCT ON (pass_id) pass_id, side
    FROM hub_admissions WHERE pass_id = ANY($1) AND direction = 'entry' AND node_id <> $2
    ORDER BY pass_id, seq";
/// [`sql::INSERT_ADMISSION`] for many at once.
const INSERT_ADMISSIONS: &str =
    "INSERT INTO hub_admissions (pass_id, seq, node_id, direction, side)
    SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[])";

/// Creates the schema in a new database; returns the hub's id. Under an advisory lock, so two
/// processes opening at once do not both create it (PostgreSQL's DDL is transactional: the
/// second finds it whole).
async fn create_schema(pool: &Pool) -> StorageResult<String> {
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .await?;
    tx.batch_execute(sql::CREATE_VERSION_TABLE).await?;
    let version: Option<i32> = tx.query_one(sql::SCHEMA_VERSION_NOW, &[]).await?.get(0);
    match version {
        None => {
            tx.batch_execute(sql::SCHEMA_V1).await?;
            tx.execute(sql::SET_VERSION, &[&sql::SCHEMA_VERSION])
                .await?;
            tx.execute(sql::SET_HUB_ID, &[&uuid::Uuid::now_v7().to_string()])
                .await?;
        }
        Some(v) if v > sql::SCHEMA_VERSION => {
            return Err(StorageError::NewerSchema {
                found: v,
                known: sql::SCHEMA_VERSION,
            })
        }
        Some(_) => {}
    }
    let hub_id: String = tx.query_one(sql::HUB_ID, &[]).await?.get(0);
    tx.commit().await?;
    Ok(hub_id)
}

/// The changes whose id is not in the log yet (nor earlier in `changes`), and how many were.
async fn split_fresh(
    tx: &Transaction<'_>,
    changes: Vec<Change>,
) -> StorageResult<(Vec<Change>, u64)> {
    let ids: Vec<&str> = changes.iter().map(|c| c.id.as_str()).collect();
    let known: std::collections::HashSet<String> = tx
        .query("SELECT id FROM hub_changes WHERE id = ANY($1)", &[&ids])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut seen = std::collections::HashSet::new();
    let mut fresh = Vec::with_capacity(changes.len());
    let mut duplicates = 0;
    for change in changes {
        if known.contains(&change.id) || !seen.insert(change.id.clone()) {
            duplicates += 1;
        } else {
            fresh.push(change);
        }
    }
    Ok((fresh, duplicates))
}

async fn side_of(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> StorageResult<Option<passdesk_core::sync::wire::ConflictSide>> {
    let stmt = tx.prepare_cached(sql).await?;
    match tx.query_opt(&stmt, params).await? {
        Some(row) => Ok(Some(parse_side(row.get(0))?)),
        None => Ok(None),
    }
}

async fn load_facts(tx: &Transaction<'_>, needs: &Needs, pusher: &str) -> StorageResult<Facts> {
    let mut facts = Facts::default();
    // Admissions are most of a push (a gate's scans): one statement each for all its passes.
    let passes: Vec<&str> = needs.admissions.iter().map(String::as_str).collect();
    if !passes.is_empty() {
        for row in tx
            .query(&tx.prepare_cached(ENTRIES_OF).await?, &[&passes])
            .await?
        {
            facts.admissions.entry(row.get(0)).or_default().entries =
                row.get::<_, i64>(1).max(0) as u64;
        }
        for row in tx
            .query(&tx.prepare_cached(LAST_ADMISSIONS_OF).await?, &[&passes])
            .await?
        {
            facts.admissions.entry(row.get(0)).or_default().last =
                Some((row.get(1), parse_side(row.get(2))?));
        }
        for row in tx
            .query(
                &tx.prepare_cached(FIRST_FOREIGN_ENTRIES_OF).await?,
                &[&passes, &pusher],
            )
            .await?
        {
            facts
                .admissions
                .entry(row.get(0))
                .or_default()
                .first_foreign_entry = Some(parse_side(row.get(1))?);
        }
    }
    for reward in &needs.rewards {
        if let Some(first) = side_of(tx, sql::FIRST_REDEMPTION, &[reward]).await? {
            facts.rewards.insert(reward.clone(), first);
        }
    }
    for (pass, day) in &needs.offline_days {
        let count: i64 = tx
            .query_one(
                &tx.prepare_cached(sql::OFFLINE_DAY_COUNT).await?,
                &[pass, day],
            )
            .await?
            .get(0);
        let first = side_of(tx, sql::OFFLINE_DAY_FIRST, &[pass, day]).await?;
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
            .query_opt(&tx.prepare_cached(sql::BALANCE).await?, &[pass])
            .await?
            .map(|r| r.get(0));
        let last_foreign_spend = side_of(tx, sql::LAST_FOREIGN_SPEND, &[pass, &pusher]).await?;
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

/// Writes `plan` after seq `last`; returns the new last seq. The log's rows go in one
/// statement per thousand (UNNEST of arrays): a push of 1,000 scans is one round trip.
async fn write_plan(
    tx: &Transaction<'_>,
    plan: &Plan,
    last: i64,
    now: Timestamp,
) -> StorageResult<i64> {
    let seq_of = |index: usize| last + 1 + index as i64;
    if !plan.log.is_empty() {
        let seqs: Vec<i64> = (0..plan.log.len()).map(seq_of).collect();
        let ids: Vec<&str> = plan.log.iter().map(|c| c.id.as_str()).collect();
        let nodes: Vec<&str> = plan.log.iter().map(|c| c.node_id.as_str()).collect();
        let kinds: Vec<&str> = plan.log.iter().map(|c| c.body.kind()).collect();
        let passes: Vec<Option<&str>> = plan.log.iter().map(|c| c.body.pass_id()).collect();
        let ats: Vec<i64> = plan.log.iter().map(|c| c.at.unix_ms()).collect();
        let bodies: Vec<String> = plan.log.iter().map(change_json).collect();
        let stmt = tx
            .prepare_cached(
                "INSERT INTO hub_changes (seq, id, node_id, kind, pass_id, at, received_at, body)
                 SELECT s, i, n, k, p, a, $7, b
                 FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
                             $6::bigint[], $8::text[]) AS t(s, i, n, k, p, a, b)",
            )
            .await?;
        tx.execute(
            &stmt,
            &[
                &seqs,
                &ids,
                &nodes,
                &kinds,
                &passes,
                &ats,
                &now.unix_ms(),
                &bodies,
            ],
        )
        .await?;
    }
    for (i, c) in &plan.conflicts {
        tx.execute(
            sql::INSERT_CONFLICT,
            &[
                &c.id,
                &seq_of(*i),
                &kind_name(c.kind),
                &c.pass_id,
                &c.detected_at.unix_ms(),
                &serde_json::to_string(c).unwrap_or_default(),
            ],
        )
        .await?;
    }
    if !plan.admissions.is_empty() {
        let a = &plan.admissions;
        let passes: Vec<&str> = a.iter().map(|x| x.pass_id.as_str()).collect();
        let seqs: Vec<i64> = a.iter().map(|x| seq_of(x.log_index)).collect();
        let nodes: Vec<&str> = a.iter().map(|x| x.node_id.as_str()).collect();
        let directions: Vec<&str> = a.iter().map(|x| x.direction.as_str()).collect();
        let sides: Vec<String> = a.iter().map(|x| side_json(&x.side)).collect();
        tx.execute(
            &tx.prepare_cached(INSERT_ADMISSIONS).await?,
            &[&passes, &seqs, &nodes, &directions, &sides],
        )
        .await?;
    }
    for r in &plan.redemptions {
        let stmt = tx.prepare_cached(sql::INSERT_REDEMPTION).await?;
        tx.execute(
            &stmt,
            &[
                &seq_of(r.log_index),
                &(r.ordinal as i32),
                &r.reward_id,
                &r.pass_id,
                &r.day,
                &r.offline,
                &r.node_id,
                &side_json(&r.side),
            ],
        )
        .await?;
    }
    for s in &plan.spends {
        let stmt = tx.prepare_cached(sql::INSERT_SPEND).await?;
        tx.execute(
            &stmt,
            &[
                &s.pass_id,
                &seq_of(s.log_index),
                &s.node_id,
                &side_json(&s.side),
            ],
        )
        .await?;
    }
    for (pass, delta) in &plan.balance_deltas {
        let stmt = tx.prepare_cached(sql::ADD_BALANCE).await?;
        tx.execute(&stmt, &[pass, delta]).await?;
    }
    let new_last = last + plan.log.len() as i64;
    tx.execute(sql::SET_LAST_SEQ, &[&new_last]).await?;
    Ok(new_last)
}
