//! Passdesk's domain: the pass cache, the check-in engine, signed pass tokens.
//!
//! Synchronous and free of I/O except SQLite. Knows nothing of HTTP, tokio, readers or windows.

pub mod api_keys;
pub mod catalog;
pub mod checkin;
pub mod decision;
pub mod holder_link;
pub mod hooks;
pub mod import;
pub mod issue_requests;
pub mod json_pointer;
pub mod keys;
pub mod local_day;
pub mod loyalty;
pub mod outbox;
pub mod pass;
pub mod pass_store;
pub mod passentry;
pub mod passentry_scan;
pub mod policy;
pub mod reader;
pub mod scan;
pub mod scan_log;
pub mod store;
pub mod sync;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod time;
pub mod token;
pub mod upstream;
pub mod wallet;
pub mod webhook;

pub use checkin::{checkin, checkin_batch};
pub use decision::{Decision, Reason, Verdict};
pub use store::{OpenMode, Store, StoreError};
pub use time::Timestamp;

/// The SQLite binding the store is built on, for callers that compose queries with the store's
/// connection.
pub use rusqlite;
