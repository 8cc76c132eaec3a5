//! `passdesk restore PATH`: the counter's database replaced by a copy (`passdesk backup`'s).
//!
//! Refused while anything uses the data directory (a counter: `passdesk serve`, the desktop
//! app; or another command): it takes the directory's lock exclusively and keeps it until it
//! is done, so nothing opens the database while it is replaced. The copy is brought into the
//! data directory under a temporary name, checked there (a SQLite database, `PRAGMA
//! integrity_check` ok, a Passdesk database, no migration newer than this build's), migrated
//! to this build, synced; only then is the current database (with its `-wal` and `-shm`, if
//! a crash left them) renamed to `passdesk.sqlite.replaced-<UTC time>` and the copy renamed
//! into its place. A refused file changes nothing.

use super::backup::sync_parent;
use crate::context::Context;
use crate::data_dir::modes;
use crate::output::print_json;
use anyhow::Context as _;
use passdesk_core::keys;
use passdesk_core::store::{inspect, latest_migration, DB_FILE};
use passdesk_core::{OpenMode, Store};
use serde_json::json;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The copy to restore (a file `passdesk backup` wrote).
    pub path: PathBuf,
}

/// The companions SQLite keeps beside a database file.
const SIDECARS: [&str; 3] = ["-wal", "-shm", "-journal"];

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let source = &args.path;
    let meta =
        std::fs::metadata(source).with_context(|| format!("cannot read {}", source.display()))?;
    anyhow::ensure!(
        meta.is_file(),
        "{} is not a file: give a backup file",
        source.display()
    );
    ctx.create_data_dir()?;
    ctx.secure()?;
    ctx.hold_exclusive()
        .context("cannot restore now: the database must not be in use")?;

    let staged = Staged::copy_in(source, &ctx.data_dir().join(format!("{DB_FILE}.restoring")))?;
    let found = inspect(staged.path())
        .map_err(|e| anyhow::anyhow!("{} is {e}; nothing was changed", source.display()))?;
    // Migrated here, before it replaces anything: a copy this build cannot bring up to date
    // is refused like a damaged one.
    let node = {
        let store = Store::open(staged.path(), OpenMode::MustExist).with_context(|| {
            format!(
                "cannot bring {} up to date; nothing was changed",
                source.display()
            )
        })?;
        keys::load_node(store.conn()).with_context(|| {
            format!(
                "{} has no node identity; nothing was changed",
                source.display()
            )
        })?
    };
    staged.sync()?;

    let db = ctx.db_path();
    let replaced = if db.exists() {
        Some(set_aside(&db)?)
    } else {
        None
    };
    staged.commit(&db)?;
    sync_parent(&db);
    ctx.secure()?;
    print_json(&json!({
        "restored": source,
        "database": db,
        "replaced": replaced,
        "nodeId": node.node_id,
        "migration": found.migration,
        "migratedTo": latest_migration(),
        "passes": found.passes,
        "scans": found.scans,
    }))?;
    Ok(ExitCode::SUCCESS)
}

/// Renames the current database and its companions to a dated name beside it; returns the
/// database's new name.
fn set_aside(db: &Path) -> anyhow::Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let mut aside = with_suffix(db, &format!(".replaced-{stamp}"));
    let mut n = 1;
    while aside.exists() {
        n += 1;
        aside = with_suffix(db, &format!(".replaced-{stamp}-{n}"));
    }
    // The companions first: should this stop half-way, the database still has its own.
    for sidecar in SIDECARS {
        let from = with_suffix(db, sidecar);
        if from.exists() {
            let to = with_suffix(&aside, sidecar);
            std::fs::rename(&from, &to)
                .with_context(|| format!("cannot move {} to {}", from.display(), to.display()))?;
        }
    }
    std::fs::rename(db, &aside)
        .with_context(|| format!("cannot move {} to {}", db.display(), aside.display()))?;
    Ok(aside)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p: OsString = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// The copy inside the data directory; removed, with its companions, unless committed.
struct Staged {
    path: PathBuf,
    done: bool,
}

impl Staged {
    fn copy_in(source: &Path, path: &Path) -> anyhow::Result<Self> {
        let staged = Self {
            path: path.to_owned(),
            done: false,
        };
        // A restore cut short earlier may have left one: it is ours to replace.
        staged.remove();
        let mut out = modes::new_private_file(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut input = std::fs::File::open(source)
            .with_context(|| format!("cannot read {}", source.display()))?;
        std::io::copy(&mut input, &mut out)
            .with_context(|| format!("cannot copy {} into the data directory", source.display()))?;
        Ok(staged)
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn sync(&self) -> anyhow::Result<()> {
        std::fs::File::open(&self.path)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("cannot sync {}", self.path.display()))
    }

    fn commit(mut self, db: &Path) -> anyhow::Result<()> {
        std::fs::rename(&self.path, db)
            .with_context(|| format!("cannot move {} to {}", self.path.display(), db.display()))?;
        self.done = true;
        Ok(())
    }

    fn remove(&self) {
        let _ = std::fs::remove_file(&self.path);
        for sidecar in SIDECARS {
            let _ = std::fs::remove_file(with_suffix(&self.path, sidecar));
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.done {
            self.remove();
        }
    }
}
