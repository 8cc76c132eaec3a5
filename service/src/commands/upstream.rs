//! `passdesk upstream …`: this counter and its PassEntry account (`[upstream.passentry]` in
//! passdesk.toml). `pull` runs one complete pull now (resuming one left unfinished) and prints
//! its summary; `push` sends what waits now; `status` prints the state. A running `passdesk
//! serve` does both by itself; these work beside it (the store serialises their writes).

use crate::config::{Config, PassEntryUpstream};
use crate::context::Context;
use crate::output::print_json;
use crate::server::db::Db;
use crate::workers::upstream::client::PassEntryClient;
use crate::workers::upstream::{self, push};
use anyhow::Context as _;
use passdesk_core::upstream::state;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// One complete pull now: every template, event and pass of the account into the cache
    /// (resuming a pull left unfinished), passes PassEntry no longer has voided. Prints
    /// {"passes","pages","templates","events","voided","skipped","seconds"}; exits 1 when
    /// PassEntry cannot be reached or refuses the key.
    Pull,
    /// Send what waits for PassEntry now (waits after failures not kept). Prints
    /// {"sent","refused","uncertain","pending"}; exits 1 when PassEntry could not be reached.
    Push,
    /// The state as JSON: configured, lastPullAt, lastPullPasses, passes, pullInProgress,
    /// queueLength, refused, uncertain, lastError, lastErrorAt, lastPushAt.
    Status,
}

/// What to add to passdesk.toml, for the commands that need an account.
const HOW_TO_CONFIGURE: &str = "no PassEntry account is configured: add to passdesk.toml\n\n\
    [upstream.passentry]\n\
    base_url = \"https://api.passentry.com\"\n\
    api_key = \"…your PassEntry API key…\"";

pub fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let config = Config::load(ctx.data_dir())?;
    let passentry = config.upstream.passentry;
    match cmd {
        Cmd::Status => {
            let store = ctx.open_store()?;
            print_json(&state::status(store.conn(), passentry.is_some())?)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Pull => {
            let Some(p) = passentry else {
                anyhow::bail!(HOW_TO_CONFIGURE);
            };
            with_db(ctx, |db| async move {
                match upstream::pull_now(&db, &p).await {
                    Ok(summary) => {
                        print_json(&summary)?;
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => {
                        eprintln!("passdesk upstream pull: {e:#}");
                        Ok(ExitCode::FAILURE)
                    }
                }
            })
        }
        Cmd::Push => {
            let Some(p) = passentry else {
                anyhow::bail!(HOW_TO_CONFIGURE);
            };
            let (_, node) = ctx.open_with_node()?;
            with_db(ctx, |db| push_now(db, p, node.node_id))
        }
    }
}

/// Drains the queue now and prints what it did.
async fn push_now(db: Arc<Db>, p: PassEntryUpstream, node_id: String) -> anyhow::Result<ExitCode> {
    let client = PassEntryClient::new(&p)?;
    upstream::attach(&db, &p).await?;
    let mut summary = push::PushSummary::default();
    let result = push::drain(&db, &client, &node_id, true, &mut summary).await;
    if let Err(e) = &result {
        upstream::record_error(&db, e).await;
    }
    summary.pending = db
        .read(|s| state::status(s.conn(), true))
        .await??
        .queue_length;
    print_json(&summary)?;
    match result {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("passdesk upstream push: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Runs `f` with the service's connections on a runtime of its own, and closes them after.
fn with_db<F, Fut>(ctx: &Context, f: F) -> anyhow::Result<ExitCode>
where
    F: FnOnce(Arc<Db>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<ExitCode>>,
{
    // Opened once first: checks the data directory and migrates the store.
    drop(ctx.open_store()?);
    let db = Db::open(&ctx.db_path(), 1)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the upstream client's runtime")?;
    let outcome = rt.block_on(f(db.clone()));
    let closed = db.close();
    let code = outcome?;
    closed?;
    Ok(code)
}
