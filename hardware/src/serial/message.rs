//! From a frame to the text of one read: strip the configured prefix and postfix, then insist on
//! printable UTF-8 (a pass value is text; anything else is line noise or a misconfiguration).

use super::reject::RejectReason;
use thiserror::Error;

/// What a device puts around every read (VTAP `ComPortPrefix` / `ComPortPostfix`, a scanner's
/// configured prefix and suffix). Empty means none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Affixes {
    pub prefix: Vec<u8>,
    pub postfix: Vec<u8>,
}

impl Affixes {
    /// The text inside `frame`, or why there is none.
    pub fn text<'a>(&self, frame: &'a [u8]) -> Result<&'a str, RejectReason> {
        let inner = frame
            .strip_prefix(self.prefix.as_slice())
            .ok_or(RejectReason::MissingPrefix)?;
        let inner = inner
            .strip_suffix(self.postfix.as_slice())
            .ok_or(RejectReason::MissingPostfix)?;
        let text = std::str::from_utf8(inner).map_err(|e| RejectReason::InvalidUtf8 {
            at: self.prefix.len() + e.valid_up_to(),
        })?;
        if let Some((at, c)) = text.char_indices().find(|(_, c)| c.is_control()) {
            return Err(RejectReason::ControlCharacter {
                at: self.prefix.len() + at,
                // Control characters in UTF-8 text are ASCII or C1; C1 shows as its code point.
                byte: u8::try_from(u32::from(c)).unwrap_or(0xFF),
            });
        }
        if text.is_empty() {
            return Err(RejectReason::Empty);
        }
        Ok(text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("bad escape in {text:?}: use \\r, \\n, \\t, \\\\ or \\xHH")]
pub struct BadEscape {
    pub text: String,
}

/// Prefixes are often control bytes (STX, ETX): the command line takes them as `\x02`, `\r`, ...
pub fn unescape(text: &str) -> Result<Vec<u8>, BadEscape> {
    let bad = || BadEscape {
        text: text.to_owned(),
    };
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next().ok_or_else(bad)? {
            b'r' => out.push(b'\r'),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'\\' => out.push(b'\\'),
            b'x' => {
                let hex = [bytes.next().ok_or_else(bad)?, bytes.next().ok_or_else(bad)?];
                let hex = std::str::from_utf8(&hex).map_err(|_| bad())?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            }
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn affixes(prefix: &str, postfix: &str) -> Affixes {
        Affixes {
            prefix: prefix.into(),
            postfix: postfix.into(),
        }
    }

    #[test]
    fn strips_prefix_and_postfix() {
        let a = affixes("<<", ">>");
        assert_eq!(a.text(b"<<pass-1>>"), Ok("pass-1"));
        assert_eq!(a.text(b"pass-1>>"), Err(RejectReason::MissingPrefix));
        assert_eq!(a.text(b"<<pass-1"), Err(RejectReason::MissingPostfix));
        assert_eq!(a.text(b"<<>>"), Err(RejectReason::Empty));
        assert_eq!(Affixes::default().text("café".as_bytes()), Ok("café"));
    }

    #[test]
    fn garbage_is_a_reason_not_a_panic() {
        let a = affixes("P", "");
        assert_eq!(
            a.text(b"Pab\xFF\xFE"),
            Err(RejectReason::InvalidUtf8 { at: 3 })
        );
        assert_eq!(
            a.text(b"Pab\x00c"),
            Err(RejectReason::ControlCharacter { at: 3, byte: 0 })
        );
        assert_eq!(
            a.text("Pa\u{85}".as_bytes()),
            Err(RejectReason::ControlCharacter { at: 2, byte: 0x85 })
        );
        // Every single byte and a few pairs: never a panic.
        for b in 0..=255u8 {
            let _ = a.text(&[b]);
            let _ = a.text(&[b'P', b, 0xC3]);
        }
    }

    #[test]
    fn unescapes_command_line_affixes() {
        assert_eq!(unescape(r"\x02ab\r\n\t\\").unwrap(), b"\x02ab\r\n\t\\");
        assert_eq!(unescape("plain").unwrap(), b"plain");
        for bad in [r"\", r"\q", r"\x4", r"\xZZ", r"\xé"] {
            assert!(unescape(bad).is_err(), "{bad}");
        }
    }
}
