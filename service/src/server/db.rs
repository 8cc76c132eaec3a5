//! The service's SQLite connections: one writer (SQLite has one writer at a time anyway), a few
//! readers, a checkpointer thread. Work runs on tokio's blocking pool, never on the async threads.

use passdesk_core::{OpenMode, Store, StoreError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub struct Db {
    path: PathBuf,
    writer: Mutex<Store>,
    readers: Vec<Mutex<Store>>,
    next_reader: AtomicUsize,
    stop: Arc<AtomicBool>,
    checkpointer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// A panic inside a transaction rolls it back as the stack unwinds, so a poisoned lock still
/// guards a sound connection.
fn lock(m: &Mutex<Store>) -> MutexGuard<'_, Store> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A reader's page cache (KiB). Readers answer lists and searches; the writer, which decides
/// every scan, keeps [`Store::CACHE_KIB`]. Together they bound the service's SQLite memory
/// (at most 16 + 3 × 4 MiB with three readers), which a counter app running for weeks needs.
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
                Ok(Mutex::new(reader))
            })
            .collect::<Result<_, StoreError>>()?;
        let stop = Arc::new(AtomicBool::new(false));
        let handle = spawn_checkpointer(path.to_owned(), stop.clone())?;
        Ok(Arc::new(Self {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
            stop,
            checkpointer: Mutex::new(Some(handle)),
        }))
    }

    /// Runs `f` with the writer connection on the blocking pool.
    pub async fn write<T, F>(self: &Arc<Self>, f: F) -> Result<T, tokio::task::JoinError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> T + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || f(&mut lock(&db.writer))).await
    }

    /// Runs `f` with one of the reader connections on the blocking pool.
    pub async fn read<T, F>(self: &Arc<Self>, f: F) -> Result<T, tokio::task::JoinError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> T + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let i = db.next_reader.fetch_add(1, Ordering::Relaxed) % db.readers.len();
            f(&lock(&db.readers[i]))
        })
        .await
    }

    /// Runs `f` on the blocking pool while holding the writer, only if no one holds it now
    /// (`None` otherwise): for bookkeeping on a connection of its own that must never make a
    /// scan wait for it, nor take SQLite's write lock while the writer is in a transaction.
    pub async fn when_writer_idle<T, F>(
        self: &Arc<Self>,
        f: F,
    ) -> Result<Option<T>, tokio::task::JoinError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let _writer = match db.writer.try_lock() {
                Ok(guard) => guard,
                Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return None,
            };
            Some(f())
        })
        .await
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops the checkpointer after a last checkpoint. Connections close when the `Db` drops.
    pub fn close(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let handle = self
            .checkpointer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(h) = handle {
            let _ = h.join();
        }
        let _ = lock(&self.writer).checkpoint_passive();
    }
}

/// Checkpoints every two seconds: often enough to keep the WAL small, rarely enough that the
/// checkpoint's own writes and fsync seldom land on top of a scan's commit (measured with
/// `passdesk bench loyalty`: p99 2.6 ms checkpointing every 200 ms, 1.4 ms every 2 s).
const CHECKPOINT_EVERY: Duration = Duration::from_secs(2);

fn spawn_checkpointer(
    path: PathBuf,
    stop: Arc<AtomicBool>,
) -> Result<std::thread::JoinHandle<()>, StoreError> {
    let store = Store::open(&path, OpenMode::MustExist)?;
    // A checkpoint copies WAL frames straight to the database file, past the page cache.
    store.set_cache_kib(256)?;
    Ok(std::thread::Builder::new()
        .name("passdesk-checkpoint".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(CHECKPOINT_EVERY);
                if let Err(e) = store.checkpoint_passive() {
                    tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
                }
            }
        })
        .expect("spawn the checkpoint thread"))
}
