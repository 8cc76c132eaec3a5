//! What a reader hands the check-in engine, parsed before any rule looks at it.

use crate::reader::Direction;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How the value was read. NFC kinds are kept apart because the audit log and the UI tell them
/// apart (an Apple VAS tap is proof of a wallet; a card UID is not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Medium {
    Qr,
    Nfc,
    NfcVas,
    NfcSmartTap,
    NfcNdef,
    NfcUid,
    Serial,
    Manual,
}

impl Medium {
    pub const ALL: [Medium; 8] = [
        Self::Qr,
        Self::Nfc,
        Self::NfcVas,
        Self::NfcSmartTap,
        Self::NfcNdef,
        Self::NfcUid,
        Self::Serial,
        Self::Manual,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Qr => "qr",
            Self::Nfc => "nfc",
            Self::NfcVas => "nfc_vas",
            Self::NfcSmartTap => "nfc_smart_tap",
            Self::NfcNdef => "nfc_ndef",
            Self::NfcUid => "nfc_uid",
            Self::Serial => "serial",
            Self::Manual => "manual",
        }
    }

    /// Read from an NFC chip (a phone's wallet, a tag, a card), not from a printed or shown
    /// code and not typed.
    pub fn is_nfc(self) -> bool {
        matches!(
            self,
            Self::Nfc | Self::NfcVas | Self::NfcSmartTap | Self::NfcNdef | Self::NfcUid
        )
    }
}

impl fmt::Display for Medium {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Medium {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("unknown medium {s:?} (expected qr, nfc, serial or manual)"))
    }
}

/// The longest value a scan may carry. A PD1 token is a few hundred bytes; a QR code holds at
/// most 2953 bytes. Anything longer is not a pass.
pub const MAX_VALUE_BYTES: usize = 4096;

/// How much of a rejected value the audit log keeps.
pub const LOG_PREVIEW_CHARS: usize = 256;

/// A scanned value that can name a pass: non-empty UTF-8 text without control characters, at
/// most [`MAX_VALUE_BYTES`], surrounding whitespace (a scanner's CR LF) removed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScanValue(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedValue {
    #[error("the value is empty")]
    Empty,
    #[error("the value is {len} bytes long; a pass value is at most {MAX_VALUE_BYTES}")]
    TooLong { len: usize },
    #[error("the value is not UTF-8 text (invalid byte at offset {offset})")]
    NotText { offset: usize },
    #[error("the value has a control character (U+{code:04X}) at character {index}")]
    ControlCharacter { code: u32, index: usize },
}

impl MalformedValue {
    pub fn code(&self) -> &'static str {
        "malformed_value"
    }
}

impl ScanValue {
    pub fn parse(raw: &[u8]) -> Result<Self, MalformedValue> {
        if raw.len() > MAX_VALUE_BYTES {
            return Err(MalformedValue::TooLong { len: raw.len() });
        }
        let text = std::str::from_utf8(raw).map_err(|e| MalformedValue::NotText {
            offset: e.valid_up_to(),
        })?;
        let text = text.trim();
        if text.is_empty() {
            return Err(MalformedValue::Empty);
        }
        if let Some((index, c)) = text.chars().enumerate().find(|(_, c)| c.is_control()) {
            return Err(MalformedValue::ControlCharacter {
                code: c as u32,
                index,
            });
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ScanValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A printable, bounded form of any raw value for the audit log: invalid UTF-8 replaced,
/// control characters escaped, cut to [`LOG_PREVIEW_CHARS`].
pub fn log_preview(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(&raw[..raw.len().min(LOG_PREVIEW_CHARS * 4)]);
    let mut out = String::new();
    for c in text.chars() {
        if out.chars().count() >= LOG_PREVIEW_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A reader id: 1 to 64 characters of `A-Z a-z 0-9 _ - . :`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ReaderId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid reader id {0:?}: use 1 to 64 letters, digits, '_', '-', '.' or ':'")]
pub struct InvalidReaderId(pub String);

impl ReaderId {
    pub fn parse(id: &str) -> Result<Self, InvalidReaderId> {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
        if ok {
            Ok(Self(id.to_owned()))
        } else {
            Err(InvalidReaderId(id.chars().take(80).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One read, as the engine receives it. `value` is raw bytes: a reader may send anything.
#[derive(Debug, Clone)]
pub struct ScanInput {
    pub value: Vec<u8>,
    pub reader_id: ReaderId,
    pub medium: Medium,
    /// `None`: the reader's default direction.
    pub direction: Option<Direction>,
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_scanner_line_endings() {
        assert_eq!(ScanValue::parse(b"ABC-1\r\n").unwrap().as_str(), "ABC-1");
    }

    #[test]
    fn rejects_bad_values_with_reasons() {
        assert_eq!(ScanValue::parse(b""), Err(MalformedValue::Empty));
        assert_eq!(ScanValue::parse(b" \r\n"), Err(MalformedValue::Empty));
        assert_eq!(
            ScanValue::parse(&vec![b'A'; 100 * 1024]),
            Err(MalformedValue::TooLong { len: 100 * 1024 })
        );
        assert_eq!(
            ScanValue::parse(b"ab\xff\xfe"),
            Err(MalformedValue::NotText { offset: 2 })
        );
        assert!(matches!(
            ScanValue::parse(b"ab\x00cd"),
            Err(MalformedValue::ControlCharacter { code: 0, index: 2 })
        ));
    }

    #[test]
    fn preview_is_bounded_and_printable() {
        let p = log_preview(&vec![0xffu8; 100_000]);
        assert!(p.chars().count() <= LOG_PREVIEW_CHARS + 1);
        assert_eq!(log_preview(b"a\x00b"), "a\\u{0}b");
    }

    #[test]
    fn reader_ids() {
        assert!(ReaderId::parse("gate-b.1").is_ok());
        assert!(ReaderId::parse("").is_err());
        assert!(ReaderId::parse("gate b").is_err());
        assert!(ReaderId::parse(&"x".repeat(65)).is_err());
    }
}
