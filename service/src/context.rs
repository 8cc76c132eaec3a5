//! What every command needs: where the data lives and how to open it, guarded (file modes
//! checked and corrected, the data directory's lock held: see [`crate::data_dir`]).

use crate::data_dir::{modes, DataDirLock};
use anyhow::{Context as _, Result};
use passdesk_core::keys::{self, NodeIdentity};
use passdesk_core::store::DB_FILE;
use passdesk_core::{OpenMode, Store, StoreError};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub struct Context {
    data_dir: PathBuf,
    /// Taken at the first open and held until the command ends.
    lock: OnceLock<DataDirLock>,
}

impl Context {
    /// `--data-dir`, else `PASSDESK_DATA_DIR` (clap reads both), else the platform data dir
    /// (`~/.local/share/passdesk` on Linux).
    pub fn new(data_dir: Option<PathBuf>) -> Result<Self> {
        let data_dir = match data_dir {
            Some(d) => d,
            None => directories::ProjectDirs::from("", "", "passdesk")
                .context("cannot find a home directory for the data; pass --data-dir")?
                .data_dir()
                .to_owned(),
        };
        Ok(Self {
            data_dir,
            lock: OnceLock::new(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join(DB_FILE)
    }

    /// Creates the data directory (and any missing parent) with mode 0700: it holds the node's
    /// private key. An existing one keeps its mode here; [`Context::secure`] corrects it.
    pub fn create_data_dir(&self) -> Result<()> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, modes::DIR_MODE);
        builder.create(&self.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                self.data_dir.display()
            )
        })
    }

    /// Checks the modes of the data directory and of the files Passdesk writes there, and
    /// corrects them (each correction is logged as a warning).
    pub fn secure(&self) -> Result<Vec<modes::Correction>> {
        Ok(modes::secure(&self.data_dir)?)
    }

    /// Holds a shared lock on the data directory until this context ends (see
    /// [`crate::data_dir::lock`]); nothing if this context already holds one.
    fn hold_shared(&self) -> Result<()> {
        if self.lock.get().is_none() {
            let _ = self.lock.set(DataDirLock::shared(&self.data_dir)?);
        }
        Ok(())
    }

    /// Holds the data directory's exclusive lock until this context ends: refused while any
    /// other process uses the database (a counter, a command). For `passdesk restore`.
    pub fn hold_exclusive(&self) -> Result<()> {
        match self.lock.get() {
            Some(l) if l.is_exclusive() => Ok(()),
            Some(_) => anyhow::bail!("this command already opened the database shared"),
            None => {
                let _ = self.lock.set(DataDirLock::exclusive(&self.data_dir)?);
                Ok(())
            }
        }
    }

    /// Opens an initialised database.
    pub fn open_store(&self) -> Result<Store> {
        let path = self.db_path();
        // Before anything is written: a directory without a database stays as it was.
        if !path.exists() {
            return Err(StoreError::Missing(path).into());
        }
        self.secure()?;
        self.hold_shared()?;
        Ok(Store::open(&path, OpenMode::MustExist)?)
    }

    /// Creates (if needed) and opens the database, and makes sure this node has its identity.
    pub fn init_store(&self) -> Result<(Store, NodeIdentity, bool)> {
        self.create_data_dir()?;
        self.secure()?;
        self.hold_shared()?;
        let path = self.db_path();
        // SQLite would create the file 0644 (less the umask); made here, it is private from
        // its first byte, and SQLite gives its -wal and -shm the same mode.
        modes::private_file(&path)
            .with_context(|| format!("cannot create the database {}", path.display()))?;
        let store = Store::open(&path, OpenMode::CreateIfMissing)?;
        let (node, created) = keys::init_node(store.conn())?;
        Ok((store, node, created))
    }

    pub fn open_with_node(&self) -> Result<(Store, NodeIdentity)> {
        let store = self.open_store()?;
        let node = keys::load_node(store.conn())?;
        Ok((store, node))
    }
}
