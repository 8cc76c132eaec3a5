//! A pull over HTTP: the page `core::upstream::pull` says is next, asked of PassEntry, read
//! (`core::upstream::page`) and applied with its progress through [`Db::write_background`];
//! then the sweep's confirmations, one `GET /passes/{id}` each. Shared by the worker, `passdesk
//! upstream pull` and `passdesk bench upstream` ([`pull_now`]).

use super::client::{Answer, PassEntryClient, Unreachable};
use super::UpstreamError;
use crate::config::PassEntryUpstream;
use crate::server::db::Db;
use passdesk_core::upstream::page::{self, Kind};
use passdesk_core::upstream::pull::{self, ApplyError, Position, PullSummary, Stage};
use passdesk_core::upstream::state;
use passdesk_core::Timestamp;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Sweep candidates read per round trip to the store.
const SWEEP_BATCH: u32 = 100;
/// A rate limit (429) is waited out this many times in a row before the pull gives up (and
/// resumes later at the same page).
const RATE_LIMIT_PATIENCE: u32 = 10;
/// The longest a `Retry-After` holds a pull that runs now.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);

/// One complete pull now, for the bench and `passdesk upstream pull`: attaches the store to the
/// configured account, resumes the pull in progress or starts one, and runs it to its end.
/// `seconds` is this call's own time.
pub async fn pull_now(db: &Arc<Db>, upstream: &PassEntryUpstream) -> anyhow::Result<PullSummary> {
    let client = PassEntryClient::new(upstream)?;
    super::attach(db, upstream).await?;
    match run(db, &client, upstream.per_page.get()).await {
        Ok(summary) => Ok(summary),
        Err(e) => {
            super::record_error(db, &e).await;
            Err(e.into())
        }
    }
}

/// Runs the pull in progress (or a new one) to its end.
pub(crate) async fn run(
    db: &Arc<Db>,
    client: &PassEntryClient,
    per_page: u32,
) -> Result<PullSummary, UpstreamError> {
    let started = Instant::now();
    // The cycle this call runs: the one in progress, or a new one. Another process (the
    // worker beside `passdesk upstream pull`) may work on it too; once either has ended it,
    // this call ends with it rather than start another.
    let cycle = db
        .write_background(|s| s.write(|tx| pull::begin(tx, Timestamp::now())))
        .await??
        .cycle;
    loop {
        let position = db.read(|s| pull::in_progress(s.conn())).await??;
        let position = match position {
            Some(p) if p.cycle == cycle => p,
            _ => {
                let mut summary = db
                    .write_background(move |s| {
                        s.write(|tx| pull::finish(tx, cycle, Timestamp::now()))
                    })
                    .await??;
                summary.seconds = started.elapsed().as_secs_f64();
                return Ok(summary);
            }
        };
        match position.stage.kind() {
            Some(kind) => page_step(db, client, position, kind, per_page).await?,
            None => {
                if let Some(mut summary) = sweep_step(db, client, position).await? {
                    summary.seconds = started.elapsed().as_secs_f64();
                    let _ = db.write_background(|s| state::clear_error(s.conn())).await;
                    return Ok(summary);
                }
            }
        }
    }
}

/// Asks PassEntry, waiting out a rate limit (429 with its `Retry-After`) a few times.
async fn ask<F, Fut>(what: &str, mut call: F) -> Result<Answer, UpstreamError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Answer, Unreachable>>,
{
    let mut waited = 0;
    loop {
        let answer = call().await?;
        if answer.status == 429 && waited < RATE_LIMIT_PATIENCE {
            waited += 1;
            let wait = answer
                .retry_after
                .unwrap_or(Duration::from_secs(1))
                .min(RETRY_AFTER_CAP);
            tracing::info!(
                wait_ms = wait.as_millis() as u64,
                what,
                "PassEntry's rate limit: waiting as it asks"
            );
            tokio::time::sleep(wait).await;
            continue;
        }
        if answer.is_success() || answer.status == 404 {
            return Ok(answer);
        }
        return Err(UpstreamError::Answer(answer.describe(what)));
    }
}

/// One page of a list: asked, read, applied with the progress past it.
async fn page_step(
    db: &Arc<Db>,
    client: &PassEntryClient,
    at: Position,
    kind: Kind,
    per_page: u32,
) -> Result<(), UpstreamError> {
    let what = format!("{} page {}", kind.path(), at.page);
    let answer = ask(&what, || client.list(kind, at.page, per_page)).await?;
    if !answer.is_success() {
        return Err(UpstreamError::Answer(answer.describe(&what)));
    }
    let page = page::parse(&answer.body, kind, at.page, Timestamp::now())
        .map_err(|e| UpstreamError::BadPage(format!("{what}: {e}")))?;
    let applied = db
        .write_background(move |s| s.write(|tx| pull::apply_page(tx, at, &page, Timestamp::now())))
        .await?;
    match applied {
        Ok(_) => Ok(()),
        // Another pull (a `passdesk upstream pull` beside the worker) moved it: go on from
        // where it is now.
        Err(ApplyError::Moved(where_)) => {
            tracing::info!(now_at = %where_, "the pull moved on meanwhile");
            Ok(())
        }
        Err(ApplyError::Store(e)) => Err(e.into()),
    }
}

/// A batch of the sweep; the cycle's summary once no candidate is left.
async fn sweep_step(
    db: &Arc<Db>,
    client: &PassEntryClient,
    at: Position,
) -> Result<Option<PullSummary>, UpstreamError> {
    debug_assert_eq!(at.stage, Stage::Sweep);
    let cycle = at.cycle;
    let candidates = db
        .read(move |s| pull::sweep_candidates(s.conn(), cycle, SWEEP_BATCH))
        .await??;
    if candidates.is_empty() {
        let summary = db
            .write_background(move |s| s.write(|tx| pull::finish(tx, cycle, Timestamp::now())))
            .await??;
        return Ok(Some(summary));
    }
    for id in candidates {
        let what = format!("/api/v1/passes/{id}");
        let answer = ask(&what, || client.pass(&id)).await?;
        if answer.status == 404 {
            let gone = id.clone();
            let voided = db
                .write_background(move |s| {
                    s.write(|tx| pull::confirm_gone(tx, &gone, Timestamp::now()))
                })
                .await??;
            if voided {
                tracing::info!(pass_id = %id, "PassEntry no longer has this pass: voided here");
            }
            continue;
        }
        let item = page::pass_answer(&answer.body, Timestamp::now())
            .map_err(|e| UpstreamError::BadPage(format!("{what}: {e}")))?;
        db.write_background(move |s| {
            s.write(|tx| pull::confirm_kept(tx, cycle, &id, &item, Timestamp::now()))
        })
        .await??;
    }
    Ok(None)
}
