//! rqrr behind a deadline. rqrr's cost has no useful bound: on concentric rings (moiré, a
//! patterned shirt) it finds thousands of finder-pattern candidates and pairs them up for
//! seconds, even on a 640x360 frame; and it panics on some inputs. So each call runs on a
//! worker thread, panics caught there, and the caller waits at most a deadline. A call that
//! overruns is abandoned, not killed (Rust cannot stop a thread): it finishes in the
//! background and, until it has, rqrr stages are skipped, so at most one such call ever
//! burns CPU and the camera loop never waits on it.

use super::gray::GrayFrame;
use super::guard::{guarded, Attempt};
use super::rqrr_engine;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// Set while a worker runs (including an abandoned one).
static BUSY: AtomicBool = AtomicBool::new(false);
/// Calls abandoned so far; logged at the first and then every hundredth, so a busy machine
/// with a camera at 30 frames a second does not flood the log.
static ABANDONED: AtomicU64 = AtomicU64::new(0);

/// How rqrr is to see the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Grey levels: rqrr thresholds them itself.
    Gray,
    /// Already black (< 128) and white.
    Binary,
}

/// Whether an rqrr call is still running (so a new one would be skipped).
pub fn busy() -> bool {
    BUSY.load(Ordering::Acquire)
}

/// Clears [`BUSY`] when the worker ends, however it ends.
struct BusyGuard;

impl Drop for BusyGuard {
    fn drop(&mut self) {
        BUSY.store(false, Ordering::Release);
    }
}

/// Decodes `frame` with rqrr on a worker thread, waiting at most `deadline`. A skipped or
/// abandoned call is [`Attempt::NotFound`]: the frame simply was not read by this stage.
pub fn decode(frame: GrayFrame, input: Input, deadline: Duration) -> Attempt<String> {
    if BUSY
        .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        tracing::debug!("rqrr still busy with an earlier frame; stage skipped");
        return Attempt::NotFound;
    }
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("rqrr".into())
        .spawn(move || {
            let _busy = BusyGuard;
            let attempt = guarded(|| match input {
                Input::Gray => rqrr_engine::decode_gray(&frame),
                Input::Binary => rqrr_engine::decode_binary(&frame),
            });
            // The receiver is gone when the caller gave up waiting: nothing to do then.
            let _ = tx.send(attempt);
        });
    if let Err(e) = spawned {
        BUSY.store(false, Ordering::Release);
        tracing::warn!(error = %e, "cannot start an rqrr worker thread; stage skipped");
        return Attempt::NotFound;
    }
    match rx.recv_timeout(deadline) {
        Ok(attempt) => attempt,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            let n = ABANDONED.fetch_add(1, Ordering::Relaxed) + 1;
            if n % 100 == 1 {
                tracing::warn!(
                    deadline_ms = deadline.as_millis() as u64,
                    abandoned_so_far = n,
                    "rqrr overran its deadline; abandoned, rqrr skipped until it ends"
                );
            }
            Attempt::NotFound
        }
        // The worker ended without sending: only if `guarded` itself failed.
        Err(mpsc::RecvTimeoutError::Disconnected) => Attempt::NotFound,
    }
}
