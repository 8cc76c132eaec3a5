//! Everything that talks to a device. Emits one type, [`Scan`]: who read what, how, when.
//!
//! Invariants: knows nothing of passes, rules or SQLite; protocol code is pure (bytes in, bytes
//! or values out) and unit-testable without a device; device code is a thin shell around it.
//! No input from a device may panic the process.

pub mod camera;
pub mod nfc;
pub mod pcsc;
pub mod qr;
pub mod scan;
pub mod serial;

pub use scan::{Medium, NfcKind, Scan};
