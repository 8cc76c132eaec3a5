//! `passdesk backup PATH [--force]`: a consistent copy of the database, safe while the counter
//! runs, that `passdesk restore` takes back.
//!
//! SQLite's online backup API (rusqlite's `backup` feature), in ONE step: the whole copy is
//! made inside one read transaction on the live database, so it is the database as of one
//! commit, every scan answered before the backup began included. In WAL mode that read blocks
//! no writer: the counter keeps deciding and committing scans while it runs. Chosen over
//! `VACUUM INTO`, which gives the same snapshot but rebuilds every table and index into the new
//! file: CPU that a busy 2-core counter needs for its scans (minutes of it on a
//! ten-million-scan log), where the backup API copies pages as they are.
//!
//! The copy is written beside PATH under a temporary name (mode 0600 from its first byte),
//! checked (`PRAGMA integrity_check`), synced, and only then renamed to PATH: a backup that
//! fails or is cut by a power loss never leaves a half copy under PATH.

use crate::context::Context;
use crate::data_dir::modes;
use crate::output::print_json;
use anyhow::Context as _;
use passdesk_core::store::{inspect, Inspection};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::Connection;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the copy (a new file).
    pub path: PathBuf,
    /// Replace PATH if it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let source = ctx.open_store()?;
    let target = &args.path;
    if target.is_dir() {
        anyhow::bail!(
            "{} is a directory: give the backup file's name",
            target.display()
        );
    }
    // Without --force the name is claimed now, atomically: two backups, or a file that appears
    // meanwhile, are never overwritten. The claim is replaced by the finished copy.
    let claim = if args.force {
        None
    } else {
        Some(Claim::take(target)?)
    };
    let partial = Partial::new(target)?;
    let found = copy(source.conn(), partial.path())?;
    drop(source);
    partial.commit(target)?;
    if let Some(c) = claim {
        c.keep();
    }
    sync_parent(target);
    print_json(&json!({
        "backup": target,
        "bytes": std::fs::metadata(target).map(|m| m.len()).unwrap_or(0),
        "migration": found.migration,
        "passes": found.passes,
        "scans": found.scans,
        "ms": started.elapsed().as_millis() as u64,
    }))?;
    Ok(ExitCode::SUCCESS)
}

/// Copies the live database into `dest` (which exists, empty) and checks the copy.
fn copy(source: &Connection, dest: &Path) -> anyhow::Result<Inspection> {
    {
        let mut out = Connection::open(dest)
            .with_context(|| format!("cannot open {} for the copy", dest.display()))?;
        let backup = Backup::new(source, &mut out).context("cannot start the backup")?;
        // -1: every page in one step, one read transaction: a snapshot. Busy or locked only
        // while another connection holds an exclusive lock (a rollback-mode writer); in WAL
        // mode that is rare and short, so a few tries are enough.
        let mut tries = 0;
        loop {
            match backup.step(-1).context("the backup failed")? {
                StepResult::Done => break,
                StepResult::More => continue,
                StepResult::Busy | StepResult::Locked if tries < 50 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                StepResult::Busy | StepResult::Locked => {
                    anyhow::bail!("the database stayed locked for 5 s; try again")
                }
                _ => anyhow::bail!("the backup stopped for an unknown reason"),
            }
        }
    }
    let found = inspect(dest).map_err(|e| {
        anyhow::anyhow!("the copy is {e}; no backup was written (the database may be damaged)")
    })?;
    std::fs::File::open(dest)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot sync {}", dest.display()))?;
    Ok(found)
}

/// The name a backup will have, taken with an empty file that only this process created.
struct Claim {
    path: PathBuf,
    kept: bool,
}

impl Claim {
    fn take(path: &Path) -> anyhow::Result<Self> {
        match modes::new_private_file(path) {
            Ok(_) => Ok(Self {
                path: path.to_owned(),
                kept: false,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => anyhow::bail!(
                "{} exists: choose another name, or pass --force to replace it",
                path.display()
            ),
            Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
        }
    }

    fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The copy being written, beside its final name; removed (with any journal SQLite left
/// beside it) unless committed.
struct Partial {
    path: PathBuf,
    done: bool,
}

impl Partial {
    fn new(target: &Path) -> anyhow::Result<Self> {
        let name = target
            .file_name()
            .with_context(|| format!("{} has no file name", target.display()))?;
        let mut partial = name.to_owned();
        partial.push(format!(".partial-{}", std::process::id()));
        let path = target.with_file_name(partial);
        let _ = std::fs::remove_file(&path);
        modes::new_private_file(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Self { path, done: false })
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn commit(mut self, target: &Path) -> anyhow::Result<()> {
        std::fs::rename(&self.path, target)
            .with_context(|| format!("cannot move the copy to {}", target.display()))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.done {
            for suffix in ["", "-journal", "-wal", "-shm"] {
                let mut p = self.path.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

/// Makes a rename durable: the directory entry is synced too (where the platform allows).
pub(crate) fn sync_parent(path: &Path) {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(dir) = std::fs::File::open(parent) {
        let _ = dir.sync_all();
    }
}
