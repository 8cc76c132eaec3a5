//! Group commit for scans. Scans from every source (API, readers) queue here; one task takes
//! whatever is waiting (up to [`MAX_BATCH`]), decides them all in ONE transaction and answers
//! each after the commit. Alone, a scan is a batch of one and waits for nothing; under load,
//! many scans share one fsync, which is what lets a 2-core counter keep up with a busy gate.
//! The queue holds at most [`CAPACITY`] scans: a source that finds it full waits (the API) or
//! drops the read and counts it (the device pipelines, `pipeline::feed`).

use super::db::Db;
use super::error::{ApiError, ApiResult};
use super::state::StreamEvent;
use passdesk_core::scan::ScanInput;
use passdesk_core::{checkin_batch, Decision};
use serde_json::json;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot};

pub const MAX_BATCH: usize = 64;
pub const CAPACITY: usize = 1024;

pub struct PendingScan {
    pub input: ScanInput,
    pub reply: oneshot::Sender<ApiResult<Decision>>,
}

/// The batching task, for the shutdown: [`ScanQueue::close`].
pub struct ScanQueue {
    close: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl ScanQueue {
    /// Takes no more scans (a sender is told the service is shutting down), decides, commits
    /// and answers every scan already queued, and returns when the last one is answered.
    pub async fn close(self) -> anyhow::Result<()> {
        let _ = self.close.send(());
        self.task
            .await
            .map_err(|e| anyhow::anyhow!("the scan queue's task failed: {e}"))
    }
}

/// Starts the batching task (inside the tokio runtime). It ends once closed and drained, or
/// when every sender is gone.
pub fn spawn(
    db: Arc<Db>,
    node_id: String,
    events: broadcast::Sender<StreamEvent>,
) -> (mpsc::Sender<PendingScan>, ScanQueue) {
    let (tx, mut rx) = mpsc::channel::<PendingScan>(CAPACITY);
    let (close, mut closing) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut open = true;
        loop {
            let first = if open {
                tokio::select! {
                    // Closing first, so that a steady stream of scans cannot hold it off.
                    biased;
                    _ = &mut closing => {
                        // What is queued stays queued and is decided below; new sends fail.
                        rx.close();
                        open = false;
                        continue;
                    }
                    p = rx.recv() => p,
                }
            } else {
                rx.recv().await
            };
            let Some(first) = first else { break };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(p) => batch.push(p),
                    Err(_) => break,
                }
            }
            decide_batch(&db, &node_id, &events, batch).await;
        }
    });
    (tx, ScanQueue { close, task })
}

/// One transaction for the batch; each scan answered (and its decision streamed) after it.
async fn decide_batch(
    db: &Arc<Db>,
    node_id: &str,
    events: &broadcast::Sender<StreamEvent>,
    batch: Vec<PendingScan>,
) {
    let (inputs, replies): (Vec<_>, Vec<_>) = batch.into_iter().map(|p| (p.input, p.reply)).unzip();
    let node = node_id.to_owned();
    let n = inputs.len();
    let result = db.write(move |s| checkin_batch(s, &node, &inputs)).await;
    match result {
        Ok(Ok(decisions)) => {
            for (reply, decision) in replies.into_iter().zip(decisions) {
                let answer = decision.map_err(ApiError::from);
                if let Ok(d) = &answer {
                    tracing::info!(scan_id = %d.scan_id, reader_id = %d.reader_id,
                        verdict = d.verdict.as_str(), reason = ?d.reason, batch = n, "scan decided");
                    let data =
                        json!({ "type": "scan", "id": d.scan_id, "attributes": d }).to_string();
                    let _ = events.send(StreamEvent {
                        name: "decision",
                        data: data.into(),
                    });
                }
                let _ = reply.send(answer);
            }
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, batch = n, "a batch of scans could not be committed; none was recorded");
            for reply in replies {
                // What SQLite said stays in the log (with each request's id).
                let _ = reply.send(Err(ApiError::internal(
                    "the scan was not recorded; scan again",
                )
                .caused_by(&e)));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, batch = n, "the scan batch did not run; none was recorded");
            for reply in replies {
                let _ = reply.send(Err(ApiError::internal(
                    "the scan was not recorded; scan again",
                )));
            }
        }
    }
}
