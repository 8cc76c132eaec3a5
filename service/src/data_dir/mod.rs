//! The data directory: what guards it. [`modes`]: 0700 for the directory and 0600 for the
//! files Passdesk writes in it, checked and corrected at every open. [`lock`]: the advisory
//! lock every process using the database holds, which `passdesk restore` needs alone.

pub mod lock;
pub mod modes;

pub use lock::{DataDirLock, LockError, LOCK_FILE};
