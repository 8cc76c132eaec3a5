//! `passdesk bench webhooks`: the webhook worker against a loopback receiver (its own thread,
//! standing for an endpoint elsewhere).
//!
//! 1. Throughput: `--events` scans written, then the real worker (`workers::webhooks`) started
//!    on the service's own connections (`server::db::Db`: one writer, readers, checkpointer)
//!    and timed until every delivery is recorded, with 1 and with 10 subscriptions (every
//!    event to each, PassEntry's format, signed), at the default `max_per_second` (or
//!    `--max-per-second`) and without a cap.
//! 2. The scan path beside it: `--rounds` × two scans (a loyalty card accepted at the till, an
//!    unknown value refused), each timed as `bench checkin` times a scan (decision and durable
//!    commit) plus the wait for the writer the service's scan queue has: with no worker, then
//!    with the worker delivering a backlog to 10 subscriptions and every new scan's event, at
//!    the cap and without one. Webhooks must not move the scan's p99 past 2 ms.

use super::bench::{bench_db, prepare, print_table, warm_page_cache, Samples};
use crate::config::{MaxPerSecond, WebhooksConfig};
use crate::context::Context;
use crate::output::print_json;
use crate::server::db::Db;
use crate::workers::webhooks::{self, Settings, WebhookWorker};
use anyhow::{ensure, Context as _};
use passdesk_core::scan::{Medium, ReaderId, ScanInput};
use passdesk_core::webhook::subscriptions::{self, EventFilter, NewSubscription, WebhookUrl};
use passdesk_core::webhook::Format;
use passdesk_core::{checkin, checkin_batch, keys, OpenMode, Store, Timestamp};
use serde_json::json;
use std::num::NonZeroU32;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;
use tokio::sync::Notify;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Passes in the bench store (the scans' cache).
    #[arg(long, default_value_t = 1_000_000)]
    pub passes: u32,
    /// Events per throughput run.
    #[arg(long, default_value_t = 2_000)]
    pub events: u32,
    /// Scans timed without, then with, deliveries running (each round: two scans).
    #[arg(long, default_value_t = 2_000)]
    pub rounds: u32,
    /// Build the pass cache again even if one of this size exists.
    #[arg(long)]
    pub rebuild: bool,
    /// Measure from a cold OS page cache.
    #[arg(long)]
    pub cold: bool,
    /// The worker's `max_per_second` (default: `[webhooks]`'s default, 500). The throughput
    /// runs are also made without a cap (100000), to show what the worker can do.
    #[arg(long)]
    pub max_per_second: Option<u32>,
}

const TILL: &str = "bench-till";

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    ensure!(args.passes >= 100, "--passes must be at least 100");
    ensure!(args.events >= 1, "--events must be at least 1");
    let path = bench_db(ctx, &format!("webhooks-{}", args.passes))?;
    prepare(&path, args.passes, args.rebuild)?;
    if !args.cold {
        warm_page_cache(&path)?;
    }
    let node_id = keys::load_node(Store::open(&path, OpenMode::MustExist)?.conn())?.node_id;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("bench-webhooks")
        .build()?;
    // The receiver stands for an endpoint elsewhere: its own thread and runtime.
    let receiver = {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("bench-receiver".into())
            .spawn(move || {
                let started = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(anyhow::Error::from)
                    .and_then(|rt| Ok((rt.block_on(Receiver::start())?, rt)));
                match started {
                    Ok((receiver, rt)) => {
                        let _ = tx.send(Ok(receiver));
                        rt.block_on(std::future::pending::<()>());
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            })?;
        rx.recv()??
    };
    let db = Db::open(&path, 3)?;
    let bench = Bench {
        runtime,
        db,
        node_id,
        receiver,
        cards: (args.passes - args.passes / 10, args.passes / 10),
        next: AtomicU64::new(0),
    };

    let capped = args
        .max_per_second
        .map_or(Ok(WebhooksConfig::default().max_per_second), |n| {
            MaxPerSecond::try_from(i64::from(n)).map_err(anyhow::Error::msg)
        })?
        .get();
    let uncapped = NonZeroU32::new(100_000).expect("non-zero");

    // 1. Throughput with 1 and 10 subscriptions, at the cap and without one.
    let mut throughput = Vec::new();
    for cap in [capped, uncapped] {
        for subs in [1u32, 10] {
            bench.reset(subs)?;
            bench.write_events(args.events)?;
            let before = bench.receiver.count();
            let started = Instant::now();
            let wake = Arc::new(Notify::new());
            let worker = bench.worker(wake.clone(), cap)?;
            wake.notify_one();
            bench.wait_all_delivered()?;
            let seconds = started.elapsed().as_secs_f64();
            bench.stop(worker)?;
            let deliveries = u64::from(args.events) * u64::from(subs);
            let received = bench.receiver.count() - before;
            ensure!(
                received == deliveries,
                "the receiver got {received} deliveries, {deliveries} were due"
            );
            eprintln!(
                "{subs} subscription(s), at most {cap}/s: {} events, {deliveries} deliveries in {seconds:.2} s",
                args.events
            );
            throughput.push(json!({
                "subscriptions": subs, "maxPerSecond": cap.get(), "events": args.events,
                "deliveries": deliveries, "seconds": seconds,
                "eventsPerSecond": f64::from(args.events) / seconds,
                "deliveriesPerSecond": deliveries as f64 / seconds,
            }));
        }
    }

    // 2. The scan path: no worker, then the worker delivering a backlog to 10 subscriptions
    //    (and every new scan's event) at the cap, then without one.
    let mut groups = Vec::new();
    let mut meanwhile = Vec::new();
    bench.reset(10)?;
    let mut quiet = [
        Samples::new("accept_no_webhooks"),
        Samples::new("reject_no_webhooks"),
    ];
    bench.scans(args.rounds, &mut quiet, None)?;
    groups.extend(quiet);
    for (cap, names) in [
        (capped, ["accept_delivering", "reject_delivering"]),
        (uncapped, ["accept_uncapped", "reject_uncapped"]),
    ] {
        bench.reset(10)?;
        bench.write_events(args.events)?;
        let wake = Arc::new(Notify::new());
        let worker = bench.worker(wake.clone(), cap)?;
        let before = bench.receiver.count();
        let mut busy = names.map(Samples::new);
        let started = Instant::now();
        bench.scans(args.rounds, &mut busy, Some(&wake))?;
        let seconds = started.elapsed().as_secs_f64();
        let delivered = bench.receiver.count() - before;
        bench.stop(worker)?;
        groups.extend(busy);
        meanwhile
            .push(json!({"maxPerSecond": cap.get(), "delivered": delivered, "seconds": seconds}));
    }

    println!(
        "webhooks: deliveries to a loopback receiver (PassEntry format, signed, recorded), {} \
         passes in cache",
        args.passes
    );
    println!(
        "{:<14} {:>9} {:>7} {:>11} {:>9} {:>10} {:>13}",
        "subscriptions", "max/s", "events", "deliveries", "seconds", "events/s", "deliveries/s"
    );
    for t in &throughput {
        println!(
            "{:<14} {:>9} {:>7} {:>11} {:>9.2} {:>10.0} {:>13.0}",
            t["subscriptions"].as_u64().unwrap_or(0),
            t["maxPerSecond"].as_u64().unwrap_or(0),
            t["events"].as_u64().unwrap_or(0),
            t["deliveries"].as_u64().unwrap_or(0),
            t["seconds"].as_f64().unwrap_or(0.0),
            t["eventsPerSecond"].as_f64().unwrap_or(0.0),
            t["deliveriesPerSecond"].as_f64().unwrap_or(0.0)
        );
    }
    for m in &meanwhile {
        println!(
            "while scanning at most {}/s: {} deliveries to 10 subscriptions in {:.2} s",
            m["maxPerSecond"],
            m["delivered"],
            m["seconds"].as_f64().unwrap_or(0.0)
        );
    }
    println!("scan → decision, durable commit and the wait for the writer included:");
    let scans = print_table(&mut groups);
    print_json(&json!({
        "bench": "webhooks",
        "passes": args.passes,
        "database": path,
        "throughput": throughput,
        "scans": scans,
        "whileScanning": meanwhile,
    }))?;
    Ok(ExitCode::SUCCESS)
}

struct Bench {
    runtime: Runtime,
    db: Arc<Db>,
    node_id: String,
    receiver: Receiver,
    /// The loyalty cards: the first index and how many.
    cards: (u32, u32),
    next: AtomicU64,
}

impl Bench {
    /// No subscription but `subs` new ones to the receiver, and the fan-out at the outbox's
    /// end (what earlier runs wrote is none of this run's business).
    fn reset(&self, subs: u32) -> anyhow::Result<()> {
        let url = self.receiver.url();
        self.runtime.block_on(self.db.write(move |s| {
            s.write(|tx| -> anyhow::Result<()> {
                tx.execute("DELETE FROM webhook_subscriptions", [])?;
                tx.execute(
                    "UPDATE webhook_cursor SET after_seq = (SELECT coalesce(max(seq), 0) FROM outbox)",
                    [],
                )?;
                for n in 0..subs {
                    let new = NewSubscription {
                        url: WebhookUrl::parse(&format!("{url}/hook/{n}"))
                            .map_err(anyhow::Error::msg)?,
                        format: Format::PassEntry,
                        events: EventFilter::all(),
                        enabled: true,
                        secret: None,
                    };
                    subscriptions::create(tx, new, Timestamp::now())?;
                }
                Ok(())
            })
        }))??;
        Ok(())
    }

    fn card_scan(&self) -> anyhow::Result<ScanInput> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        let card = self.cards.0 + (i % u64::from(self.cards.1.max(1))) as u32;
        Ok(ScanInput {
            value: format!("BC-{card:08}").into_bytes(),
            reader_id: ReaderId::parse(TILL)?,
            medium: Medium::Qr,
            direction: None,
            at: Timestamp::now(),
        })
    }

    /// `n` accepted card scans, 500 per transaction: `n` passTapped events.
    fn write_events(&self, n: u32) -> anyhow::Result<()> {
        let mut left = n;
        while left > 0 {
            let batch = left.min(500);
            let inputs = (0..batch)
                .map(|_| self.card_scan())
                .collect::<anyhow::Result<Vec<_>>>()?;
            let node = self.node_id.clone();
            let decisions = self
                .runtime
                .block_on(self.db.write(move |s| checkin_batch(s, &node, &inputs)))??;
            ensure!(decisions.iter().all(|d| d.is_ok()), "a bench scan failed");
            left -= batch;
        }
        Ok(())
    }

    fn worker(&self, wake: Arc<Notify>, cap: NonZeroU32) -> anyhow::Result<WebhookWorker> {
        let settings = Settings {
            max_per_second: cap,
            ..Settings::from_config(&WebhooksConfig::default())
        };
        webhooks::spawn(self.db.clone(), settings, wake, None)
    }

    fn stop(&self, worker: WebhookWorker) -> anyhow::Result<()> {
        worker.stop()
    }

    /// Waits until the fan-out has reached the outbox's end and no delivery is pending.
    fn wait_all_delivered(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let (waiting, backlog) = self.runtime.block_on(self.db.read(|s| {
                let conn = s.conn();
                let waiting = passdesk_core::webhook::fanout::waiting(conn)?;
                let backlog: i64 = conn.query_row(
                    "SELECT coalesce(sum(backlog), 0) FROM webhook_subscriptions",
                    [],
                    |r| r.get(0),
                )?;
                Ok::<_, passdesk_core::StoreError>((waiting, backlog))
            }))??;
            if waiting == 0 && backlog == 0 {
                return Ok(());
            }
            ensure!(
                Instant::now() < deadline,
                "deliveries still pending after 10 minutes ({backlog} left)"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// `rounds` × (an accepted card, a refused unknown value), each timed through the writer
    /// as the service's scan queue runs it; `wake` told after each, as a decision tells the
    /// worker in the service.
    fn scans(
        &self,
        rounds: u32,
        samples: &mut [Samples; 2],
        wake: Option<&Arc<Notify>>,
    ) -> anyhow::Result<()> {
        for round in 0..rounds {
            let card = self.card_scan()?;
            let unknown = ScanInput {
                value: format!("NOPE-WH-{round}-{}", Timestamp::now().unix_ms()).into_bytes(),
                reader_id: ReaderId::parse(TILL)?,
                medium: Medium::Qr,
                direction: None,
                at: Timestamp::now(),
            };
            let [accepts, rejects] = samples;
            for (input, group) in [(card, accepts), (unknown, rejects)] {
                let node = self.node_id.clone();
                group.time(|| {
                    let d = self
                        .runtime
                        .block_on(self.db.write(move |s| checkin(s, &node, &input)))??;
                    Ok(d)
                })?;
                if let Some(w) = wake {
                    w.notify_one();
                }
            }
        }
        Ok(())
    }
}

/// The loopback receiver: answers every POST 200 and counts them.
struct Receiver {
    addr: std::net::SocketAddr,
    count: Arc<AtomicU64>,
}

impl Receiver {
    async fn start() -> anyhow::Result<Receiver> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("the bench receiver cannot listen")?;
        let addr = listener.local_addr()?;
        let count = Arc::new(AtomicU64::new(0));
        let counted = count.clone();
        let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
            let counted = counted.clone();
            async move {
                std::hint::black_box(body.len());
                counted.fetch_add(1, Ordering::Relaxed);
                axum::http::StatusCode::OK
            }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Receiver { addr, count })
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}
