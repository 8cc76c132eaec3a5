//! Why a serial read gave no value. A read from a device is never an error of the program: it is
//! either a value or one of these, shown and logged, and the reader carries on.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RejectReason {
    /// More bytes than the maximum frame length without a terminator: the rest of the line is
    /// dropped up to the next terminator, so memory stays bounded.
    #[error("read longer than {max} bytes without a terminator; dropped up to the next one")]
    TooLong { max: usize },
    #[error("read does not start with the configured prefix")]
    MissingPrefix,
    #[error("read does not end with the configured postfix")]
    MissingPostfix,
    #[error("read is not valid UTF-8 (byte {at})")]
    InvalidUtf8 { at: usize },
    #[error("read contains control character 0x{byte:02X} at byte {at}")]
    ControlCharacter { at: usize, byte: u8 },
    #[error("read carries no value")]
    Empty,
    /// A VTAP pass-type character we do not turn into a scan (`E` card emulation, `X` / `W`
    /// Apple Wallet access, or anything undocumented).
    #[error("unsupported VTAP pass type {0:?}")]
    UnknownPassType(char),
}

impl RejectReason {
    /// A stable machine-readable code for JSON output and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLong { .. } => "too_long",
            Self::MissingPrefix => "missing_prefix",
            Self::MissingPostfix => "missing_postfix",
            Self::InvalidUtf8 { .. } => "invalid_utf8",
            Self::ControlCharacter { .. } => "control_character",
            Self::Empty => "empty",
            Self::UnknownPassType(_) => "unknown_pass_type",
        }
    }
}

/// A read that gave no value: why, and a short look at the bytes for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub reason: RejectReason,
    /// The first bytes of the read (at most [`PREVIEW_LEN`]), raw.
    pub preview: Vec<u8>,
}

/// How much of a rejected read is kept to show: enough to recognise it, never a whole 64 KB line.
pub const PREVIEW_LEN: usize = 32;

impl Rejected {
    pub fn new(reason: RejectReason, raw: &[u8]) -> Self {
        Self {
            reason,
            preview: raw[..raw.len().min(PREVIEW_LEN)].to_vec(),
        }
    }
}
