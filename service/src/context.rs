//! What every command needs: where the data lives and how to open it.

use anyhow::{Context as _, Result};
use passdesk_core::keys::{self, NodeIdentity};
use passdesk_core::store::DB_FILE;
use passdesk_core::{OpenMode, Store};
use std::path::{Path, PathBuf};

pub struct Context {
    data_dir: PathBuf,
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
        Ok(Self { data_dir })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join(DB_FILE)
    }

    /// Creates the data directory, readable by this user only: it holds the node's private key.
    pub fn create_data_dir(&self) -> Result<()> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&self.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                self.data_dir.display()
            )
        })
    }

    /// Opens an initialised database.
    pub fn open_store(&self) -> Result<Store> {
        Ok(Store::open(&self.db_path(), OpenMode::MustExist)?)
    }

    /// Creates (if needed) and opens the database, and makes sure this node has its identity.
    pub fn init_store(&self) -> Result<(Store, NodeIdentity, bool)> {
        self.create_data_dir()?;
        let store = Store::open(&self.db_path(), OpenMode::CreateIfMissing)?;
        let (node, created) = keys::init_node(store.conn())?;
        Ok((store, node, created))
    }

    pub fn open_with_node(&self) -> Result<(Store, NodeIdentity)> {
        let store = self.open_store()?;
        let node = keys::load_node(store.conn())?;
        Ok((store, node))
    }
}
