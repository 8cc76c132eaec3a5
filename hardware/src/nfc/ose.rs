//! The answer to `SELECT OSE.VAS.01`: which wallet is on the phone, and what it offers.
//!
//! One SELECT tells Apple (`50` = `ApplePay`) from Google (`AndroidPay`); Google's 2.1 answer
//! also carries the Smart Tap device nonce and ephemeral key, saving a second SELECT.

use crate::nfc::tlv::{self, TlvError};

/// ASCII "OSE.VAS.01".
pub const OSE_AID: &[u8] = b"OSE.VAS.01";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wallet {
    Apple,
    Google,
    Unknown,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OseInfo {
    /// Tag `50`, lossily decoded for logs.
    pub label: Option<String>,
    /// `9F21`, e.g. `0100`.
    pub vas_version: Option<Vec<u8>>,
    /// `9F24`, 4 bytes.
    pub vas_nonce: Option<[u8; 4]>,
    /// `9F23`, 4 bytes.
    pub mobile_capabilities: Option<[u8; 4]>,
    /// `C2`: Smart Tap device nonce (32).
    pub smart_tap_nonce: Option<[u8; 32]>,
    /// `C3`: Smart Tap device ephemeral public key (33, compressed).
    pub smart_tap_device_key: Option<[u8; 33]>,
    /// `DF62` bit 0: the Smart Tap 2 SELECT may be skipped.
    pub smart_tap_skip_select: bool,
}

impl OseInfo {
    pub fn wallet(&self) -> Wallet {
        match self.label.as_deref() {
            Some("ApplePay") => Wallet::Apple,
            Some("AndroidPay") => Wallet::Google,
            // No or another label: go by what the phone sent.
            _ if self.smart_tap_nonce.is_some() => Wallet::Google,
            _ if self.vas_nonce.is_some() || self.vas_version.is_some() => Wallet::Apple,
            _ => Wallet::Unknown,
        }
    }
}

/// Parses the FCI. Fields of the wrong size are treated as absent rather than trusted.
pub fn parse(fci: &[u8]) -> Result<OseInfo, TlvError> {
    let get =
        |tag| -> Result<Option<Vec<u8>>, TlvError> { Ok(tlv::find(fci, tag)?.map(<[u8]>::to_vec)) };
    Ok(OseInfo {
        label: tlv::find(fci, 0x50)?.map(|l| String::from_utf8_lossy(l).into_owned()),
        vas_version: get(0x9F21)?,
        vas_nonce: get(0x9F24)?.and_then(|v| v.try_into().ok()),
        mobile_capabilities: get(0x9F23)?.and_then(|v| v.try_into().ok()),
        smart_tap_nonce: get(0xC2)?.and_then(|v| v.try_into().ok()),
        smart_tap_device_key: get(0xC3)?.and_then(|v| v.try_into().ok()),
        smart_tap_skip_select: tlv::find(fci, 0xDF62)?
            .and_then(|f| f.last())
            .is_some_and(|b| b & 0x01 != 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nfc::tlv::encode;

    #[test]
    fn apple_and_google_fci() {
        let apple = encode(
            0x6F,
            &[
                encode(0x50, b"ApplePay"),
                encode(0x9F21, &[1, 0]),
                encode(0x9F24, &[1, 2, 3, 4]),
                encode(0x9F23, &[0, 0, 0, 0]),
            ]
            .concat(),
        );
        let i = parse(&apple).unwrap();
        assert_eq!(i.wallet(), Wallet::Apple);
        assert_eq!(i.vas_nonce, Some([1, 2, 3, 4]));
        let google = encode(
            0x6F,
            &encode(
                0xA5,
                &[
                    encode(0x50, b"AndroidPay"),
                    encode(0xC2, &[7; 32]),
                    encode(0xC3, &[2; 33]),
                    encode(0xDF62, &[0x01]),
                ]
                .concat(),
            ),
        );
        let g = parse(&google).unwrap();
        assert_eq!(g.wallet(), Wallet::Google);
        assert!(g.smart_tap_skip_select);
        assert_eq!(g.smart_tap_nonce, Some([7; 32]));
        // A nonce of the wrong size is not trusted.
        let odd = encode(0x6F, &encode(0xC2, &[7; 31]));
        assert_eq!(parse(&odd).unwrap().smart_tap_nonce, None);
        assert_eq!(parse(&odd).unwrap().wallet(), Wallet::Unknown);
        assert!(parse(&[0x6F, 0x10, 0x50]).is_err());
    }
}
