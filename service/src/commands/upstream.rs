//! `passdesk upstream …`: this counter and its PassEntry account (`[upstream.passentry]` in
//! passdesk.toml). `pull` runs one complete pull now (resuming one left unfinished) and prints
//! its summary; `push` sends what waits now; `status` prints the state; `requests` lists what
//! needs a person, and `send-again` / `handled` settle one (as the manager screen does). A running `passdesk
//! serve` does both by itself; these work beside it (the store serialises their writes).

use crate::config::{Config, PassEntryUpstream};
use crate::context::Context;
use crate::output::print_json;
use crate::server::db::Db;
use crate::workers::upstream::client::PassEntryClient;
use crate::workers::upstream::{self, push};
use anyhow::Context as _;
use passdesk_core::upstream::queue::{self, Request, Settled};
use passdesk_core::upstream::state;
use passdesk_core::Timestamp;
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
    /// The requests that need a person as a JSON array, newest first: refused (with
    /// PassEntry's status and answer) and uncertain (with the balances a read-back found).
    Requests,
    /// Send a refused request again, its cause fixed in PassEntry: it goes before later ones,
    /// at the worker's next look or `passdesk upstream push`. Exits 1 for an uncertain
    /// request (PassEntry may have it: check there, then `handled`) or one not refused.
    SendAgain {
        /// The request's id (`passdesk upstream requests`).
        id: i64,
    },
    /// Mark a refused or uncertain request handled (seen to in PassEntry by hand): kept, no
    /// longer shown or counted, never sent.
    Handled {
        /// The request's id (`passdesk upstream requests`).
        id: i64,
    },
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
        Cmd::Requests => {
            let store = ctx.open_store()?;
            print_json(&queue::needing_attention(store.conn(), u32::MAX)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::SendAgain { id } => {
            let mut store = ctx.open_store()?;
            let settled = store.write(|tx| queue::send_again(tx, id))?;
            settle("send-again", id, settled, Request::why_not_sent_again)
        }
        Cmd::Handled { id } => {
            let mut store = ctx.open_store()?;
            let settled = store.write(|tx| queue::mark_handled(tx, id, Timestamp::now()))?;
            settle("handled", id, settled, Request::why_not_handled)
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

/// Prints the request a person's word left, or says why it was not done (exit 1).
fn settle(
    command: &str,
    id: i64,
    settled: Settled,
    why_not: fn(&Request) -> &'static str,
) -> anyhow::Result<ExitCode> {
    match settled {
        Settled::Done(request) => {
            print_json(&request)?;
            Ok(ExitCode::SUCCESS)
        }
        Settled::NotFound => {
            eprintln!("passdesk upstream {command}: no request {id} on this counter");
            Ok(ExitCode::FAILURE)
        }
        Settled::NotAllowed(request) => {
            eprintln!(
                "passdesk upstream {command}: request {id}: {}",
                why_not(&request)
            );
            Ok(ExitCode::FAILURE)
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
