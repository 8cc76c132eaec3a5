//! `passdesk bench upstream`: PassEntry pulled into an empty cache. The PassEntry stand-in
//! (`passdesk-passentry-standin`, written from the seed) runs in this process on loopback with
//! `--passes` passes; a fresh counter under `<data-dir>/bench/upstream/` (made afresh each
//! run) points `[upstream.passentry]` at it, and `passdesk upstream pull` (this very binary,
//! the command a shop runs) is timed from start to exit. The stand-in's own record of the
//! requests gives the pages: how many, and per page the time from one page's request to the
//! next (the counter's whole round: request, answer, parse, the page's transaction) and the
//! stand-in's share of it (building and writing the page).
//!
//! Budget (DESIGN.md, sync): 100,000 passes into an empty cache in under 10 s over loopback.

use crate::context::Context;
use crate::output::print_json;
use anyhow::{ensure, Context as _};
use passdesk_core::{pass_store, OpenMode, Store};
use passdesk_passentry_standin::{Options, RequestKind, StandIn};
use serde_json::{json, Value};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Passes at the stand-in, pulled into the empty counter.
    #[arg(long, default_value_t = 100_000)]
    pub passes: u64,
    /// `perPage` of the pull (`[upstream.passentry] per_page`; PassEntry's default is 100).
    #[arg(long, default_value_t = 100)]
    pub per_page: u32,
}

/// 100,000 passes in under 10 s (DESIGN.md's first-sync budget, the same cache to fill).
const BUDGET_SECONDS: f64 = 10.0;

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    ensure!(args.passes >= 1, "--passes must be at least 1");
    ensure!(
        (1..=1000).contains(&args.per_page),
        "--per-page must be 1 to 1000 (the stand-in's most)"
    );
    let dir = ctx.data_dir().join("bench").join("upstream");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;

    eprintln!("seeding {} passes at the PassEntry stand-in…", args.passes);
    let started = Instant::now();
    let standin = StandIn::start(Options {
        passes: args.passes,
        max_per_page: 1000,
        ..Options::default()
    })?;
    let seed_seconds = started.elapsed().as_secs_f64();

    let exe = std::env::current_exe().context("the passdesk binary's path")?;
    let passdesk = |a: &[&str]| -> anyhow::Result<std::process::Output> {
        let out = Command::new(&exe)
            .env_remove("PASSDESK_DATA_DIR")
            .env("NO_COLOR", "1")
            .arg("--data-dir")
            .arg(&dir)
            .args(a)
            .output()
            .with_context(|| format!("cannot run passdesk {a:?}"))?;
        ensure!(
            out.status.success(),
            "passdesk {a:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(out)
    };
    passdesk(&["init"])?;
    std::fs::write(
        dir.join("passdesk.toml"),
        format!(
            "[upstream.passentry]\nbase_url = \"{}\"\napi_key = \"{}\"\npull_every_seconds = 0\nper_page = {}\n",
            standin.base_url(),
            standin.api_key(),
            args.per_page
        ),
    )?;

    eprintln!("pulling into an empty counter ({} a page)…", args.per_page);
    let started = Instant::now();
    let out = passdesk(&["upstream", "pull"])?;
    let seconds = started.elapsed().as_secs_f64();
    let summary = last_json(&out.stdout)?;

    let cached = {
        let store = Store::open(&dir.join("passdesk.sqlite"), OpenMode::MustExist)?;
        pass_store::count_passes(store.conn())?
    };
    ensure!(
        cached == args.passes,
        "the pull left {cached} of {} passes in the cache ({summary})",
        args.passes
    );
    let pages: Vec<_> = standin
        .requests()
        .into_iter()
        .filter(|r| matches!(r.kind, RequestKind::PassesPage(_)))
        .collect();
    ensure!(
        pages.iter().all(|r| r.status == Some(200)),
        "a passes page was not answered 200"
    );
    // A page's round: from its request to the next page's (the last page has none after it).
    let mut round = Millis::default();
    for pair in pages.windows(2) {
        round.push(pair[1].received_at.duration_since(pair[0].received_at));
    }
    let mut served = Millis::default();
    for r in &pages {
        if let Some(done) = r.answered_at {
            served.push(done.duration_since(r.received_at));
        }
    }
    let per_second = args.passes as f64 / seconds;

    println!(
        "upstream: PassEntry stand-in on loopback, {} passes, {} a page",
        args.passes, args.per_page
    );
    println!("seed the stand-in   {seed_seconds:>9.2} s");
    println!(
        "pull, empty counter {seconds:>9.2} s  {per_second:>9.0} passes/s  (budget {BUDGET_SECONDS} s for 100,000)"
    );
    println!(
        "pages               {:>9}    round p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; stand-in's share p50 {:.1} ms, p99 {:.1} ms",
        pages.len(),
        round.at(0.50),
        round.at(0.99),
        round.max(),
        served.at(0.50),
        served.at(0.99)
    );
    print_json(&json!({
        "bench": "upstream",
        "passes": args.passes,
        "perPage": args.per_page,
        "seedSeconds": seed_seconds,
        "seconds": seconds,
        "passesPerSecond": per_second,
        "budgetSeconds": BUDGET_SECONDS,
        "pages": pages.len(),
        "pageRoundP50Ms": round.at(0.50),
        "pageRoundP99Ms": round.at(0.99),
        "pageRoundMaxMs": round.max(),
        "standinPageP50Ms": served.at(0.50),
        "standinPageP99Ms": served.at(0.99),
        "summary": summary,
    }))?;
    Ok(ExitCode::SUCCESS)
}

/// Durations in milliseconds, for percentiles.
#[derive(Debug, Default)]
struct Millis(Vec<f64>);

impl Millis {
    fn push(&mut self, d: Duration) {
        self.0.push(d.as_secs_f64() * 1000.0);
    }

    /// The `q` quantile (nearest rank); 0 when empty.
    fn at(&self, q: f64) -> f64 {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n == 0 {
            return 0.0;
        }
        v[((n as f64 * q).ceil() as usize).clamp(1, n) - 1]
    }

    fn max(&self) -> f64 {
        self.0.iter().copied().fold(0.0, f64::max)
    }
}

fn last_json(stdout: &[u8]) -> anyhow::Result<Value> {
    let text = String::from_utf8_lossy(stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("null");
    serde_json::from_str(line).with_context(|| format!("not JSON: {line}"))
}
