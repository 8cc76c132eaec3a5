//! `passdesk sync …`: this counter and its hub. `join` enrolls the counter once with a token
//! from `passdesk hub enroll`; `status` prints the sync state as JSON; `now` runs one round
//! (push everything waiting, pull until caught up) and exits 1 when the hub cannot be reached,
//! recording it ("offline since …"). A running `passdesk serve` syncs by itself.

use crate::context::Context;
use crate::output::print_json;
use crate::server::db::Db;
use crate::workers::sync::client::{HubClient, HubUrl};
use crate::workers::sync::round::Link;
use crate::workers::sync::Settings;
use anyhow::{bail, Context as _};
use base64::Engine as _;
use passdesk_core::sync::state::{self, Joined};
use passdesk_core::sync::wire::{self, EnrollRequest};
use passdesk_core::Timestamp;
use serde_json::json;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Join a hub, once: enrolls this counter (its node id and PD1 public key) with a one-time
    /// token from `passdesk hub enroll` and keeps the credential the hub gives.
    Join {
        /// The hub's address, e.g. http://backoffice.local:8920
        #[arg(value_parser = HubUrl::parse)]
        hub_url: HubUrl,
        /// The one-time enrollment token.
        token: String,
    },
    /// The sync state as JSON: joined, online, lastPullAt, lastPushAt, pending, conflicts…
    Status,
    /// One round now: push everything waiting, pull until caught up. Exits 1 when the hub
    /// cannot be reached.
    Now,
}

pub fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<ExitCode> {
    match cmd {
        Cmd::Join { hub_url, token } => join(ctx, hub_url, token),
        Cmd::Status => {
            let store = ctx.open_store()?;
            print_json(&state::status(store.conn())?)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Now => now(ctx),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the sync client's runtime")
}

fn join(ctx: &Context, hub_url: HubUrl, token: String) -> anyhow::Result<ExitCode> {
    let (mut store, node) = ctx.open_with_node()?;
    if let Some(joined) = state::joined(store.conn())? {
        bail!(
            "this counter already joined the hub at {} as {:?}; a counter joins one hub, once",
            joined.hub_url,
            joined.node_name
        );
    }
    let token = token.trim().to_owned();
    if token.is_empty() {
        bail!("the enrollment token is empty: give the token `passdesk hub enroll` printed");
    }
    let client = HubClient::new(hub_url.clone(), None)?;
    let request = EnrollRequest {
        token,
        node_id: node.node_id.clone(),
        key_id: node.key.key_id().to_owned(),
        public_key: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(node.key.public_sec1()),
    };
    let answer = runtime()?.block_on(async {
        let health = client.health().await?;
        if !health.ok || health.protocol != wire::VERSION {
            bail!(
                "the hub at {hub_url} speaks sync protocol {:?} (ok: {}); this counter speaks {:?}",
                health.protocol,
                health.ok,
                wire::VERSION
            );
        }
        let answer = client.enroll(&request).await?;
        if answer.node_id != node.node_id {
            bail!(
                "the hub enrolled node {:?}, not this counter ({:?}); nothing was stored",
                answer.node_id,
                node.node_id
            );
        }
        Ok(answer)
    })?;
    let joined = Joined {
        hub_url: hub_url.to_string(),
        hub_id: answer.hub_id,
        node_name: answer.node_name,
        credential: answer.credential,
    };
    let now = Timestamp::now();
    store.write(|tx| {
        // Asked again inside the write: a second join racing this one stores nothing.
        if state::joined(tx)?.is_some() {
            return Err(anyhow::anyhow!(
                "this counter joined a hub meanwhile; this join stored nothing"
            ));
        }
        state::save_join(tx, &joined, now)?;
        Ok(())
    })?;
    print_json(&json!({
        "joined": true,
        "hubUrl": joined.hub_url,
        "hubId": joined.hub_id,
        "nodeId": node.node_id,
        "nodeName": joined.node_name,
    }))?;
    Ok(ExitCode::SUCCESS)
}

fn now(ctx: &Context) -> anyhow::Result<ExitCode> {
    let (store, node) = ctx.open_with_node()?;
    let Some(joined) = state::joined(store.conn())? else {
        bail!("this counter has not joined a hub: run `passdesk sync join HUB_URL TOKEN` first");
    };
    let settings = Settings::from_config(&crate::config::Config::load(ctx.data_dir())?.sync);
    drop(store);
    let url = HubUrl::parse(&joined.hub_url)
        .map_err(|e| anyhow::anyhow!("the stored hub URL is unusable ({e}); join again"))?;
    let db = Db::open(&ctx.db_path(), 1)?;
    let link = Link {
        db: db.clone(),
        client: HubClient::new(url, Some(joined.credential))?,
        node_id: node.node_id,
    };
    let rt = runtime()?;
    let outcome = rt.block_on(async {
        let round = async {
            let pushed = link.push_all(settings.batch).await?;
            let pulled = link.pull_all(settings.pull_batch).await?;
            Ok::<_, crate::workers::sync::round::RoundError>((pushed, pulled))
        };
        match round.await {
            Ok(done) => {
                link.contact(true, true).await?;
                Ok(Ok(done))
            }
            Err(e) => {
                if let Some(hub) = e.hub() {
                    link.failure(hub).await?;
                }
                Ok::<_, anyhow::Error>(Err(e))
            }
        }
    });
    let status = rt.block_on(db.read(|s| state::status(s.conn())));
    let closed = db.close();
    let (pushed, pulled) = match outcome? {
        Ok(done) => done,
        Err(e) => {
            closed?;
            eprintln!("passdesk sync now: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    closed?;
    let status = status??;
    print_json(&json!({
        "pushed": pushed,
        "pulled": pulled,
        "pending": status.pending,
        "conflicts": status.conflicts,
        "rejected": status.rejected,
        "pullCursor": status.pull_cursor,
    }))?;
    Ok(ExitCode::SUCCESS)
}
