//! NFC: Apple VAS, Google Smart Tap, NDEF tags and card UIDs.
//!
//! Everything here is pure protocol code over [`ApduTransport`]; the PC/SC shell is a thin
//! transport. Nothing a card sends can panic: every parser is bounded and returns errors.

pub mod apdu;
pub mod error;
pub mod keys;
pub mod ndef;
pub mod ose;
pub mod session;
pub mod smarttap;
pub mod tlv;
pub mod transport;
pub mod type4;
pub mod vas;

#[cfg(any(test, feature = "sim"))]
pub mod sim;

pub use error::{TapError, TransportError};
pub use keys::{CollectorKey, KeyError, VasReaderKey};
pub use session::{read_tap, TapConfig, VasConfig};
pub use smarttap::SmartTapConfig;
pub use transport::ApduTransport;
