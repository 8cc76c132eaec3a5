//! What a read means: a dot-origin VTAP tags every read with a pass-type character; a plain
//! barcode scanner sends the bare value.
//!
//! VTAP pass-type characters (VTAP documentation, "Pass type character"), and what we make of
//! them:
//!
//! | char | VTAP meaning | `Medium` |
//! |---|---|---|
//! | `A` | Apple VAS pass (decrypted by the VTAP) | `Nfc(Vas)` |
//! | `G` | Google Smart Tap pass (decrypted by the VTAP) | `Nfc(SmartTap)` |
//! | `0` | MIFARE card / tag | `Nfc(Uid)` |
//! | `2` | NFC Forum type 2 card / tag | `Nfc(Uid)` |
//! | `4` | NFC Forum type 4 card / tag | `Nfc(Uid)` |
//! | `6` | NFC Forum type 5 card / tag | `Nfc(Uid)` |
//! | `Q` | input from a scanner attached to the VTAP | `Qr` |
//!
//! Anything else (`E` card emulation, `X` / `W` Apple Wallet access, undocumented characters) is
//! rejected as `unknown_pass_type`: it is not a pass value we can decide on. For card types the
//! value is what the VTAP writes (the UID or tag payload as text), unchanged.
//!
//! The character is put there by the VTAP's `ComPortPrefix` / `ComPortPostfix`, so where it
//! sits is configuration: first character after the prefix (the usual setup) or last before
//! the postfix.

use super::reject::RejectReason;
use crate::{Medium, NfcKind};

/// Where the VTAP puts its pass-type character.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TypeCharAt {
    #[default]
    Leading,
    Trailing,
}

/// How to read the text of one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// A VTAP: a pass-type character, then (or before it) the value.
    Vtap(TypeCharAt),
    /// A plain scanner: the whole text is the value, read through this medium
    /// (`Serial`, or `Qr` for a QR scanner).
    Plain(Medium),
}

impl Default for Mapping {
    fn default() -> Self {
        Self::Plain(Medium::Serial)
    }
}

/// The medium for a VTAP pass-type character.
pub fn medium_for(type_char: char) -> Option<Medium> {
    match type_char {
        'A' => Some(Medium::Nfc(NfcKind::Vas)),
        'G' => Some(Medium::Nfc(NfcKind::SmartTap)),
        '0' | '2' | '4' | '6' => Some(Medium::Nfc(NfcKind::Uid)),
        'Q' => Some(Medium::Qr),
        _ => None,
    }
}

impl Mapping {
    /// The medium and the value of one read's text.
    pub fn apply<'a>(&self, text: &'a str) -> Result<(Medium, &'a str), RejectReason> {
        let (medium, value) = match *self {
            Self::Plain(medium) => (medium, text),
            Self::Vtap(at) => {
                let mut chars = text.chars();
                let c = match at {
                    TypeCharAt::Leading => chars.next(),
                    TypeCharAt::Trailing => chars.next_back(),
                }
                .ok_or(RejectReason::Empty)?;
                let medium = medium_for(c).ok_or(RejectReason::UnknownPassType(c))?;
                (medium, chars.as_str())
            }
        };
        if value.is_empty() {
            return Err(RejectReason::Empty);
        }
        Ok((medium, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vtap_characters_map_to_media() {
        let m = Mapping::Vtap(TypeCharAt::Leading);
        assert_eq!(
            m.apply("Apass-1"),
            Ok((Medium::Nfc(NfcKind::Vas), "pass-1"))
        );
        assert_eq!(
            m.apply("Gpass-2"),
            Ok((Medium::Nfc(NfcKind::SmartTap), "pass-2"))
        );
        for c in ['0', '2', '4', '6'] {
            assert_eq!(
                m.apply(&format!("{c}04A1B2C3")),
                Ok((Medium::Nfc(NfcKind::Uid), "04A1B2C3"))
            );
        }
        assert_eq!(m.apply("QPD1.abc.def"), Ok((Medium::Qr, "PD1.abc.def")));
        assert_eq!(m.apply("Epass"), Err(RejectReason::UnknownPassType('E')));
        assert_eq!(m.apply("épass"), Err(RejectReason::UnknownPassType('é')));
        assert_eq!(m.apply("A"), Err(RejectReason::Empty));
        assert_eq!(m.apply(""), Err(RejectReason::Empty));
    }

    #[test]
    fn the_character_may_trail() {
        let m = Mapping::Vtap(TypeCharAt::Trailing);
        assert_eq!(
            m.apply("pass-1G"),
            Ok((Medium::Nfc(NfcKind::SmartTap), "pass-1"))
        );
        assert_eq!(m.apply("pass-1x"), Err(RejectReason::UnknownPassType('x')));
    }

    #[test]
    fn plain_scanners_keep_the_whole_text() {
        assert_eq!(
            Mapping::default().apply("Apass"),
            Ok((Medium::Serial, "Apass"))
        );
        assert_eq!(Mapping::Plain(Medium::Qr).apply("x"), Ok((Medium::Qr, "x")));
    }
}
