//! The one thing this crate emits.

use serde::Serialize;
use std::time::SystemTime;

/// What kind of NFC read produced a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NfcKind {
    /// Apple Wallet, Value Added Services: the decrypted pass message.
    Vas,
    /// Google Wallet Smart Tap: the `smartTapRedemptionValue`.
    SmartTap,
    /// An NDEF text or URI record (tags, plastic cards with NDEF).
    Ndef,
    /// The card's UID, hex (plastic loyalty cards, tags without NDEF).
    Uid,
}

/// How a value was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "nfc")]
pub enum Medium {
    Nfc(NfcKind),
    Qr,
    Serial,
    Manual,
}

/// One read from one reader. `value` is raw bytes: the check-in engine decides whether they
/// are a pass value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    pub reader_id: String,
    pub medium: Medium,
    pub value: Vec<u8>,
    pub at: SystemTime,
}
