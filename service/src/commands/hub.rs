//! `passdesk hub …`: the hub for several counters (the `passdesk-hub` crate): `serve` its sync
//! API, `enroll` a counter (a one-time token), list its `nodes` and `conflicts`, `import`
//! passes and the catalogue for every counter. `--database` (or `PASSDESK_HUB_DATABASE`):
//! `postgres://…` or `sqlite://PATH`.

use super::import::bounded_lines;
use crate::context::Context;
use crate::output::print_json;
use anyhow::Context as _;
use passdesk_core::Timestamp;
use passdesk_hub::{DatabaseUrl, Hub, DEFAULT_LISTEN};
use serde_json::json;
use std::io::{BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Serve the sync API (/sync/v1/…) until SIGTERM or Ctrl-C. Prints one JSON line once it
    /// listens: {"listening", "hubId", "database"}.
    Serve(ServeArgs),
    /// Make a one-time enrollment token (valid 24 hours) for a counter to be called NAME;
    /// prints {"token": …}. The counter runs `passdesk sync join HUB_URL TOKEN`.
    Enroll(EnrollArgs),
    /// Print every conflict the hub found, one JSON line each, in the order found.
    Conflicts(Database),
    /// Print the enrolled counters, one JSON line each: nodeId, name, enrolledAt, lastContactAt.
    Nodes(Database),
    /// Load PassEntry-shaped JSON lines (as `passdesk import` reads them) into the hub, for
    /// every counter to pull: all or nothing.
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
pub struct Database {
    /// The hub's database: postgres://USER@HOST/DB (a chain) or sqlite://PATH (one site).
    #[arg(long, env = "PASSDESK_HUB_DATABASE", value_name = "URL")]
    pub database: DatabaseUrl,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: Database,
    /// Address to listen on.
    #[arg(long, default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
}

#[derive(Debug, clap::Args)]
pub struct EnrollArgs {
    #[command(flatten)]
    pub db: Database,
    /// The counter's name, as gates and conflicts show it ("Gate A", "Till 2").
    #[arg(long)]
    pub name: String,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub db: Database,
    /// A .jsonl file; `-` reads stdin.
    pub file: PathBuf,
}

pub fn run(_ctx: &Context, cmd: Cmd) -> anyhow::Result<ExitCode> {
    match cmd {
        Cmd::Serve(a) => serve(a),
        Cmd::Enroll(a) => on_hub(&a.db, |hub| async move {
            let token = hub.enroll_token(&a.name, Timestamp::now()).await?;
            print_json(&json!({ "token": token }))
        }),
        Cmd::Conflicts(db) => on_hub(&db, |hub| async move {
            for conflict in hub.conflicts().await? {
                print_json(&conflict)?;
            }
            Ok(())
        }),
        Cmd::Nodes(db) => on_hub(&db, |hub| async move {
            for node in hub.nodes().await? {
                print_json(&node)?;
            }
            Ok(())
        }),
        Cmd::Import(a) => import(a),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

async fn open(db: &Database) -> anyhow::Result<Arc<Hub>> {
    Hub::open(&db.database)
        .await
        .with_context(|| format!("cannot open the hub database {:?}", db.database))
}

/// Opens the hub and runs `f` on it.
fn on_hub<F, Fut>(db: &Database, f: F) -> anyhow::Result<ExitCode>
where
    F: FnOnce(Arc<Hub>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    runtime()?.block_on(async {
        let hub = open(db).await?;
        f(hub).await
    })?;
    Ok(ExitCode::SUCCESS)
}

fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let hub = open(&args.db).await?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        print_json(&json!({
            "listening": format!("http://{addr}"),
            "hubId": hub.hub_id(),
            "database": hub.engine().as_str(),
        }))?;
        tracing::info!(%addr, hub_id = hub.hub_id(), "hub listening");
        passdesk_hub::server::serve(listener, hub, super::serve::shutdown_signal())
            .await
            .context("the hub's server failed")
    })?;
    Ok(ExitCode::SUCCESS)
}

fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let input: Box<dyn Read> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(&args.file)
                .with_context(|| format!("cannot open {}", args.file.display()))?,
        )
    };
    let now = Timestamp::now();
    let failed = || format!("import of {} failed, hub unchanged", args.file.display());
    // Read and checked before the hub is touched: a bad line changes nothing.
    let (read, changes) =
        passdesk_hub::import::changes_of_lines(bounded_lines(BufReader::new(input)), now)
            .with_context(failed)?;
    let appended = runtime()?.block_on(async {
        let hub = open(&args.db).await?;
        hub.append_own(changes, now).await.with_context(failed)
    })?;
    print_json(&passdesk_hub::import::HubImportSummary {
        read,
        changes: appended.accepted,
        duplicates: appended.duplicates,
    })?;
    Ok(ExitCode::SUCCESS)
}
