//! The outline the network workers share: a thread of their own at a lower CPU priority (the
//! scan path comes first) running a single-threaded runtime until told to stop, the wakes they
//! take from the decision stream, their waits (cut short by a wake or the stop) and the waits
//! after failures, doubled up to a cap. What each does between its waits is its own.

use crate::server::state::StreamEvent;
use std::future::Future;
use std::time::Duration;
use tokio::sync::{broadcast, watch, Notify};

/// How the logs name a worker: its thread, itself ("the sync worker"), and what is not done
/// while it cannot run ("nothing is synced").
#[derive(Debug, Clone, Copy)]
pub struct Named {
    pub thread: &'static str,
    pub worker: &'static str,
    pub idle: &'static str,
}

/// A worker's running thread; [`WorkerThread::stop`] ends it.
pub struct WorkerThread {
    stop: watch::Sender<bool>,
    thread: std::thread::JoinHandle<()>,
    worker: &'static str,
}

/// Starts `body` on a thread of its own at a lower CPU priority, in a current-thread runtime
/// (the runtime and the blocking threads it starts inherit the priority: on a two-core counter
/// the worker takes what the scans leave). `body` is given the stop watch: it returns once the
/// watch says stop.
pub fn spawn<F, Fut>(named: Named, body: F) -> anyhow::Result<WorkerThread>
where
    F: FnOnce(watch::Receiver<bool>) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let (stop, stopping) = watch::channel(false);
    let thread = std::thread::Builder::new()
        .name(named.thread.into())
        .spawn(move || {
            lower_priority(named.worker);
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .thread_name(named.thread)
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!(error = %e, "{} cannot start its runtime; {}", named.worker, named.idle);
                    return;
                }
            };
            runtime.block_on(body(stopping));
            // Blocking work still running (a read the stop abandoned) is not waited for.
            runtime.shutdown_timeout(Duration::from_millis(500));
        })
        .map_err(|e| anyhow::anyhow!("cannot start {}'s thread: {e}", named.worker))?;
    Ok(WorkerThread {
        stop,
        thread,
        worker: named.worker,
    })
}

impl WorkerThread {
    /// Tells the worker to stop and blocks until its thread has ended.
    pub fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("{}'s thread panicked", self.worker))
    }
}

/// A nice value of 10 for the calling thread (Linux: per thread, inherited by the threads it
/// starts). Elsewhere, or refused, the worker runs at the usual priority.
fn lower_priority(worker: &str) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority on this thread's own id; no memory is touched.
        let tid = unsafe { libc::gettid() };
        if unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10) } != 0 {
            tracing::debug!("{worker} runs at the usual CPU priority");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = worker;
}

/// Calls `wake` after every committed decision on the stream (after a lag too: several were
/// missed), until the stop or the stream's end. A device's news is not a decision.
pub fn wake_on_decisions(
    mut decisions: broadcast::Receiver<StreamEvent>,
    mut stopping: watch::Receiver<bool>,
    wake: impl Fn() + Send + 'static,
) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stopping.wait_for(|s| *s) => break,
                got = decisions.recv() => match got {
                    Ok(e) if e.name != "decision" => {}
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => wake(),
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
        }
    });
}

/// Waits `wait`, less when `wake` is notified; `false` when the worker is told to stop first.
pub async fn pause(stopping: &mut watch::Receiver<bool>, wake: &Notify, wait: Duration) -> bool {
    tokio::select! {
        _ = stopping.wait_for(|s| *s) => false,
        _ = wake.notified() => true,
        _ = tokio::time::sleep(wait) => true,
    }
}

/// What `step` comes to, or `None` when the worker is told to stop first (the step is dropped
/// where it stands: a request in flight abandoned).
pub async fn unless_stopped<T>(
    stopping: &mut watch::Receiver<bool>,
    step: impl Future<Output = T>,
) -> Option<T> {
    tokio::select! {
        _ = stopping.wait_for(|s| *s) => None,
        r = step => Some(r),
    }
}

/// The waits after failures: `min`, doubled each time, at most `max`; back to `min` after a
/// success.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max,
            next: min,
        }
    }

    /// The wait after this failure.
    pub fn failed(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(self.max);
        wait
    }

    pub fn succeeded(&mut self) {
        self.next = self.min;
    }
}
