//! `passdesk bench loyalty`: earn and redeem on a store of N passes and 10 ledger entries per
//! pass (1,000,000 passes: 10,000,000 entries), each figure the time `loyalty::apply` takes to
//! return, idempotency check, expiry check, ledger, account, lots, outbox and durable commit
//! (`synchronous=FULL`) included.

use super::bench::{
    bench_db, bench_pass_id, count_wal_pages, prepare, print_table, spawn_checkpointer,
    warm_page_cache, Samples,
};
use crate::context::Context;
use crate::output::print_json;
use anyhow::ensure;
use passdesk_core::local_day::TimeZone;
use passdesk_core::loyalty::{
    self, program, Operation, Program, RewardRef, RewardUnit, StampOverflow, Tier,
};
use passdesk_core::{keys, OpenMode, Store, Timestamp};
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct LoyaltyArgs {
    #[arg(long, default_value_t = 1_000_000)]
    pub passes: u32,
    /// Ledger entries per pass written before measuring.
    #[arg(long, default_value_t = 10)]
    pub entries_per_pass: u32,
    #[arg(long, default_value_t = 5_000)]
    pub rounds: u32,
    #[arg(long)]
    pub rebuild: bool,
    /// Measure from a cold OS page cache (see `bench::warm_page_cache`).
    #[arg(long)]
    pub cold: bool,
}

const ENTRY_POINTS: i64 = 10;

pub fn run(ctx: &Context, args: LoyaltyArgs) -> anyhow::Result<ExitCode> {
    ensure!(args.passes >= 100, "--passes must be at least 100");
    let path = bench_db(
        ctx,
        &format!("loyalty-{}x{}", args.passes, args.entries_per_pass),
    )?;
    let started = Instant::now();
    let built_passes = prepare(&path, args.passes, args.rebuild)?;
    let built_ledger = fill_ledger(&path, args.passes, args.entries_per_pass)?;
    let build_seconds =
        (built_passes.is_some() || built_ledger).then(|| started.elapsed().as_secs_f64());
    measure(&path, &args, build_seconds)
}

fn bench_program(template: &str) -> Program {
    Program {
        template_id: template.into(),
        points_per_unit: 1,
        unit_minor: 100,
        card_size: Some(10),
        stamp_overflow: StampOverflow::Carry,
        expiry_days: Some(365),
        offline_redemptions_per_day: None,
        tiers: vec![Tier {
            name: "£5 off".into(),
            threshold: 50,
            unit: RewardUnit::Points,
        }],
    }
}

/// Writes `per_pass` earn entries (with their lots and accounts) for every pass, in batches of
/// 100,000 passes per transaction, unless the ledger already has them. Returns true if it wrote.
fn fill_ledger(path: &Path, passes: u32, per_pass: u32) -> anyhow::Result<bool> {
    let mut store = Store::open(path, OpenMode::MustExist)?;
    let have: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM loyalty_ledger", [], |r| r.get(0))?;
    if have >= i64::from(passes) * i64::from(per_pass) {
        eprintln!("reusing the ledger of {} ({have} entries)", path.display());
        return Ok(false);
    }
    eprintln!(
        "writing {} ledger entries…",
        u64::from(passes) * u64::from(per_pass)
    );
    store
        .conn()
        .execute_batch("PRAGMA cache_size = -1000000;")?;
    let now = Timestamp::now();
    store.write(|tx| -> anyhow::Result<()> {
        tx.execute_batch(
            "DELETE FROM loyalty_lots; DELETE FROM loyalty_accounts; DELETE FROM loyalty_ledger;",
        )?;
        for template in ["bench-ticket", "bench-card"] {
            program::set_program(tx, &bench_program(template), now)?;
        }
        Ok(())
    })?;
    let expires = now.plus_ms(365 * 86_400_000).unix_ms();
    let mut done = 0u32;
    while done < passes {
        let end = (done + 100_000).min(passes);
        store.write(|tx| -> anyhow::Result<()> {
            // Entry ids rise with (pass, k) like UUIDv7s made one after another.
            tx.execute(
                "WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k + 1 < ?3)
                 INSERT INTO loyalty_ledger (id, op_id, node_id, pass_id, kind, points, amount_minor, at)
                 SELECT printf('00000000-0000-7000-8000-%012x', p.rowid * ?3 + n.k),
                        printf('00000000-0000-7000-9000-%012x', p.rowid * ?3 + n.k),
                        'bench', p.id, 'earn', ?4, ?4 * 100, ?5 - (?3 - n.k) * 86400000
                 FROM passes p, n WHERE p.rowid > ?1 AND p.rowid <= ?2 ORDER BY p.rowid, n.k",
                (done, end, per_pass, ENTRY_POINTS, now.unix_ms()),
            )?;
            tx.execute(
                "INSERT INTO loyalty_lots (pass_id, seq, entry_id, remaining, expires_at)
                 SELECT l.pass_id, l.seq, l.id, l.points, ?3 FROM loyalty_ledger l
                 JOIN passes p ON p.id = l.pass_id WHERE p.rowid > ?1 AND p.rowid <= ?2",
                (done, end, expires),
            )?;
            tx.execute(
                "INSERT INTO loyalty_accounts (pass_id, points, updated_at)
                 SELECT id, ?3, ?4 FROM passes WHERE rowid > ?1 AND rowid <= ?2",
                (done, end, i64::from(per_pass) * ENTRY_POINTS, now.unix_ms()),
            )?;
            Ok(())
        })?;
        done = end;
        eprint!("\r  {done} / {passes} passes");
    }
    eprintln!();
    store.checkpoint_passive()?;
    Ok(true)
}

/// A well-mixed hash, so that picks of one run do not line up with the picks of the last.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn measure(
    path: &Path,
    args: &LoyaltyArgs,
    build_seconds: Option<f64>,
) -> anyhow::Result<ExitCode> {
    if !args.cold {
        warm_page_cache(path)?;
    }
    let mut store = Store::open(path, OpenMode::MustExist)?;
    let node = keys::load_node(store.conn())?;
    store.disable_autocheckpoint()?;
    count_wal_pages(store.conn());
    let stop = Arc::new(AtomicBool::new(false));
    let checkpointer = spawn_checkpointer(path, stop.clone());
    let (mut earn, mut redeem, mut replay) = (
        Samples::new("earn"),
        Samples::new("redeem"),
        Samples::new("replayed_op_id"),
    );
    let mut refused = 0u32;
    // Each run starts where the last one stopped, so its redemptions find passes with points.
    let done: u64 = store
        .conn()
        .query_row("SELECT count(*) FROM loyalty_operations", [], |r| r.get(0))?;
    let pick = |round: u32, salt: u64| {
        (splitmix64(done + u64::from(round) * 2 + salt) % u64::from(args.passes)) as u32
    };
    let started = Instant::now();
    for round in 0..args.rounds {
        let now = Timestamp::now();
        let earn_op = Operation::Earn {
            pass: bench_pass_id(pick(round, 0)),
            amount_minor: Some(1_250),
            points: None,
        };
        let earn_id = uuid::Uuid::now_v7().to_string();
        earn.time(|| {
            Ok(loyalty::apply(
                &mut store,
                &node.node_id,
                &earn_id,
                &earn_op,
                now,
                TimeZone::UTC,
            )?)
        })?;
        let redeem_op = Operation::RewardRedeem {
            reward: RewardRef::Tier {
                pass: bench_pass_id(pick(round, 1)),
                tier: "£5 off".into(),
            },
        };
        let redeem_id = uuid::Uuid::now_v7().to_string();
        match redeem.time(|| {
            Ok(loyalty::apply(
                &mut store,
                &node.node_id,
                &redeem_id,
                &redeem_op,
                now,
                TimeZone::UTC,
            ))
        })? {
            Ok(_) => {}
            Err(e) => {
                if refused == 0 {
                    eprintln!("first refused redemption: {e}");
                }
                refused += 1;
            }
        }
        let r = replay.time(|| {
            Ok(loyalty::apply(
                &mut store,
                &node.node_id,
                &earn_id,
                &earn_op,
                now,
                TimeZone::UTC,
            )?)
        })?;
        ensure!(r.replayed, "a replayed op id was applied again");
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    checkpointer
        .join()
        .map_err(|_| anyhow::anyhow!("checkpointer thread panicked"))??;
    let entries: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM loyalty_ledger", [], |r| r.get(0))?;
    println!(
        "loyalty operation → durable commit (synchronous=FULL), {} passes, {entries} ledger entries",
        args.passes
    );
    let results = print_table(&mut [earn, redeem, replay]);
    println!(
        "{} operations in {:.2} s; refused redemptions: {refused}",
        args.rounds * 3,
        elapsed.as_secs_f64()
    );
    print_json(&json!({
        "bench": "loyalty",
        "passes": args.passes,
        "ledgerEntries": entries,
        "database": path,
        "buildSeconds": build_seconds,
        "refused": refused,
        "results": results,
    }))?;
    Ok(ExitCode::SUCCESS)
}
