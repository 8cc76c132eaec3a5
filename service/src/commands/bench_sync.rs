//! `passdesk bench sync`: the hub and counters as they run, each its own process of this very
//! binary (`passdesk hub serve`, `passdesk serve`, `passdesk sync now`) on loopback, under
//! `<data-dir>/bench/sync/` (made afresh each run; the processes' logs are kept there).
//!
//! 1. `--passes` passes (90 % single-entry tickets, 10 % loyalty cards) imported into the hub
//!    (`passdesk hub import`), then an empty counter's first sync (`passdesk sync now`: pull
//!    until caught up) timed. Budget: 100,000 passes in under 10 s.
//! 2. `--offline-scans` scans made at that counter while the hub is down (the hub stopped, a
//!    failed round recorded, then the scans in transactions of 500), the hub back, and the push
//!    (`passdesk sync now`) timed: scans per second.
//! 3. `--nodes` simulated counters (nodes enrolled over the protocol, no store behind them)
//!    pushing `--scans-per-node` scan changes each, `--batch` per push, all at once straight
//!    over HTTP: events per second, and p50 / p99 of one push.
//! 4. Propagation while online: two served counters, a ticket scanned at A over its API
//!    (`--propagation` times, after one untimed scan that B must hold first: B has then caught
//!    up with the simulated counters' scans), from A's answer (its scan committed) until B's
//!    store holds the scan: p50 / p95 / max. The counter's pusher gathers for 25 ms after a
//!    change before it pushes (a burst goes up as one batch): most of the p50.
//!
//! The hub's database is `--database` (`sqlite://PATH` or `postgres://…`), by default a fresh
//! SQLite file. The bench never starts PostgreSQL: give it an empty database
//! (`scripts/bench-sync-pg.sh` makes a throwaway cluster and runs the bench on it).

use crate::context::Context;
use crate::output::print_json;
use anyhow::{bail, ensure, Context as _};
use base64::Engine as _;
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use passdesk_core::scan::{Medium, ReaderId, ScanInput};
use passdesk_core::sync::wire::{Change, ChangeBody, PushRequest, PushResponse, ScanRecordWire};
use passdesk_core::{checkin_batch, keys, OpenMode, Store, Timestamp};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The hub's database: `sqlite://PATH` or `postgres://USER@HOST:PORT/DB` (an empty one).
    /// Default: a fresh SQLite file under `<data-dir>/bench/sync/`.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Passes imported into the hub and pulled by the empty counter.
    #[arg(long, default_value_t = 100_000)]
    pub passes: u32,
    /// Scans made at the counter while the hub is down, then pushed.
    #[arg(long, default_value_t = 10_000)]
    pub offline_scans: u32,
    /// Simulated counters pushing at once.
    #[arg(long, default_value_t = 20)]
    pub nodes: u32,
    /// Scan changes each simulated counter pushes.
    #[arg(long, default_value_t = 1_000)]
    pub scans_per_node: u32,
    /// Changes per push of a simulated counter (at most 1000, the hub's most).
    #[arg(long, default_value_t = 100)]
    pub batch: u32,
    /// Scans timed from A to B while both are online.
    #[arg(long, default_value_t = 200)]
    pub propagation: u32,
}

const TICKET_TEMPLATE: &str = "bench-sync-ticket";
const CARD_TEMPLATE: &str = "bench-sync-card";
const GATE: &str = "bench-sync-gate";
const TILL: &str = "bench-sync-till";
/// The most a single wait (a process's start, a scan's arrival) may take before the bench
/// gives up and says what it waited for.
const PATIENCE: Duration = Duration::from_secs(120);
/// The first sync's budget (DESIGN.md): 100,000 passes in under 10 s.
const FIRST_SYNC_BUDGET_SECONDS: f64 = 10.0;
/// A scan at one counter known at another within 1 s while online (DESIGN.md).
const PROPAGATION_BUDGET_MS: f64 = 1000.0;

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    ensure!(args.passes >= 10, "--passes must be at least 10");
    ensure!(
        (1..=passdesk_core::sync::wire::MAX_PUSH as u32).contains(&args.batch),
        "--batch must be 1 to {}",
        passdesk_core::sync::wire::MAX_PUSH
    );
    ensure!(args.nodes >= 1, "--nodes must be at least 1");
    let tickets = args.passes - args.passes / 10;
    ensure!(
        args.propagation < tickets,
        "--propagation must be less than the tickets among --passes ({tickets})"
    );
    let dir = ctx.data_dir().join("bench").join("sync");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let database = args
        .database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("hub.sqlite").display()));
    let engine = if database.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    let bench = Bench {
        exe: std::env::current_exe().context("the passdesk binary's path")?,
        dir: dir.clone(),
        database,
        runtime: tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("bench-sync")
            .build()?,
    };

    // 1. The hub's catalogue, and an empty counter's first sync.
    let mut hub = bench.hub("127.0.0.1:0")?;
    eprintln!("importing {} passes into the hub…", args.passes);
    let import_file = dir.join("passes.jsonl");
    write_passes(&import_file, args.passes)?;
    let started = Instant::now();
    bench.hub_cmd(&[
        "import".as_ref(),
        "--database".as_ref(),
        bench.database.as_ref(),
        import_file.as_os_str(),
    ])?;
    let import_seconds = started.elapsed().as_secs_f64();
    let a = bench.counter("a", &hub, "Bench A")?;
    let b = bench.counter("b", &hub, "Bench B")?;
    eprintln!("first sync of an empty counter…");
    let first_sync = bench.sync_now(&a)?;
    let pulled = count_passes(&a)?;
    ensure!(
        pulled >= u64::from(args.passes),
        "the first sync brought {pulled} of {} passes",
        args.passes
    );
    let second_sync = bench.sync_now(&b)?;

    // 2. Offline scans at A, pushed once the hub is back.
    let hub_addr = hub.addr()?;
    hub.stop()?;
    let failed = bench.passdesk(&a, &["sync", "now"])?;
    ensure!(
        !failed.status.success(),
        "`sync now` succeeded with the hub stopped"
    );
    eprintln!("{} scans at the counter while offline…", args.offline_scans);
    make_scans(&a, args.offline_scans, tickets, args.passes)?;
    let mut hub = bench.hub(&hub_addr)?;
    let push = bench.sync_now(&a)?;
    let status = bench.status(&a)?;
    ensure!(
        status["pending"] == 0,
        "after the push the counter still has changes waiting: {status}"
    );

    // 3. Simulated counters pushing at once.
    eprintln!(
        "{} simulated counters pushing {} scans each…",
        args.nodes, args.scans_per_node
    );
    let simulated = bench.simulated(&hub, &args, tickets)?;

    // 4. Propagation A → B while online.
    eprintln!("propagation A → B over {} scans…", args.propagation);
    let propagation = bench.propagation(&a, &b, args.propagation)?;
    hub.stop()?;

    let passes_per_second = f64::from(args.passes) / first_sync;
    println!(
        "sync: a hub over {engine} and counters on loopback, {} passes",
        args.passes
    );
    println!("import into the hub        {import_seconds:>9.2} s");
    println!(
        "first sync, empty counter  {first_sync:>9.2} s  {passes_per_second:>9.0} passes/s  (budget {FIRST_SYNC_BUDGET_SECONDS} s for 100,000)"
    );
    println!("first sync, second counter {second_sync:>9.2} s");
    println!(
        "offline scans pushed       {push:>9.2} s  {:>9.0} scans/s  ({} scans)",
        f64::from(args.offline_scans) / push,
        args.offline_scans
    );
    println!(
        "{} simulated counters       {:>9.2} s  {:>9.0} events/s  push p50 {:.1} ms, p99 {:.1} ms ({} pushes of {})",
        args.nodes,
        simulated.seconds,
        simulated.events as f64 / simulated.seconds,
        simulated.pushes.at(0.50),
        simulated.pushes.at(0.99),
        simulated.pushes.len(),
        args.batch
    );
    println!(
        "propagation A → B          p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms ({} scans; budget {PROPAGATION_BUDGET_MS} ms)",
        propagation.at(0.50),
        propagation.at(0.95),
        propagation.max(),
        propagation.len()
    );
    print_json(&json!({
        "bench": "sync",
        "engine": engine,
        "passes": args.passes,
        "importSeconds": import_seconds,
        "firstSync": {
            "passes": pulled, "seconds": first_sync, "passesPerSecond": passes_per_second,
            "budgetSeconds": FIRST_SYNC_BUDGET_SECONDS, "secondCounterSeconds": second_sync,
        },
        "offlinePush": {
            "scans": args.offline_scans, "seconds": push,
            "scansPerSecond": f64::from(args.offline_scans) / push,
        },
        "simulatedCounters": {
            "nodes": args.nodes, "scansPerNode": args.scans_per_node, "batch": args.batch,
            "events": simulated.events, "duplicates": simulated.duplicates,
            "pushes": simulated.pushes.len(), "seconds": simulated.seconds,
            "eventsPerSecond": simulated.events as f64 / simulated.seconds,
            "pushP50Ms": simulated.pushes.at(0.50), "pushP99Ms": simulated.pushes.at(0.99),
            "pushMaxMs": simulated.pushes.max(),
        },
        "propagation": {
            "scans": propagation.len(), "p50Ms": propagation.at(0.50),
            "p95Ms": propagation.at(0.95), "maxMs": propagation.max(),
            "budgetMs": PROPAGATION_BUDGET_MS,
        },
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

    fn len(&self) -> usize {
        self.0.len()
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

/// A counter's data directory.
struct Counter {
    dir: PathBuf,
}

impl Counter {
    fn db_path(&self) -> PathBuf {
        self.dir.join("passdesk.sqlite")
    }
}

/// A process of ours that printed `{"listening": URL}` first; stopped (SIGTERM) when
/// dropped. Its stdout is drained on a thread so it never blocks on a full pipe.
struct Served {
    child: Option<Child>,
    base: String,
    what: String,
}

impl Served {
    fn start(mut cmd: Command, log: &Path, what: &str) -> anyhow::Result<Self> {
        // Appended to: a process started again (the hub after its stop) keeps its history.
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("cannot open {}", log.display()))?;
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(log_file)
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {what}"))?;
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let first = lines.next().transpose()?.unwrap_or_default();
        std::thread::spawn(move || for _ in lines.by_ref() {});
        let ready: Value = match serde_json::from_str(&first) {
            Ok(v) => v,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "{what} did not start (it printed {first:?}); see {}",
                    log.display()
                );
            }
        };
        let base = ready["listening"]
            .as_str()
            .with_context(|| format!("{what} printed no address: {ready}"))?
            .trim_end_matches('/')
            .to_owned();
        Ok(Self {
            child: Some(child),
            base,
            what: what.to_owned(),
        })
    }

    /// `127.0.0.1:PORT`, to start it again where its clients look for it.
    fn addr(&self) -> anyhow::Result<String> {
        Ok(self
            .base
            .strip_prefix("http://")
            .with_context(|| format!("not an http URL: {}", self.base))?
            .to_owned())
    }

    fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            let pid = libc::pid_t::try_from(child.id()).context("a process id")?;
            // SAFETY: kill(2) with a pid we started and have not waited for yet.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            let status = child.wait()?;
            ensure!(status.success(), "{} stopped with {status}", self.what);
        }
        Ok(())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

struct Bench {
    exe: PathBuf,
    dir: PathBuf,
    database: String,
    /// For the HTTP clients (the simulated counters, the scans at A).
    runtime: tokio::runtime::Runtime,
}

impl Bench {
    fn command(&self) -> Command {
        let mut c = Command::new(&self.exe);
        c.env_remove("PASSDESK_DATA_DIR")
            .env_remove("PASSDESK_HUB_DATABASE")
            .env("NO_COLOR", "1");
        c
    }

    /// `passdesk hub serve` on `listen`.
    fn hub(&self, listen: &str) -> anyhow::Result<Served> {
        let mut cmd = self.command();
        cmd.args([
            "hub",
            "serve",
            "--database",
            &self.database,
            "--listen",
            listen,
        ]);
        Served::start(cmd, &self.dir.join("hub.log"), "the hub")
    }

    /// `passdesk hub ARGS…`, expected to succeed; its last stdout line as JSON.
    fn hub_cmd(&self, args: &[&std::ffi::OsStr]) -> anyhow::Result<Value> {
        let out = self.command().arg("hub").args(args).output()?;
        ensure!(
            out.status.success(),
            "passdesk hub {:?} failed: {}",
            args,
            String::from_utf8_lossy(&out.stderr)
        );
        last_json(&out.stdout)
    }

    /// `passdesk --data-dir DIR ARGS…` run to its end.
    fn passdesk(&self, counter: &Counter, args: &[&str]) -> anyhow::Result<std::process::Output> {
        Ok(self
            .command()
            .arg("--data-dir")
            .arg(&counter.dir)
            .args(args)
            .output()?)
    }

    /// Like [`Bench::passdesk`], expected to succeed; its last stdout line as JSON.
    fn ok(&self, counter: &Counter, args: &[&str]) -> anyhow::Result<Value> {
        let out = self.passdesk(counter, args)?;
        ensure!(
            out.status.success(),
            "passdesk {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        last_json(&out.stdout)
    }

    /// An empty counter joined to the hub as `name`, its sync retrying fast once served.
    fn counter(&self, tag: &str, hub: &Served, name: &str) -> anyhow::Result<Counter> {
        let counter = Counter {
            dir: self.dir.join(format!("counter-{tag}")),
        };
        std::fs::create_dir_all(&counter.dir)?;
        std::fs::write(
            counter.dir.join("passdesk.toml"),
            "[sync]\nretry_min = \"100ms\"\nretry_max = \"1s\"\n",
        )?;
        self.ok(&counter, &["init"])?;
        let token = self.hub_cmd(&[
            "enroll".as_ref(),
            "--database".as_ref(),
            self.database.as_ref(),
            "--name".as_ref(),
            name.as_ref(),
        ])?;
        let token = token["token"]
            .as_str()
            .with_context(|| format!("no token in {token}"))?
            .to_owned();
        self.ok(&counter, &["sync", "join", &hub.base, &token])?;
        Ok(counter)
    }

    /// One `passdesk sync now` round, timed (process start included: a few ms).
    fn sync_now(&self, counter: &Counter) -> anyhow::Result<f64> {
        let started = Instant::now();
        self.ok(counter, &["sync", "now"])?;
        Ok(started.elapsed().as_secs_f64())
    }

    fn status(&self, counter: &Counter) -> anyhow::Result<Value> {
        self.ok(counter, &["sync", "status"])
    }

    /// `--nodes` nodes enrolled over the protocol, each pushing its scans from a task of its
    /// own, all at once.
    fn simulated(&self, hub: &Served, args: &Args, tickets: u32) -> anyhow::Result<Simulated> {
        let runtime = &self.runtime;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        let mut nodes = Vec::new();
        for n in 0..args.nodes {
            let token = self.hub_cmd(&[
                "enroll".as_ref(),
                "--database".as_ref(),
                self.database.as_ref(),
                "--name".as_ref(),
                format!("Simulated {n}").as_ref(),
            ])?;
            let token = token["token"].as_str().context("no token")?.to_owned();
            let node_id = uuid::Uuid::now_v7().to_string();
            let key = p256::SecretKey::random(&mut rand_core::OsRng);
            let public = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(key.public_key().to_encoded_point(true).as_bytes());
            let body = json!({"token": token, "nodeId": node_id, "keyId": format!("sim-{n}"), "publicKey": public});
            let url = format!("{}/sync/v1/enroll", hub.base);
            let answer: Value = runtime.block_on(async {
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await?;
                let status = r.status();
                let text = r.text().await?;
                ensure!(status.as_u16() == 201, "enroll answered {status}: {text}");
                Ok::<_, anyhow::Error>(serde_json::from_str(&text)?)
            })?;
            let credential = answer["credential"]
                .as_str()
                .context("no credential")?
                .to_owned();
            nodes.push((n, node_id, credential));
        }
        // Every batch built before the clock starts.
        let cards = (tickets, (args.passes - tickets).max(1));
        let batches: Vec<(String, Vec<String>)> = nodes
            .iter()
            .map(|(n, node_id, credential)| {
                let scans: Vec<Change> = (0..args.scans_per_node)
                    .map(|i| simulated_scan(node_id, *n, i, cards))
                    .collect();
                let bodies = scans
                    .chunks(args.batch as usize)
                    .map(|c| {
                        serde_json::to_string(&PushRequest {
                            changes: c.to_vec(),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((credential.clone(), bodies))
            })
            .collect::<anyhow::Result<_>>()?;
        let url = Arc::new(format!("{}/sync/v1/push", hub.base));
        let started = Instant::now();
        let results = runtime.block_on(async {
            let tasks: Vec<_> = batches
                .into_iter()
                .map(|(credential, bodies)| {
                    let (client, url) = (client.clone(), url.clone());
                    tokio::spawn(async move {
                        let mut timings = Vec::new();
                        let mut accepted = 0u64;
                        let mut duplicates = 0u64;
                        for body in bodies {
                            let t = Instant::now();
                            let r = client
                                .post(url.as_str())
                                .bearer_auth(&credential)
                                .header("content-type", "application/json")
                                .body(body)
                                .send()
                                .await?;
                            let status = r.status();
                            let text = r.text().await?;
                            timings.push(t.elapsed());
                            ensure!(status.as_u16() == 200, "push answered {status}: {text}");
                            let answer: PushResponse = serde_json::from_str(&text)?;
                            ensure!(
                                answer.rejected.is_empty(),
                                "the hub rejected simulated scans: {:?}",
                                answer.rejected
                            );
                            accepted += answer.accepted;
                            duplicates += answer.duplicates;
                        }
                        Ok::<_, anyhow::Error>((timings, accepted, duplicates))
                    })
                })
                .collect();
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await?);
            }
            Ok::<_, anyhow::Error>(out)
        })?;
        let seconds = started.elapsed().as_secs_f64();
        let mut pushes = Millis::default();
        let (mut events, mut duplicates) = (0u64, 0u64);
        for r in results {
            let (timings, accepted, dups) = r?;
            timings.into_iter().for_each(|d| pushes.push(d));
            events += accepted;
            duplicates += dups;
        }
        Ok(Simulated {
            events,
            duplicates,
            pushes,
            seconds,
        })
    }

    /// A and B served; `n` tickets scanned at A over its API (after one untimed), each timed
    /// from A's answer until B's store holds the scan.
    fn propagation(&self, a: &Counter, b: &Counter, n: u32) -> anyhow::Result<Millis> {
        let key = self.ok(
            a,
            &["keys", "create", "--role", "reader", "--name", "bench"],
        )?;
        let key = key["key"].as_str().context("no key")?.to_owned();
        let served = |c: &Counter, tag: &str| {
            let mut cmd = self.command();
            cmd.arg("--data-dir").arg(&c.dir).args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--no-readers",
                "--no-camera",
            ]);
            Served::start(
                cmd,
                &self.dir.join(format!("counter-{tag}.log")),
                &format!("counter {tag}"),
            )
        };
        let mut served_a = served(a, "a")?;
        let mut served_b = served(b, "b")?;
        for c in [a, b] {
            self.wait("the counters online", || {
                Ok(self.status(c)?["online"] == true)
            })?;
        }
        let b_store = Store::open(&b.db_path(), OpenMode::MustExist)?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        let url = format!("{}/api/v1/scans", served_a.base);
        let mut delays = Millis::default();
        // Scan 0 is not timed: once B holds it, B has applied everything the hub logged
        // before it (the simulated counters' scans), and every connection is warm.
        for i in 0..=n {
            let body = json!({"value": ticket_code(i), "readerId": GATE, "medium": "qr"});
            let (status, text, answered) = self.runtime.block_on(async {
                let r = client
                    .post(&url)
                    .bearer_auth(&key)
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await?;
                let status = r.status();
                let text = r.text().await?;
                Ok::<_, anyhow::Error>((status, text, Instant::now()))
            })?;
            ensure!(
                status.as_u16() == 201,
                "scan at A answered {status}: {text}"
            );
            let doc: Value = serde_json::from_str(&text)?;
            ensure!(
                doc["data"]["attributes"]["verdict"] == "accept",
                "A refused ticket {i}: {text}"
            );
            let id = doc["data"]["id"].as_str().context("no scan id")?.to_owned();
            loop {
                let there: bool = b_store.conn().query_row(
                    "SELECT EXISTS (SELECT 1 FROM scans WHERE id = ?1)",
                    [&id],
                    |row| row.get(0),
                )?;
                if there {
                    if i > 0 {
                        delays.push(answered.elapsed());
                    }
                    break;
                }
                ensure!(
                    answered.elapsed() < PATIENCE,
                    "scan {id} made at A did not reach B within {} s",
                    PATIENCE.as_secs()
                );
                std::thread::sleep(Duration::from_micros(500));
            }
        }
        served_a.stop()?;
        served_b.stop()?;
        Ok(delays)
    }

    /// Polls `done` every 50 ms, at most [`PATIENCE`].
    fn wait(
        &self,
        what: &str,
        mut done: impl FnMut() -> anyhow::Result<bool>,
    ) -> anyhow::Result<()> {
        let until = Instant::now() + PATIENCE;
        while !done()? {
            ensure!(
                Instant::now() < until,
                "waited {} s for {what}",
                PATIENCE.as_secs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

struct Simulated {
    events: u64,
    duplicates: u64,
    pushes: Millis,
    seconds: f64,
}

/// Scan `i` of simulated node `n`: a loyalty card accepted at its till (multiple entries, so
/// the hub judges it and finds no conflict).
fn simulated_scan(node_id: &str, n: u32, i: u32, (first_card, cards): (u32, u32)) -> Change {
    let card = first_card + (n * 7919 + i) % cards;
    let value = card_code(card);
    let now = Timestamp::now();
    Change {
        id: uuid::Uuid::now_v7().to_string(),
        node_id: node_id.to_owned(),
        at: now,
        body: ChangeBody::Scan(ScanRecordWire {
            scan_id: uuid::Uuid::now_v7().to_string(),
            at: now,
            reader_id: format!("sim-till-{n}"),
            reader_name: Some(format!("Simulated till {n}")),
            medium: "qr".into(),
            direction: "entry".into(),
            value_len: value.len() as u64,
            value,
            pass_id: Some(pass_id(card)),
            verdict: "accept".into(),
            reason: None,
            detail: None,
            counted: true,
            duplicate_of: None,
            via_token: false,
            offline: false,
            entry_mode: Some("multiple".into()),
            entry_limit: None,
        }),
    }
}

fn pass_id(i: u32) -> String {
    super::bench::bench_pass_id(i)
}

fn ticket_code(i: u32) -> String {
    format!("BST-{i:08}")
}

fn card_code(i: u32) -> String {
    format!("BSC-{i:08}")
}

/// The hub's import: two templates and `passes` passes, the first 90 % single-entry tickets,
/// the rest loyalty cards, as PassEntry JSON lines.
fn write_passes(path: &Path, passes: u32) -> anyhow::Result<()> {
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
    );
    writeln!(
        f,
        "{}",
        json!({"id": TICKET_TEMPLATE, "type": "passTemplate", "attributes": {"name": "Bench Sync Ticket", "templateType": "eventTicket"}})
    )?;
    writeln!(
        f,
        "{}",
        json!({"id": CARD_TEMPLATE, "type": "passTemplate", "attributes": {"name": "Bench Sync Card", "templateType": "storeCard"}})
    )?;
    let tickets = passes - passes / 10;
    for i in 0..passes {
        let (template, kind, code) = if i < tickets {
            (TICKET_TEMPLATE, "eventTicket", ticket_code(i))
        } else {
            (CARD_TEMPLATE, "storeCard", card_code(i))
        };
        writeln!(
            f,
            "{}",
            json!({"id": pass_id(i), "type": "pass", "attributes": {
                "passType": kind, "status": "issued", "extId": format!("BS-EXT-{i}"),
                "passTemplateUuid": template,
                "barcode": {"type": "qrCode", "value": code, "displayText": true},
                "passContent": {"fullName": format!("Sync Holder {i}"), "seat": format!("R{} S{}", i % 40, i % 30)}}})
        )?;
    }
    f.flush()?;
    Ok(())
}

fn count_passes(counter: &Counter) -> anyhow::Result<u64> {
    let store = Store::open(&counter.db_path(), OpenMode::MustExist)?;
    Ok(passdesk_core::pass_store::count_passes(store.conn())?)
}

/// `n` scans of loyalty cards at the till, 500 per transaction, made at the counter with the
/// check-in engine (the hub is down: they wait to be pushed).
fn make_scans(counter: &Counter, n: u32, first_card: u32, passes: u32) -> anyhow::Result<()> {
    let mut store = Store::open(&counter.db_path(), OpenMode::MustExist)?;
    let node_id = keys::load_node(store.conn())?.node_id;
    let cards = (passes - first_card).max(1);
    let mut made = 0u32;
    while made < n {
        let batch = (n - made).min(500);
        let inputs = (made..made + batch)
            .map(|i| {
                Ok(ScanInput {
                    value: card_code(first_card + i % cards).into_bytes(),
                    reader_id: ReaderId::parse(TILL)?,
                    medium: Medium::Qr,
                    direction: None,
                    at: Timestamp::now(),
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        for d in checkin_batch(&mut store, &node_id, &inputs)? {
            d?;
        }
        made += batch;
    }
    Ok(())
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
