//! Sync with a hub: what this node exports since its push cursor, how a batch pulled from the
//! hub is applied (idempotent by change id, in one transaction with the pull cursor), the
//! conflicts the hub reported, and this node's sync state. The same functions serve the hub's
//! import (a snapshot of a store as changes).
//!
//! Nothing here does network I/O: the service's sync worker carries the documents in `wire`.

pub mod apply;
pub mod conflicts;
pub mod export;
pub mod state;
pub mod wire;
