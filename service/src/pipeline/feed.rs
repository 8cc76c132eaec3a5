//! From a device thread to the decider, bounded. A device thread must never wait for the
//! database (a PC/SC thread that stops polling misses removals; a serial or camera dispatcher
//! that stops draining lets its device's reads pile up in memory) and must never queue without
//! limit behind a database that does not answer. So each pipeline offers its reads to a queue
//! of [`CAPACITY`] and one task decides them in order; a read that finds the queue full is
//! dropped, counted on its device's `/status` line ("3 reads dropped: the database did not
//! answer") and announced on the stream (`tapFailed`, `dropped: true`) so that the screen asks
//! for the scan again. Nothing of a dropped read is recorded.

use crate::server::routes::scans::{decide, publish};
use crate::server::state::AppState;
use passdesk_core::scan::ScanInput;
use serde_json::json;
use tokio::sync::mpsc::{self, error::TrySendError};

/// Reads waiting for the decider, per pipeline. A healthy store decides a read in a few
/// milliseconds, so more than a handful waiting means it is not answering; and a read that
/// waited behind 16 others would be answered too late for the person in front of the reader.
pub const CAPACITY: usize = 16;

/// The device side: [`Feed::offer`] never waits.
pub struct Feed {
    tx: mpsc::Sender<Read>,
    state: AppState,
    /// What the screen says when a read of this pipeline is not recorded.
    again: &'static str,
}

struct Read {
    input: ScanInput,
    /// The reader id the screens know the device by.
    reader_id: String,
}

/// The decider task; it ends once every [`Feed`] is gone and the reads queued are decided.
pub struct Drain {
    family: &'static str,
    task: tokio::task::JoinHandle<()>,
}

impl Drain {
    /// Waits until the reads already queued are decided (each committed and streamed, or
    /// announced as not recorded). Call after the device threads have stopped.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task
            .await
            .map_err(|e| anyhow::anyhow!("the {} decider failed: {e}", self.family))
    }
}

impl Feed {
    /// Starts the decider of one pipeline (`family`: `pcsc`, `serial`, `camera`) on `runtime`.
    /// `again`: the words for a read that was not recorded ("please tap again").
    pub fn start(
        state: AppState,
        runtime: &tokio::runtime::Handle,
        family: &'static str,
        again: &'static str,
    ) -> (Feed, Drain) {
        let (tx, mut rx) = mpsc::channel::<Read>(CAPACITY);
        let decider_state = state.clone();
        let task = runtime.spawn(async move {
            let state = decider_state;
            while let Some(read) = rx.recv().await {
                if let Err(e) = decide(&state, read.input).await {
                    // Nothing was recorded; the screen must ask for the scan again.
                    tracing::error!(?e, family, reader_id = %read.reader_id, "a read could not be decided");
                    publish(
                        &state,
                        "tapFailed",
                        &json!({ "readerId": read.reader_id, "message": again, "tapAgain": true }),
                    );
                }
            }
        });
        (Feed { tx, state, again }, Drain { family, task })
    }

    /// Hands a read to the decider without waiting. `false`: the queue was full (or the decider
    /// gone); the read is dropped, counted against `device_key`'s line and announced.
    pub fn offer(&self, device_key: &str, input: ScanInput) -> bool {
        let reader_id = input.reader_id.as_str().to_owned();
        match self.tx.try_send(Read {
            input,
            reader_id: reader_id.clone(),
        }) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Closed(_)) => {
                let dropped = self.state.devices.count_dropped(device_key);
                // A flood of reads must not become a flood of log lines: the 1st, 2nd, 4th,
                // 8th… drop is logged (every one of a device without a line); `/status` has
                // the exact count.
                if dropped == 0 || dropped.is_power_of_two() {
                    tracing::warn!(%reader_id, dropped, "reads dropped: the database did not answer");
                }
                publish(
                    &self.state,
                    "tapFailed",
                    &json!({ "readerId": reader_id, "message": self.again, "tapAgain": true,
                             "dropped": true, "error": "the database did not answer" }),
                );
                false
            }
        }
    }
}
