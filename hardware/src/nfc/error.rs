//! Why a tap gave no scan, with the words the cashier (and through them the customer) sees.

use crate::nfc::apdu::{ApduError, StatusWord};
use crate::nfc::tlv::TlvError;
use thiserror::Error;

/// The reader or the link to the card failed (card taken away, reader unplugged, pcscd gone).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransportError {
    #[error("the card or phone left the reader")]
    CardRemoved,
    #[error("reader I/O failed: {0}")]
    Io(String),
}

/// Everything a tap can end in other than a scan. `Display` is for logs (what failed, on
/// which input); [`TapError::user_message`] is for the screen.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TapError {
    #[error("phone is locked (status {0})")]
    PhoneLocked(StatusWord),
    #[error("phone has no pass for this merchant (status 6A83)")]
    NoPassForShop,
    #[error("customer must choose a pass on the phone (status {0})")]
    ChoosePass(StatusWord),
    #[error("phone refused the reader's Smart Tap collector key (status 9500)")]
    ReaderKeyRejected,
    #[error("phone stayed busy (status {0}) after retries")]
    PhoneBusy(StatusWord),
    #[error("VAS read is {age_secs} s from the reader clock, beyond the {max_secs} s window")]
    Stale { age_secs: i64, max_secs: u64 },
    #[error("VAS cryptogram is for keyId {0}, which this reader does not hold")]
    UnknownKeyId(String),
    #[error("VAS cryptogram for keyId {key_id} does not decrypt for pass type {pass_type_id:?}")]
    DecryptFailed {
        key_id: String,
        pass_type_id: String,
    },
    #[error("Smart Tap record bundle failed its HMAC check")]
    BadMac,
    #[error("{0} wallet detected but this reader is not configured for it")]
    NotConfigured(&'static str),
    #[error("malformed {what}: {detail}")]
    Malformed { what: &'static str, detail: String },
    #[error("unexpected status {sw} to {command}")]
    Status {
        command: &'static str,
        sw: StatusWord,
    },
    #[error("card answered neither as a wallet, an NDEF tag nor with a UID")]
    Unreadable,
    #[error(transparent)]
    Transport(#[from] TransportError),
}

impl TapError {
    pub fn malformed(what: &'static str, detail: impl std::fmt::Display) -> Self {
        Self::Malformed {
            what,
            detail: detail.to_string(),
        }
    }

    /// What to show at the counter.
    pub fn user_message(&self) -> &'static str {
        match self {
            Self::PhoneLocked(_) => "Unlock your phone and tap again",
            Self::NoPassForShop => "No pass for this shop on the phone",
            Self::ChoosePass(_) => "Choose the pass on the phone, then tap again",
            Self::ReaderKeyRejected => {
                "Reader key not accepted by the phone: check the Smart Tap settings"
            }
            Self::PhoneBusy(_) => "Hold the phone still and tap again",
            Self::Stale { .. } => "Tap again (the read was not fresh; check the reader's clock)",
            Self::UnknownKeyId(_) => {
                "This pass is for another reader key: check the Apple VAS settings"
            }
            // The keyId and the merchant id matched, so a failed tag check means the bytes were
            // damaged on the way (or cut short), not a configuration problem.
            Self::DecryptFailed { .. }
            | Self::BadMac
            | Self::Malformed { .. }
            | Self::Status { .. } => "Could not read the phone: tap again",
            Self::NotConfigured(_) => "This reader is not set up for this wallet",
            Self::Unreadable => "Nothing readable on this card",
            Self::Transport(_) => "Tap again and hold the phone or card still",
        }
    }

    /// The customer can fix this by tapping again (as opposed to a configuration problem).
    pub fn tap_again(&self) -> bool {
        !matches!(
            self,
            Self::NoPassForShop
                | Self::ReaderKeyRejected
                | Self::UnknownKeyId(_)
                | Self::NotConfigured(_)
                | Self::Unreadable
        )
    }
}

impl From<TlvError> for TapError {
    fn from(e: TlvError) -> Self {
        Self::malformed("BER-TLV", e)
    }
}

impl From<ApduError> for TapError {
    fn from(e: ApduError) -> Self {
        Self::malformed("APDU", e)
    }
}
