//! The service's SQLite connections: one writer (SQLite has one writer at a time anyway), a few
//! readers, a checkpointer thread. Work runs on tokio's blocking pool, never on the async threads.
//! [`Db::close`] ends them all, last in a shutdown; work asked for after it is refused.
//!
//! One more connection, `aside`, writes bookkeeping that need not survive a power cut (an API
//! key's last use), only while the writer is idle: see [`Db::write_aside_when_idle`].
//!
//! Background bookkeeping that a crash must not lose (the webhook worker's fan-out, answers
//! and retention) writes through the writer too, but gives way: [`Db::write_background`]
//! waits while a [`Db::write`] is waiting, and commits without an fsync of its own, so a scan
//! waits at most for one short background transaction already running, never for a queue of
//! them or for their syncs.

use passdesk_core::{OpenMode, Store, StoreError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

pub struct Db {
    /// `None` once closed.
    writer: Mutex<Option<Store>>,
    readers: Vec<Mutex<Option<Store>>>,
    /// `None` once closed.
    aside: Mutex<Option<Store>>,
    next_reader: AtomicUsize,
    /// Dropping it stops the checkpointer at once (it waits on the other end).
    stop_checkpointer: Mutex<Option<Sender<()>>>,
    checkpointer: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// [`Db::write`] callers waiting for the writer or holding it: background writes wait
    /// until none is (for a while).
    foreground: Mutex<usize>,
    foreground_gone: Condvar,
}

/// Why work on the database did not run.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the database is closed: the service is shutting down")]
    Closed,
    #[error("a database task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// A panic inside a transaction rolls it back as the stack unwinds, so a poisoned lock still
/// guards a sound connection.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A reader's page cache (KiB). Readers answer lists and searches; the writer, which decides
/// every scan, keeps [`Store::CACHE_KIB`]. Together they bound the page caches (16 + 3 × 4
/// MiB with three readers, and 256 KiB for the checkpointer), which a counter app running for
/// weeks needs; a statement's temporary b-trees (sorts, `temp_store = MEMORY`) come on top
/// while it runs.
const READER_CACHE_KIB: u32 = 4 * 1024;

impl Db {
    pub fn open(path: &Path, readers: usize) -> Result<Arc<Self>, StoreError> {
        let writer = Store::open(path, OpenMode::MustExist)?;
        // Commits never run a checkpoint; the checkpointer thread does, off the scan path.
        writer.disable_autocheckpoint()?;
        let readers = (0..readers.max(1))
            .map(|_| {
                let reader = Store::open(path, OpenMode::MustExist)?;
                reader.set_cache_kib(READER_CACHE_KIB)?;
                Ok(Mutex::new(Some(reader)))
            })
            .collect::<Result<_, StoreError>>()?;
        let aside = open_aside(path)?;
        let (stop, stopped) = channel();
        let handle = spawn_checkpointer(path.to_owned(), stopped)?;
        Ok(Arc::new(Self {
            writer: Mutex::new(Some(writer)),
            readers,
            aside: Mutex::new(Some(aside)),
            next_reader: AtomicUsize::new(0),
            stop_checkpointer: Mutex::new(Some(stop)),
            checkpointer: Mutex::new(Some(handle)),
            foreground: Mutex::new(0),
            foreground_gone: Condvar::new(),
        }))
    }

    /// Runs `f` with the writer connection on the blocking pool.
    pub async fn write<T, F>(self: &Arc<Self>, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> T + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let _foreground = Foreground::enter(&db);
            match lock(&db.writer).as_mut() {
                Some(store) => Ok(f(store)),
                None => Err(DbError::Closed),
            }
        })
        .await?
    }

    /// Runs `f` with the writer connection on the blocking pool once no [`Db::write`] holds
    /// it or waits for it (one that comes while `f` runs waits for `f` alone). For background
    /// work in short transactions: it waits for a gap in the foreground writes, up to
    /// [`BACKGROUND_PATIENCE`], then takes its turn. Its commits do not sync the WAL (`synchronous = NORMAL` while `f`
    /// runs): they survive a crash or `kill -9`, and are on disk with the next commit of
    /// [`Db::write`] or the next checkpoint (every 2 s); a power cut before that may lose
    /// them, so only work that is safe to do again belongs here.
    pub async fn write_background<T, F>(self: &Arc<Self>, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> T + Send + 'static,
    {
        self.background(Commits::Unsynced, f).await
    }

    /// As [`Db::write_background`] (its turn after the foreground writes), but its commits
    /// sync the WAL as [`Db::write`]'s do: for a mark that must outlive a power cut because
    /// what follows it cannot be undone (the upstream push's `sending`, set before a request
    /// leaves: lost, the request would be sent again without first asking whether it landed).
    pub async fn write_background_synced<T, F>(self: &Arc<Self>, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> T + Send + 'static,
    {
        self.background(Commits::Synced, f).await
    }

    async fn background<T, F>(self: &Arc<Self>, commits: Commits, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> T + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let patience = std::time::Instant::now() + BACKGROUND_PATIENCE;
            let mut writer = loop {
                let mut busy = lock(&db.foreground);
                while *busy > 0 {
                    let left = patience.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    busy = db
                        .foreground_gone
                        .wait_timeout(busy, left)
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .0;
                }
                drop(busy);
                let writer = lock(&db.writer);
                // A foreground writer that came between the look and the lock goes first,
                // while patience lasts.
                if *lock(&db.foreground) > 0 && std::time::Instant::now() < patience {
                    drop(writer);
                    continue;
                }
                break writer;
            };
            let Some(store) = writer.as_mut() else {
                return Err(DbError::Closed);
            };
            match commits {
                Commits::Synced => Ok(f(store)),
                Commits::Unsynced => Ok(f(Unsynced::new(store).0)),
            }
        })
        .await?
    }

    /// Runs `f` with one of the reader connections on the blocking pool.
    pub async fn read<T, F>(self: &Arc<Self>, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> T + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let i = db.next_reader.fetch_add(1, Ordering::Relaxed) % db.readers.len();
            match lock(&db.readers[i]).as_ref() {
                Some(store) => Ok(f(store)),
                None => Err(DbError::Closed),
            }
        })
        .await?
    }

    /// Runs `f` with the `aside` connection on the blocking pool, only while no one holds the
    /// writer (`Ok(None)` when someone does: try again later), and holding it meanwhile, so that
    /// `aside` never takes SQLite's write lock from under a transaction of the writer and a
    /// scan never queues behind it. `aside` commits without an fsync (`synchronous = NORMAL`:
    /// the next commit of the writer syncs the WAL it lies in), so it holds the writer for
    /// microseconds. For bookkeeping only: a power cut may lose its last commits.
    pub async fn write_aside_when_idle<T, F>(self: &Arc<Self>, f: F) -> Result<Option<T>, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> T + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let writer = match db.writer.try_lock() {
                Ok(guard) => guard,
                Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return Ok(None),
            };
            if writer.is_none() {
                return Err(DbError::Closed);
            }
            match lock(&db.aside).as_mut() {
                Some(store) => Ok(Some(f(store))),
                None => Err(DbError::Closed),
            }
        })
        .await?
    }

    /// The last step of a shutdown, once nothing writes any more (blocking: call it off the
    /// async threads). Stops the checkpointer, moves the whole WAL into the database file and
    /// empties it (`TRUNCATE`), and closes every connection; SQLite removes the `-wal` and
    /// `-shm` files when the last connection to the file closes. Later work is refused with
    /// [`DbError::Closed`]. A second call does nothing.
    pub fn close(&self) -> Result<(), StoreError> {
        drop(lock(&self.stop_checkpointer).take());
        if let Some(h) = lock(&self.checkpointer).take() {
            let _ = h.join();
        }
        let readers: Vec<Store> = self.readers.iter().filter_map(|r| lock(r).take()).collect();
        // Readers first: an open reader would hold a checkpoint back from the WAL's end.
        drop(readers);
        drop(lock(&self.aside).take());
        let Some(writer) = lock(&self.writer).take() else {
            return Ok(());
        };
        writer.checkpoint_truncate()
    }
}

/// How long a background write gives way to foreground ones before it takes its turn anyway
/// (a steady stream of scans must not starve the webhook worker for good).
const BACKGROUND_PATIENCE: Duration = Duration::from_millis(200);

/// A [`Db::write`] waiting for the writer or holding it: background writes wait until none is.
struct Foreground<'a>(&'a Db);

impl<'a> Foreground<'a> {
    fn enter(db: &'a Db) -> Self {
        *lock(&db.foreground) += 1;
        Self(db)
    }
}

impl Drop for Foreground<'_> {
    fn drop(&mut self) {
        let mut busy = lock(&self.0.foreground);
        *busy -= 1;
        if *busy == 0 {
            self.0.foreground_gone.notify_all();
        }
    }
}

/// Whether a background write's commits sync the WAL.
#[derive(Clone, Copy)]
enum Commits {
    Synced,
    Unsynced,
}

/// The writer without an fsync at commit while it lives (`synchronous = NORMAL`), `FULL` again
/// when dropped, whatever became of the work (an error, a panic unwinding).
struct Unsynced<'a>(&'a mut Store);

impl<'a> Unsynced<'a> {
    fn new(store: &'a mut Store) -> Self {
        if let Err(e) = store.conn().execute_batch("PRAGMA synchronous = NORMAL;") {
            tracing::warn!(error = %e, "a background write syncs as every write does");
        }
        Self(store)
    }
}

impl Drop for Unsynced<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.0.conn().execute_batch("PRAGMA synchronous = FULL;") {
            tracing::error!(error = %e, "the writer cannot go back to synchronous = FULL");
        }
    }
}

/// The bookkeeping connection: no fsync at commit, no checkpoint at commit (the checkpointer
/// thread does those), a small page cache, and no waiting for another process's write lock
/// (that is a retry later, not a stall with the writer held).
fn open_aside(path: &Path) -> Result<Store, StoreError> {
    let store = Store::open(path, OpenMode::MustExist)?;
    store.disable_autocheckpoint()?;
    store.set_cache_kib(256)?;
    store.conn().execute_batch("PRAGMA synchronous = NORMAL;")?;
    store.conn().busy_timeout(Duration::ZERO)?;
    Ok(store)
}

/// Checkpoints every two seconds: often enough to keep the WAL small, rarely enough that the
/// checkpoint's own writes and fsync seldom land on top of a scan's commit (measured with
/// `passdesk bench loyalty`: p99 2.6 ms checkpointing every 200 ms, 1.4 ms every 2 s).
const CHECKPOINT_EVERY: Duration = Duration::from_secs(2);

fn spawn_checkpointer(
    path: PathBuf,
    stopped: std::sync::mpsc::Receiver<()>,
) -> Result<std::thread::JoinHandle<()>, StoreError> {
    let store = Store::open(&path, OpenMode::MustExist)?;
    // A checkpoint copies WAL frames straight to the database file, past the page cache.
    store.set_cache_kib(256)?;
    Ok(std::thread::Builder::new()
        .name("passdesk-checkpoint".into())
        .spawn(move || {
            // Waits on the stop channel, not a sleep, so that a shutdown never waits 2 s.
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                if let Err(e) = store.checkpoint_passive() {
                    tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
                }
            }
        })
        .expect("spawn the checkpoint thread"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn close_empties_the_wal_and_refuses_later_work() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(passdesk_core::store::DB_FILE);
        drop(Store::open(&path, OpenMode::CreateIfMissing).unwrap());
        let db = Db::open(&path, 2).unwrap();
        db.write(|s| {
            s.conn()
                .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        })
        .await
        .unwrap()
        .unwrap();
        let wal = dir
            .path()
            .join(format!("{}-wal", passdesk_core::store::DB_FILE));
        assert!(std::fs::metadata(&wal).unwrap().len() > 0);
        let closing = db.clone();
        tokio::task::spawn_blocking(move || closing.close())
            .await
            .unwrap()
            .unwrap();
        assert!(
            std::fs::metadata(&wal).map_or(true, |m| m.len() == 0),
            "the WAL is checkpointed and removed"
        );
        assert!(matches!(
            db.read(|_| ()).await.unwrap_err(),
            DbError::Closed
        ));
        assert!(matches!(
            db.write(|_| ()).await.unwrap_err(),
            DbError::Closed
        ));
        db.close().unwrap();
        let n: i64 = Store::open(&path, OpenMode::MustExist)
            .unwrap()
            .conn()
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }

    /// What each kind of write commits with: `synchronous` is FULL (2, the WAL synced at every
    /// commit) for the foreground and synced background writes, NORMAL (1) for the others
    /// while they run, and FULL again after them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn background_writes_sync_at_commit_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(passdesk_core::store::DB_FILE);
        drop(Store::open(&path, OpenMode::CreateIfMissing).unwrap());
        let db = Db::open(&path, 1).unwrap();
        let synchronous = |s: &mut Store| -> i64 {
            s.conn()
                .query_row("PRAGMA synchronous", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(db.write(synchronous).await.unwrap(), 2);
        assert_eq!(db.write_background(synchronous).await.unwrap(), 1);
        assert_eq!(db.write_background_synced(synchronous).await.unwrap(), 2);
        assert_eq!(db.write(synchronous).await.unwrap(), 2);
        let closing = db.clone();
        tokio::task::spawn_blocking(move || closing.close())
            .await
            .unwrap()
            .unwrap();
    }
}
