//! PassEntry as upstream: this counter keeps a copy of a PassEntry account's passes (the pull)
//! and tells PassEntry what happened here (the push queue). Pure over SQLite; the HTTP client
//! and the loops are the service's (`service/src/workers/upstream`).
//!
//! - [`page`]: a PassEntry list page (JSON:API `data` / `meta`) read and checked.
//! - [`pull`]: cycles of pages, each applied with its progress; the sweep that voids what
//!   PassEntry no longer has.
//! - [`queue`]: outbox events → request rows with the cursor; their states; read-back.
//! - [`state`]: the attachment, the cursor, the status document.

pub mod page;
pub mod pull;
pub mod queue;
pub mod state;
