//! `passdesk bench checkin`: the scan path measured end to end, durable commit included.
//!
//! Builds (or reuses) a cache of N passes in `<data-dir>/bench/`, then for each round scans a
//! fresh single-entry ticket at gate 1 (accept), the same ticket again at gate 1 (duplicate
//! tap), at gate 2 (already used), an unknown value (reject), a loyalty card at the till
//! (accept, multiple entries) and every fifth round a PD1 token of a pass the cache does not
//! hold (signature check). Each figure is the time `checkin` takes to return, commit included,
//! on one connection with `synchronous=FULL`. WAL checkpoints run on their own connection and
//! thread, as the service runs them, unless `--autocheckpoint` puts them back on the scan path.
//!
//! The audit log is big, as a counter's gets: `--scan-rows` rows (10,000,000 by default) spread
//! over the past year at eight other readers, and a busy today of `--busy-today` scans at the
//! first gate. Each round also times that gate's day as `GET /api/v1/scans/today` reads it: the
//! day's totals alone (`today_totals`, budget 5 ms) and with the last 10 scans (`today_gate`).

use crate::context::Context;
use crate::output::print_json;
use anyhow::{bail, ensure, Context as _};
use passdesk_core::catalog;
use passdesk_core::local_day::TimeZone;
use passdesk_core::pass::{Barcode, Event, Pass, PassType, Template};
use passdesk_core::reader::Reader;
use passdesk_core::scan::{Medium, ReaderId, ScanInput};
use passdesk_core::scan_log::{self, ScanFilter, TALLY_SLOT_MS};
use passdesk_core::token::TokenClaims;
use passdesk_core::{checkin, keys, pass_store, Decision, OpenMode, Reason, Store, Timestamp};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Scan → decision latency on a large cache.
    Checkin(CheckinArgs),
    /// Earn and redeem latency on a large ledger.
    Loyalty(super::bench_loyalty::LoyaltyArgs),
    /// QR decode rate on the real-photo set, and time per 720p camera frame.
    Qr(super::bench_qr::Args),
    /// NFC taps (Apple VAS, Google Smart Tap) through pcscd and a vpcd virtual reader.
    Nfc(super::bench_nfc::Args),
    /// Webhook deliveries per second to a loopback receiver, and the scan path's p99 while
    /// they run.
    Webhooks(super::bench_webhooks::Args),
    /// Sync through a hub: an empty counter's first sync, offline scans pushed, simulated
    /// counters pushing at once, propagation from one counter to another.
    Sync(super::bench_sync::Args),
    /// PassEntry pulled into an empty cache from the stand-in: passes per second, pages.
    Upstream(super::bench_upstream::Args),
    /// Apple Wallet .pkpass files built per second, signing included.
    Wallet(super::bench_wallet::Args),
}

#[derive(Debug, clap::Args)]
pub struct CheckinArgs {
    /// Passes in the cache (90 % single-entry tickets, 10 % loyalty cards).
    #[arg(long, default_value_t = 1_000_000)]
    pub passes: u32,
    /// Rounds to measure (each round is 5 or 6 scans).
    #[arg(long, default_value_t = 5_000)]
    pub rounds: u32,
    /// Build the cache again even if one of this size exists.
    #[arg(long)]
    pub rebuild: bool,
    /// Let commits run WAL checkpoints themselves (SQLite's default) instead of a checkpointer thread.
    #[arg(long)]
    pub autocheckpoint: bool,
    /// Measure from a cold OS page cache (see `warm_page_cache`).
    #[arg(long)]
    pub cold: bool,
    /// Rows in the audit log before measuring (added in bulk when the bench store has fewer).
    #[arg(long, default_value_t = 10_000_000)]
    pub scan_rows: u64,
    /// Scans at gate 1 today (its local day, in UTC: the bench event's zone), added when short.
    #[arg(long, default_value_t = 50_000)]
    pub busy_today: u64,
}

const GATE_1: &str = "bench-gate-1";
const GATE_2: &str = "bench-gate-2";
const TILL: &str = "bench-till";

pub fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let args = match cmd {
        Cmd::Checkin(args) => args,
        Cmd::Loyalty(args) => return super::bench_loyalty::run(ctx, args),
        Cmd::Qr(args) => return super::bench_qr::run(ctx, args),
        Cmd::Nfc(args) => return super::bench_nfc::run(ctx, args),
        Cmd::Webhooks(args) => return super::bench_webhooks::run(ctx, args),
        Cmd::Sync(args) => return super::bench_sync::run(ctx, args),
        Cmd::Upstream(args) => return super::bench_upstream::run(ctx, args),
        Cmd::Wallet(args) => return super::bench_wallet::run(ctx, args),
    };
    ensure!(args.passes >= 100, "--passes must be at least 100");
    let path = bench_db(ctx, &format!("checkin-{}", args.passes))?;
    let build_time = prepare(&path, args.passes, args.rebuild)?;
    let log_time = fill_audit_log(&path, args.scan_rows, args.busy_today)?;
    measure(&path, &args, build_time, log_time)
}

/// `<data-dir>/bench/<name>.sqlite`, its directory created.
pub(crate) fn bench_db(ctx: &Context, name: &str) -> anyhow::Result<PathBuf> {
    let dir = ctx.data_dir().join("bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir.join(format!("{name}.sqlite")))
}

fn tickets(passes: u32) -> u32 {
    passes - passes / 10
}

/// Reuses a cache of the right size, or builds one in batches of 100,000 passes per transaction.
pub(crate) fn prepare(path: &Path, passes: u32, rebuild: bool) -> anyhow::Result<Option<Duration>> {
    if path.exists() && !rebuild {
        let store = Store::open(path, OpenMode::MustExist)?;
        if pass_store::count_passes(store.conn())? == u64::from(passes) {
            eprintln!("reusing {} ({passes} passes)", path.display());
            return Ok(None);
        }
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    eprintln!("building {} with {passes} passes…", path.display());
    let started = Instant::now();
    let mut store = Store::open(path, OpenMode::CreateIfMissing)?;
    let now = Timestamp::now();
    store.write(|tx| -> anyhow::Result<()> {
        keys::init_node(tx)?;
        for (id, kind) in [
            ("bench-ticket", PassType::EVENT_TICKET),
            ("bench-card", PassType::STORE_CARD),
        ] {
            catalog::upsert_template(
                tx,
                &Template {
                    id: id.into(),
                    name: id.into(),
                    pass_type: PassType::new(kind),
                },
                now,
            )?;
        }
        let event = Event {
            id: "bench-ev".into(),
            name: "Bench Event".into(),
            venue_name: None,
            start_time: None,
            end_time: None,
            time_zone: "UTC".into(),
        };
        catalog::upsert_event(tx, &event, now)?;
        for (id, event) in [
            (GATE_1, Some("bench-ev")),
            (GATE_2, Some("bench-ev")),
            (TILL, None),
        ] {
            let mut r = Reader::unconfigured(id);
            r.event_id = event.map(Into::into);
            catalog::upsert_reader(tx, &r, now)?;
        }
        Ok(())
    })?;
    let ticket_count = tickets(passes);
    let mut next = 0u32;
    while next < passes {
        let end = (next + 100_000).min(passes);
        store.write(|tx| -> anyhow::Result<()> {
            for i in next..end {
                pass_store::upsert_pass(tx, &bench_pass(i, i < ticket_count, now))?;
            }
            Ok(())
        })?;
        next = end;
        eprint!("\r  {next} / {passes}");
    }
    eprintln!();
    store.checkpoint_passive()?;
    Ok(Some(started.elapsed()))
}

/// Ids look like PassEntry's (40 hex characters, in no useful order), so the primary-key index
/// is as scattered as in a real cache.
pub(crate) fn bench_pass_id(i: u32) -> String {
    let h = u64::from(i)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(29)
        ^ 0xD6E8_FEB8_6659_FD93;
    format!(
        "{h:016x}{:016x}{i:08x}",
        h.wrapping_mul(0xA24B_AED4_963E_E407)
    )
}

fn bench_pass(i: u32, ticket: bool, now: Timestamp) -> Pass {
    let id = bench_pass_id(i);
    let (template, kind, event, barcode) = if ticket {
        (
            "bench-ticket",
            PassType::EVENT_TICKET,
            Some("bench-ev".to_owned()),
            format!("BT-{i:08}"),
        )
    } else {
        (
            "bench-card",
            PassType::STORE_CARD,
            None,
            format!("BC-{i:08}"),
        )
    };
    let content = json!({"fullName": format!("Bench Holder {i}"), "seat": format!("R{} S{}", i % 40, i % 30)});
    Pass {
        nfc: Some(id.clone()),
        ext_id: Some(format!("EXT-{i}")),
        event_id: event,
        barcode: Some(Barcode {
            kind: "qrCode".into(),
            value: barcode,
            display_text: true,
        }),
        pass_content: content.as_object().cloned().unwrap_or_default(),
        ..Pass::new(id, template, PassType::new(kind), now)
    }
}

#[derive(Default)]
pub(crate) struct Samples {
    name: &'static str,
    micros: Vec<u64>,
    /// WAL pages the timed operations appended (see [`count_wal_pages`]).
    wal_pages: u64,
}

/// WAL pages appended by commits on connections that [`count_wal_pages`] watches. SQLite's WAL
/// hook is a plain function pointer, so the count lives in a static.
static WAL_PAGES: AtomicU64 = AtomicU64::new(0);
static WAL_LAST_SIZE: AtomicU64 = AtomicU64::new(0);

fn on_wal_commit(_: &rusqlite::hooks::Wal, pages_in_wal: std::ffi::c_int) -> rusqlite::Result<()> {
    let now = u64::try_from(pages_in_wal).unwrap_or(0);
    let before = WAL_LAST_SIZE.swap(now, Ordering::Relaxed);
    // A smaller WAL than last time was restarted after a checkpoint: all of it is this commit.
    let added = if now >= before { now - before } else { now };
    WAL_PAGES.fetch_add(added, Ordering::Relaxed);
    Ok(())
}

/// Counts the pages each commit of `conn` writes to the WAL: the write amplification of an
/// operation, a figure that does not depend on how busy the disk is. Replaces SQLite's
/// autocheckpoint hook, so only for connections whose checkpoints run elsewhere.
pub(crate) fn count_wal_pages(conn: &rusqlite::Connection) {
    conn.wal_hook(Some(on_wal_commit));
}

impl Samples {
    pub(crate) fn new(name: &'static str) -> Self {
        Self {
            name,
            micros: Vec::new(),
            wal_pages: 0,
        }
    }

    pub(crate) fn time<T>(&mut self, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
        let pages = WAL_PAGES.load(Ordering::Relaxed);
        let start = Instant::now();
        let d = f()?;
        self.micros.push(start.elapsed().as_micros() as u64);
        self.wal_pages += WAL_PAGES.load(Ordering::Relaxed) - pages;
        Ok(d)
    }

    pub(crate) fn summary(&mut self) -> serde_json::Value {
        self.micros.sort_unstable();
        let n = self.micros.len();
        let at = |q: f64| {
            if n == 0 {
                0.0
            } else {
                let idx = ((n as f64 * q).ceil() as usize).clamp(1, n) - 1;
                self.micros[idx] as f64 / 1000.0
            }
        };
        let wal_pages_per_op = (n > 0).then(|| self.wal_pages as f64 / n as f64);
        json!({ "kind": self.name, "count": n, "p50Ms": at(0.50), "p99Ms": at(0.99),
                "maxMs": self.micros.last().map_or(0.0, |&m| m as f64 / 1000.0),
                "walPagesPerOp": wal_pages_per_op })
    }
}

/// The history's readers (gate 1's own history is its busy today and the rounds, so that the
/// rounds find their unused tickets by walking gate 1's scans alone).
const HISTORY_READERS: i64 = 8;
const DAY_MS: i64 = 86_400_000;

/// Generates scan rows `?1 <= i < ?2` in SQLite itself (no row crosses into Rust): ids in
/// UUIDv7's shape (`?7` the run, `?8` the kind), `at` spread evenly over `?4 .. ?4 + ?5` for
/// `?6` rows, reader `?9` (followed by `i % ?10` when `?10 > 0`), one in 20 refused, one in 50
/// a repeat tap, pass ids that repeat (a pass is scanned several times) and are never a cached
/// pass's (they start with `?11`, not a hex digit).
const BULK_SCANS: &str =
    "WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?2)
    INSERT INTO scans (id, node_id, at, reader_id, medium, direction, value, value_len, pass_id,
        verdict, reason, detail, counted, duplicate_of, via_token)
    SELECT printf('%08x-%04x-7000-8000-%012x', ?7, ?8, i), ?3, ?4 + i * ?5 / ?6,
        CASE WHEN ?10 > 0 THEN ?9 || (i % ?10) ELSE ?9 END, 'qr', 'entry',
        printf('%s-%010d', ?11, i), 16, printf('%s%039x', ?11, (i * 2654435761) % 2000003),
        CASE WHEN i % 20 = 0 THEN 'reject' ELSE 'accept' END,
        CASE WHEN i % 20 = 0 THEN 'already_used' END, NULL,
        CASE WHEN i % 20 = 0 OR i % 50 = 7 THEN 0 ELSE 1 END,
        CASE WHEN i % 50 = 7 THEN printf('%08x-%04x-7000-8000-%012x', ?7, ?8, i - 1) END,
        0
    FROM n";

/// Brings the audit log to `rows` rows (history over the past year) and gate 1's today to
/// `busy` scans, in bulk. Returns how long that took, when it added anything.
fn fill_audit_log(path: &Path, rows: u64, busy: u64) -> anyhow::Result<Option<Duration>> {
    let started = Instant::now();
    let mut store = Store::open(path, OpenMode::MustExist)?;
    let node_id = keys::load_node(store.conn())?.node_id;
    let now = Timestamp::now();
    let day = scan_log::day_at_reader(store.conn(), Some(GATE_1), now, TimeZone::UTC)?;
    let run = (now.unix_ms() / 1000) & 0xffff_ffff;
    let mut added = false;
    let have: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM scans", [], |r| r.get(0))?;
    let history = i64::try_from(rows.saturating_sub(busy))?.saturating_sub(have);
    if history > 0 {
        eprintln!("adding {history} scan rows over the past year…");
        let indexes = without_scan_indexes(&mut store)?;
        let first_seq = next_seq(&store)?;
        let span = 365 * DAY_MS;
        let mut next = 0i64;
        while next < history {
            let end = (next + 1_000_000).min(history);
            store.write(|tx| {
                tx.execute(
                    BULK_SCANS,
                    rusqlite::params![
                        next,
                        end,
                        node_id,
                        day.start.unix_ms() - span,
                        span,
                        history,
                        run,
                        1,
                        "bench-hist-",
                        HISTORY_READERS,
                        "h"
                    ],
                )
            })?;
            next = end;
            eprint!("\r  {next} / {history}");
        }
        eprintln!();
        restore_scan_indexes(&mut store, &indexes)?;
        retally(&mut store, first_seq)?;
        added = true;
    }
    let today = scan_log::totals(
        store.conn(),
        &ScanFilter {
            reader_id: Some(GATE_1.into()),
            since: Some(day.start),
            until: Some(day.end),
            ..ScanFilter::default()
        },
    )?;
    let short = i64::try_from(busy.saturating_sub(today.accepted + today.rejected))?;
    if short > 0 {
        eprintln!("adding {short} scans at {GATE_1} today…");
        let first_seq = next_seq(&store)?;
        store.write(|tx| {
            tx.execute(
                BULK_SCANS,
                rusqlite::params![
                    0,
                    short,
                    node_id,
                    day.start.unix_ms(),
                    (now.unix_ms() - day.start.unix_ms()).max(1),
                    short,
                    run,
                    2,
                    GATE_1,
                    0,
                    "b"
                ],
            )
        })?;
        retally(&mut store, first_seq)?;
        added = true;
    }
    if added {
        store.checkpoint_passive()?;
    }
    Ok(added.then(|| started.elapsed()))
}

fn next_seq(store: &Store) -> anyhow::Result<i64> {
    Ok(store
        .conn()
        .query_row("SELECT coalesce(max(seq), 0) + 1 FROM scans", [], |r| {
            r.get(0)
        })?)
}

/// The scans table's indexes as the migrations make them (name, SQL), read from a fresh
/// in-memory store, so a bench store left without some by an interrupted fill gets them back.
fn scan_indexes() -> anyhow::Result<Vec<(String, String)>> {
    let fresh = Store::open_in_memory()?;
    let mut stmt = fresh.conn().prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'scans' AND sql IS NOT NULL",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Drops the scans table's secondary indexes: a bulk insert then appends rows only, and each
/// index is built once, sorted, afterwards (instead of 10,000,000 random b-tree inserts).
fn without_scan_indexes(store: &mut Store) -> anyhow::Result<Vec<(String, String)>> {
    let indexes = scan_indexes()?;
    store.write(|tx| -> anyhow::Result<()> {
        for (name, _) in &indexes {
            tx.execute_batch(&format!("DROP INDEX IF EXISTS {name}"))?;
        }
        Ok(())
    })?;
    Ok(indexes)
}

fn restore_scan_indexes(store: &mut Store, indexes: &[(String, String)]) -> anyhow::Result<()> {
    store.set_cache_kib(1024 * 1024)?;
    for (name, sql) in indexes {
        let exists: bool = store.conn().query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'index' AND name = ?1",
            [name],
            |r| r.get(0),
        )?;
        if !exists {
            eprintln!("  index {name}…");
            store.write(|tx| tx.execute_batch(sql))?;
        }
    }
    store.set_cache_kib(Store::CACHE_KIB)?;
    Ok(())
}

/// Adds rows from `first_seq` on to the tally, as each scan's own transaction would have.
fn retally(store: &mut Store, first_seq: i64) -> anyhow::Result<()> {
    let sql = format!(
        "INSERT INTO scan_tally (slot, reader_id, accepted, rejected)
         SELECT at / {TALLY_SLOT_MS}, reader_id, sum(verdict = 'accept'), sum(verdict = 'reject')
         FROM scans WHERE seq >= ?1 AND duplicate_of IS NULL GROUP BY 1, 2
         ON CONFLICT (slot, reader_id) DO UPDATE SET accepted = accepted + excluded.accepted,
             rejected = rejected + excluded.rejected"
    );
    store.write(|tx| tx.execute(&sql, [first_seq]))?;
    Ok(())
}

/// Gate 1's day as `GET /api/v1/scans/today` reads it: its totals, and its latest `limit` scans.
fn gate_day(store: &Store, limit: Option<u32>) -> anyhow::Result<u64> {
    let conn = store.conn();
    let day = scan_log::day_at_reader(conn, Some(GATE_1), Timestamp::now(), TimeZone::UTC)?;
    Ok(match limit {
        None => {
            let f = ScanFilter {
                reader_id: Some(GATE_1.into()),
                since: Some(day.start),
                until: Some(day.end),
                ..ScanFilter::default()
            };
            let t = scan_log::totals(conn, &f)?;
            t.accepted + t.rejected
        }
        Some(limit) => {
            let d = scan_log::day_scans(conn, Some(GATE_1), day, limit)?;
            d.totals.accepted + d.totals.rejected + d.scans.len() as u64
        }
    })
}

fn measure(
    path: &Path,
    args: &CheckinArgs,
    build_time: Option<Duration>,
    log_time: Option<Duration>,
) -> anyhow::Result<ExitCode> {
    if !args.cold {
        warm_page_cache(path)?;
    }
    let mut store = Store::open(path, OpenMode::MustExist)?;
    let node = keys::load_node(store.conn())?;
    let stop = Arc::new(AtomicBool::new(false));
    let checkpointer = if args.autocheckpoint {
        None
    } else {
        store.disable_autocheckpoint()?;
        count_wal_pages(store.conn());
        Some(spawn_checkpointer(path, stop.clone()))
    };

    let ticket_count = tickets(args.passes);
    let used: u32 = store.conn().query_row(
        "SELECT count(*) FROM scans WHERE reader_id = ?1 AND verdict = 'accept' AND duplicate_of IS NULL
           AND value GLOB 'BT-*'",
        [GATE_1],
        |r| r.get(0),
    )?;
    if used + args.rounds > ticket_count {
        bail!(
            "only {} unused tickets left in {}; run with --rebuild",
            ticket_count - used,
            path.display()
        );
    }
    // Visit tickets in a scattered order, like people arriving.
    let stride = [48_271u64, 69_621, 40_692]
        .into_iter()
        .find(|s| u64::from(ticket_count) % s != 0)
        .unwrap_or(1);
    let ticket = |j: u32| ((u64::from(j) * stride) % u64::from(ticket_count)) as u32;

    let mut accept = Samples::new("accept");
    let mut duplicate = Samples::new("duplicate_tap");
    let mut already = Samples::new("reject_already_used");
    let mut unknown = Samples::new("reject_unknown");
    let mut card = Samples::new("accept_loyalty_card");
    let mut token = Samples::new("accept_offline_token");
    let mut day_totals = Samples::new("today_totals");
    let mut day_gate = Samples::new("today_gate");
    let mut unexpected = 0u32;
    let scan = |store: &mut Store, value: String, reader: &str| -> anyhow::Result<Decision> {
        let input = ScanInput {
            value: value.into_bytes(),
            reader_id: ReaderId::parse(reader)?,
            medium: Medium::Qr,
            direction: None,
            at: Timestamp::now(),
        };
        Ok(checkin(store, &node.node_id, &input)?)
    };
    let started = Instant::now();
    for round in 0..args.rounds {
        let t = ticket(used + round);
        let value = format!("BT-{t:08}");
        let d = accept.time(|| scan(&mut store, value.clone(), GATE_1))?;
        unexpected += u32::from(!d.accepted());
        let d = duplicate.time(|| scan(&mut store, value.clone(), GATE_1))?;
        unexpected += u32::from(d.duplicate_of.is_none());
        let d = already.time(|| scan(&mut store, value.clone(), GATE_2))?;
        unexpected += u32::from(d.reason != Some(Reason::AlreadyUsed));
        let d = unknown.time(|| scan(&mut store, format!("NOPE-{round}-{t}"), GATE_1))?;
        unexpected += u32::from(d.reason != Some(Reason::UnknownPass));
        let c = ticket_count + (t % (args.passes - ticket_count));
        let d = card.time(|| scan(&mut store, format!("BC-{c:08}"), TILL))?;
        unexpected += u32::from(!d.accepted());
        if round % 5 == 0 {
            let claims = TokenClaims {
                tid: uuid::Uuid::now_v7().to_string(),
                pid: format!("offline-{}", uuid::Uuid::now_v7()),
                tpl: "bench-ticket".into(),
                evt: Some("bench-ev".into()),
                nbf: None,
                exp: None,
                iat: 0,
                kid: String::new(),
            };
            let tok = node.key.sign(claims);
            let d = token.time(|| scan(&mut store, tok, GATE_1))?;
            unexpected += u32::from(!d.accepted());
        }
        let counted = day_totals.time(|| gate_day(&store, None))?;
        unexpected += u32::from(counted == 0);
        day_gate.time(|| gate_day(&store, Some(10)))?;
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    if let Some(h) = checkpointer {
        h.join()
            .map_err(|_| anyhow::anyhow!("checkpointer thread panicked"))??;
    }
    let mut groups = [
        accept, duplicate, already, unknown, card, token, day_totals, day_gate,
    ];
    let total: usize = groups[..6].iter().map(|g| g.micros.len()).sum();
    let (scan_rows, busy_today): (i64, u64) = (
        store
            .conn()
            .query_row("SELECT count(*) FROM scans", [], |r| r.get(0))?,
        gate_day(&store, None)?,
    );
    println!(
        "scan → decision, durable commit included (synchronous=FULL), {} passes in cache, \
         {scan_rows} scans in the log ({busy_today} today at {GATE_1}); today_*: gate 1's day read",
        args.passes
    );
    let results = print_table(&mut groups);
    println!(
        "{total} scans in {:.2} s; unexpected verdicts: {unexpected}",
        elapsed.as_secs_f64()
    );
    print_json(&json!({
        "bench": "checkin",
        "passes": args.passes,
        "database": path,
        "buildSeconds": build_time.map(|d| d.as_secs_f64()),
        "logSeconds": log_time.map(|d| d.as_secs_f64()),
        "scanRows": scan_rows,
        "busyToday": busy_today,
        "checkpoints": if args.autocheckpoint { "on commit" } else { "checkpointer thread" },
        "scans": total,
        "unexpected": unexpected,
        "results": results,
    }))?;
    if unexpected > 0 {
        bail!("{unexpected} scans got an unexpected verdict");
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints one row per group (kind, count, p50, p99, max) and returns their JSON summaries.
pub(crate) fn print_table(groups: &mut [Samples]) -> Vec<serde_json::Value> {
    let results: Vec<_> = groups.iter_mut().map(Samples::summary).collect();
    println!(
        "{:<22} {:>7} {:>9} {:>9} {:>9} {:>10}",
        "kind", "count", "p50 ms", "p99 ms", "max ms", "WAL pages"
    );
    for r in &results {
        let pages = r["walPagesPerOp"]
            .as_f64()
            .filter(|&p| p > 0.0)
            .map_or_else(|| "-".to_owned(), |p| format!("{p:.1}"));
        println!(
            "{:<22} {:>7} {:>9.3} {:>9.3} {:>9.3} {:>10}",
            r["kind"].as_str().unwrap_or(""),
            r["count"],
            r["p50Ms"].as_f64().unwrap_or(0.0),
            r["p99Ms"].as_f64().unwrap_or(0.0),
            r["maxMs"].as_f64().unwrap_or(0.0),
            pages
        );
    }
    results
}

/// Reads the database file once, so the measurement starts where a counter that has been
/// running for a while is: its store in the OS page cache. (A freshly built bench store may not
/// be: the machine can drop cached pages at any time.) `--cold` skips this, to see what the
/// first operations after a boot cost.
pub(crate) fn warm_page_cache(path: &Path) -> anyhow::Result<()> {
    use std::io::Read;
    let started = Instant::now();
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    eprintln!(
        "warmed the page cache: read {:.1} GB in {:.1} s",
        total as f64 / 1e9,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `PASSDESK_CHECKPOINT_MS` (default 2000): how often the checkpointer runs.
fn checkpoint_interval_ms() -> u64 {
    std::env::var("PASSDESK_CHECKPOINT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

/// Runs passive WAL checkpoints on their own connection until `stop` is set, as the service
/// does, so commits on the measured connection never pay for one.
pub(crate) fn spawn_checkpointer(
    path: &Path,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<anyhow::Result<()>> {
    let path = path.to_owned();
    std::thread::spawn(move || -> anyhow::Result<()> {
        let store = Store::open(&path, OpenMode::MustExist)?;
        let every = Duration::from_millis(checkpoint_interval_ms());
        let mut last = Instant::now();
        // Short naps so that a stop request is seen at once whatever the interval.
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
            if last.elapsed() >= every {
                store.checkpoint_passive()?;
                last = Instant::now();
            }
        }
        Ok(())
    })
}
