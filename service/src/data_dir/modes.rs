//! File modes in the data directory. It holds the node's private key (in the database) and
//! every scan, so the directory is 0700 and the files Passdesk writes in it are 0600: the
//! database, its `-wal` and `-shm`, the lock file, and the copies `passdesk restore` keeps.
//! They are checked at every open and corrected with a warning naming the path and both modes:
//! a directory made by hand, a file copied in or a loose umask must not leave them readable by
//! others. SQLite gives the `-wal` and `-shm` files it creates the mode of the database file,
//! so a corrected database file keeps its companions private too.

use passdesk_core::store::DB_FILE;
use std::path::{Path, PathBuf};

use super::lock::LOCK_FILE;

/// The data directory's mode.
pub const DIR_MODE: u32 = 0o700;
/// The mode of every file Passdesk writes in the data directory, and of its backups.
pub const FILE_MODE: u32 = 0o600;

/// One mode that was not what it must be, and was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    pub path: PathBuf,
    pub was: u32,
    pub now: u32,
}

impl std::fmt::Display for Correction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: mode {:04o} corrected to {:04o}",
            self.path.display(),
            self.was,
            self.now
        )
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot {what} {path}: {source}")]
pub struct ModeError {
    what: &'static str,
    path: PathBuf,
    source: std::io::Error,
}

/// Checks the data directory and the files Passdesk writes in it, corrects every mode that is
/// not what it must be, and logs each correction as a warning. A directory that does not exist
/// yet has nothing to correct.
pub fn secure(dir: &Path) -> Result<Vec<Correction>, ModeError> {
    let mut corrections = Vec::new();
    if !dir.is_dir() {
        return Ok(corrections);
    }
    corrections.extend(enforce(dir, DIR_MODE)?);
    let entries = std::fs::read_dir(dir).map_err(|source| ModeError {
        what: "list",
        path: dir.to_owned(),
        source,
    })?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours = name.starts_with(DB_FILE) || name == LOCK_FILE;
        if ours && entry.file_type().is_ok_and(|t| t.is_file()) {
            corrections.extend(enforce(&entry.path(), FILE_MODE)?);
        }
    }
    for c in &corrections {
        tracing::warn!(
            path = %c.path.display(),
            was = %format!("{:04o}", c.was),
            now = %format!("{:04o}", c.now),
            "{c}: the data directory holds the node's private key"
        );
    }
    Ok(corrections)
}

/// Gives `path` exactly `mode` when it has another; `None`: it had it, or does not exist.
#[cfg(unix)]
pub fn enforce(path: &Path, mode: u32) -> Result<Option<Correction>, ModeError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ModeError {
                what: "read the mode of",
                path: path.to_owned(),
                source,
            })
        }
    };
    let was = meta.permissions().mode() & 0o7777;
    if was == mode {
        return Ok(None);
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|source| {
        ModeError {
            what: "set the mode of",
            path: path.to_owned(),
            source,
        }
    })?;
    Ok(Some(Correction {
        path: path.to_owned(),
        was,
        now: mode,
    }))
}

/// Modes are a Unix notion; elsewhere the directory's ACL is the platform's business.
#[cfg(not(unix))]
pub fn enforce(_path: &Path, _mode: u32) -> Result<Option<Correction>, ModeError> {
    Ok(None)
}

/// Creates a new file, or opens an existing one, with [`FILE_MODE`] when it is created (an
/// existing file keeps its mode: [`secure`] corrects it).
pub fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    options.open(path)
}

/// Creates a file that must not exist yet, with [`FILE_MODE`].
pub fn new_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    options.open(path)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn open_modes_are_closed_and_each_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let files = [
            "passdesk.sqlite",
            "passdesk.sqlite-wal",
            "passdesk.sqlite-shm",
            LOCK_FILE,
        ];
        for f in files {
            std::fs::write(data.join(f), b"").unwrap();
            std::fs::set_permissions(data.join(f), std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        // Not ours: left as it is.
        std::fs::write(data.join("passdesk.toml"), b"").unwrap();
        std::fs::set_permissions(
            data.join("passdesk.toml"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();

        let mut fixed = secure(&data).unwrap();
        fixed.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(fixed.len(), 5, "{fixed:?}");
        assert!(fixed.contains(&Correction {
            path: data.clone(),
            was: 0o755,
            now: 0o700
        }));
        for f in files {
            assert_eq!(mode(&data.join(f)), 0o600, "{f}");
        }
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("passdesk.toml")), 0o644);
        assert_eq!(
            fixed[0].to_string(),
            format!("{}: mode 0755 corrected to 0700", data.display())
        );
        // Once right, nothing more to say.
        assert!(secure(&data).unwrap().is_empty());
        assert!(secure(&dir.path().join("missing")).unwrap().is_empty());
    }
}
