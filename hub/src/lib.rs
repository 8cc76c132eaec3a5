//! The hub for several counters: node enrollment, the change log every counter pushes to and
//! pulls from (`/sync/v1/…`, documents in `passdesk_core::sync::wire`), and the conflicts found
//! when changes meet. Stored in PostgreSQL (a chain: several hub processes over one database)
//! or an SQLite file (one site); the same code and the same tests over both.
//!
//! The hub's sequence is the only cursor: it numbers changes in commit order, so a reader that
//! has seen seq N has seen every change below it.
