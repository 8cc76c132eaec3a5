//! Group commit for scans. Scans from every source (API, readers) queue here; one task takes
//! whatever is waiting (up to [`MAX_BATCH`]), decides them all in ONE transaction and answers
//! each after the commit. Alone, a scan is a batch of one and waits for nothing; under load,
//! many scans share one fsync, which is what lets a 2-core counter keep up with a busy gate.

use super::db::Db;
use super::error::{ApiError, ApiResult};
use super::state::StreamEvent;
use passdesk_core::scan::ScanInput;
use passdesk_core::{checkin_batch, Decision};
use serde_json::json;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot};

pub const MAX_BATCH: usize = 64;

pub struct PendingScan {
    pub input: ScanInput,
    pub reply: oneshot::Sender<ApiResult<Decision>>,
}

/// Starts the batching task; it ends when every sender is gone.
pub fn spawn(
    db: Arc<Db>,
    node_id: String,
    events: broadcast::Sender<StreamEvent>,
) -> mpsc::Sender<PendingScan> {
    let (tx, mut rx) = mpsc::channel::<PendingScan>(1024);
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(p) => batch.push(p),
                    Err(_) => break,
                }
            }
            let (inputs, replies): (Vec<_>, Vec<_>) =
                batch.into_iter().map(|p| (p.input, p.reply)).unzip();
            let node = node_id.clone();
            let n = inputs.len();
            let result = db.write(move |s| checkin_batch(s, &node, &inputs)).await;
            match result {
                Ok(Ok(decisions)) => {
                    for (reply, decision) in replies.into_iter().zip(decisions) {
                        let answer = decision.map_err(ApiError::from);
                        if let Ok(d) = &answer {
                            tracing::info!(scan_id = %d.scan_id, reader_id = %d.reader_id,
                                verdict = d.verdict.as_str(), reason = ?d.reason, batch = n, "scan decided");
                            let data = json!({ "type": "scan", "id": d.scan_id, "attributes": d })
                                .to_string();
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
                Err(join) => {
                    tracing::error!(error = %join, batch = n, "the scan batch task failed; none was recorded");
                    for reply in replies {
                        let _ = reply.send(Err(ApiError::internal(
                            "the scan was not recorded; scan again",
                        )));
                    }
                }
            }
        }
    });
    tx
}
