//! The data directory's lock file. Every process that opens the database holds a shared lock
//! on it for as long as it may use it: a counter (`passdesk serve`, the desktop app) for its
//! lifetime, a command while it runs. `passdesk restore` takes it exclusively, so it refuses
//! while anything has the database open, and nothing opens the database while a restore
//! replaces it. An advisory lock (flock on Unix, LockFileEx on Windows, through `fs4`): the
//! kernel releases it when its process ends, however it ends, so a crash never leaves it stale.

use super::modes::private_file;
use std::fs::File;
use std::path::{Path, PathBuf};

/// The lock file inside the data directory.
pub const LOCK_FILE: &str = "passdesk.lock";

/// A held lock; released when dropped.
#[derive(Debug)]
pub struct DataDirLock {
    // Held for its lock: closing the file releases it.
    _file: File,
    exclusive: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "a counter (passdesk serve or the desktop app) or another passdesk command is using {0}: stop it first"
    )]
    InUse(PathBuf),
    #[error("{0} is being restored (passdesk restore): try again when it has finished")]
    Restoring(PathBuf),
    #[error("cannot lock {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl DataDirLock {
    /// A shared lock: any number of processes may hold one. Refused, never waited for, while a
    /// restore holds the exclusive lock.
    pub fn shared(dir: &Path) -> Result<Self, LockError> {
        Self::take(dir, false)
    }

    /// The exclusive lock: only while no other process holds any. Refused, never waited for.
    pub fn exclusive(dir: &Path) -> Result<Self, LockError> {
        Self::take(dir, true)
    }

    pub fn is_exclusive(&self) -> bool {
        self.exclusive
    }

    /// Tries for the lock once. It is held by another process when it cannot be had: the
    /// exclusive lock by a restore, a shared one by a counter or a command.
    fn take(dir: &Path, exclusive: bool) -> Result<Self, LockError> {
        let file = open(dir)?;
        let tried = if exclusive {
            fs4::FileExt::try_lock(&file)
        } else {
            fs4::FileExt::try_lock_shared(&file)
        };
        match tried {
            Ok(()) => Ok(Self {
                _file: file,
                exclusive,
            }),
            Err(fs4::TryLockError::WouldBlock) if exclusive => {
                Err(LockError::InUse(dir.to_owned()))
            }
            Err(fs4::TryLockError::WouldBlock) => Err(LockError::Restoring(dir.to_owned())),
            Err(fs4::TryLockError::Error(source)) => Err(LockError::Io {
                path: dir.join(LOCK_FILE),
                source,
            }),
        }
    }
}

fn open(dir: &Path) -> Result<File, LockError> {
    let path = dir.join(LOCK_FILE);
    private_file(&path).map_err(|source| LockError::Io { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// flock locks belong to an open file, so two opens in one process contend as two
    /// processes would.
    #[test]
    fn shared_holders_keep_restore_out_and_restore_keeps_them_out() {
        let dir = tempfile::tempdir().unwrap();
        let a = DataDirLock::shared(dir.path()).unwrap();
        let b = DataDirLock::shared(dir.path()).unwrap();
        let err = DataDirLock::exclusive(dir.path()).unwrap_err();
        assert!(matches!(err, LockError::InUse(_)), "{err}");
        assert!(err.to_string().contains("stop it first"), "{err}");
        drop((a, b));
        let restore = DataDirLock::exclusive(dir.path()).unwrap();
        assert!(restore.is_exclusive());
        let err = DataDirLock::shared(dir.path()).unwrap_err();
        assert!(matches!(err, LockError::Restoring(_)), "{err}");
        drop(restore);
        DataDirLock::shared(dir.path()).unwrap();
    }
}
