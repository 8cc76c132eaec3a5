//! Apple VAS: the GET DATA command, its response, and the cryptogram's decryption.
//!
//! Cryptogram = `keyId(4) ‖ ephX(32) ‖ ciphertext ‖ tag(16)`; the key is ECDH(reader key,
//! `02 ‖ ephX`) through a one-block ANSI X9.63 KDF (SHA-256), the cipher AES-256-GCM with a
//! 16-byte zero IV; the plaintext is a u32 BE timestamp (seconds since 2001-01-01) and the
//! pass's NFC message.

use crate::nfc::apdu::{Command, Response, StatusWord};
use crate::nfc::error::TapError;
use crate::nfc::keys::VasReaderKey;
use crate::nfc::tlv;
use aes_gcm::aead::consts::U16;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use aes_gcm::AesGcm;
use p256::PublicKey;
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use zeroize::Zeroizing;

/// 2001-01-01T00:00:00Z in Unix seconds: Apple's reference date.
pub const APPLE_EPOCH_UNIX: u64 = 978_307_200;
/// Default freshness window: a phone's clock and the reader's may differ by a little, and a
/// replayed capture must not pass for a new tap.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(60);
/// The pass message is at most 64 bytes; leave room for longer ones from future iOS but refuse
/// absurd sizes before doing any crypto.
const MAX_CRYPTOGRAM: usize = 4 + 32 + 4 + 256 + 16;
const MIN_CRYPTOGRAM: usize = 4 + 32 + 4 + 16;
/// AES-256-GCM with a 16-byte nonce: Apple's choice, not the stock 12-byte `Aes256Gcm`.
type VasCipher = AesGcm<Aes256, U16>;
const ZERO_IV: [u8; 16] = [0; 16];

/// Terminal capabilities `9F26`: VAS supported, VAS only (no payment).
pub const CAPABILITIES_VAS_ONLY: [u8; 4] = [0x00, 0x80, 0x00, 0x02];
/// Set in the last capabilities byte when another GET DATA follows in the same tap.
pub const CAPABILITY_MORE_FOLLOWS: u8 = 0x80;

/// One GET DATA: ask the phone for the pass of one pass type.
#[derive(Debug, Clone, Default)]
pub struct VasRequest<'a> {
    pub pass_type_id: &'a str,
    /// Another GET DATA (another pass type) follows in this tap.
    pub more_follows: bool,
    /// `9F28`: a reader nonce.
    pub nonce: Option<[u8; 4]>,
    /// `9F29`: a sign-up URL offered when the phone has no pass.
    pub signup_url: Option<&'a str>,
    /// `9F2B`: a filter, `01xxxxxxxx`.
    pub filter: Option<[u8; 5]>,
}

pub fn merchant_id(pass_type_id: &str) -> [u8; 32] {
    Sha256::digest(pass_type_id.as_bytes()).into()
}

/// `80 CA 01 01 Lc <TLVs> 00`.
pub fn get_data_command(req: &VasRequest<'_>) -> Command {
    let mut caps = CAPABILITIES_VAS_ONLY;
    if req.more_follows {
        caps[3] |= CAPABILITY_MORE_FOLLOWS;
    }
    let mut body = Vec::with_capacity(64);
    tlv::encode_into(&mut body, 0x9F22, &[0x01, 0x00]);
    tlv::encode_into(&mut body, 0x9F25, &merchant_id(req.pass_type_id));
    tlv::encode_into(&mut body, 0x9F26, &caps);
    if let Some(n) = req.nonce {
        tlv::encode_into(&mut body, 0x9F28, &n);
    }
    if let Some(url) = req.signup_url {
        tlv::encode_into(&mut body, 0x9F29, url.as_bytes());
    }
    if let Some(f) = req.filter {
        tlv::encode_into(&mut body, 0x9F2B, &f);
    }
    Command::new(0x80, 0xCA, 0x01, 0x01)
        .with_data(body)
        .with_le(0x00)
}

/// What the phone sent back for a pass: `70 { 9F2A token, 9F27 cryptogram }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VasResponse {
    pub token: Vec<u8>,
    pub cryptogram: Vec<u8>,
}

/// Interprets the status word first (the customer-facing cases), then the TLVs.
pub fn parse_get_data(resp: &Response) -> Result<VasResponse, TapError> {
    match resp.sw {
        StatusWord::OK => {}
        StatusWord(0x6A83) => return Err(TapError::NoPassForShop),
        StatusWord(0x6287) => return Err(TapError::PhoneLocked(resp.sw)),
        StatusWord(0x6984) => return Err(TapError::ChoosePass(resp.sw)),
        sw => {
            return Err(TapError::Status {
                command: "VAS GET DATA",
                sw,
            })
        }
    }
    let cryptogram = tlv::find(&resp.data, 0x9F27)?
        .ok_or_else(|| TapError::malformed("VAS response", "no 9F27 cryptogram"))?;
    let token = tlv::find(&resp.data, 0x9F2A)?.unwrap_or_default();
    Ok(VasResponse {
        token: token.to_vec(),
        cryptogram: cryptogram.to_vec(),
    })
}

/// A decrypted VAS read.
#[derive(Clone, PartialEq, Eq)]
pub struct VasPayload {
    /// Seconds since 2001-01-01T00:00:00Z, by the phone's clock.
    pub timestamp: u32,
    /// The pass's NFC message.
    pub message: String,
}

impl VasPayload {
    pub fn at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(APPLE_EPOCH_UNIX + u64::from(self.timestamp))
    }

    pub fn unix_secs(&self) -> u64 {
        APPLE_EPOCH_UNIX + u64::from(self.timestamp)
    }

    /// Refuses a read whose phone time is more than `max_age` away from `now` either way
    /// (a replayed old cryptogram, or a badly set clock on either side).
    pub fn check_fresh(&self, now: SystemTime, max_age: Duration) -> Result<(), TapError> {
        let now_secs = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let age = now_secs - self.unix_secs() as i64;
        if age.unsigned_abs() > max_age.as_secs() {
            return Err(TapError::Stale {
                age_secs: age,
                max_secs: max_age.as_secs(),
            });
        }
        Ok(())
    }
}

// The message is the pass's identifier, not a secret, but keep Debug short and uniform.
impl std::fmt::Debug for VasPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VasPayload")
            .field("timestamp", &self.timestamp)
            .field("message", &self.message)
            .finish()
    }
}

/// The two SharedInfo layouts seen in the wild. `Standard` is the one every public capture
/// uses; `Aad` is a fallback some implementations try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Variant {
    Standard,
    Aad,
}

/// ANSI X9.63 KDF, SHA-256, one 32-byte block: `SHA256(Z ‖ 00000001 ‖ SharedInfo)`. This is
/// the KDF's definition composed from `sha2`, not a new primitive.
pub(crate) fn derive_key(z: &[u8], pass_type_id: &str, variant: Variant) -> Zeroizing<[u8; 32]> {
    let mut h = Sha256::new();
    h.update(z);
    h.update(1u32.to_be_bytes());
    match variant {
        Variant::Standard => {
            h.update([0x0D]);
            h.update(b"id-aes256-GCM");
            h.update(b"ApplePay encrypted VAS data");
            h.update(merchant_id(pass_type_id));
        }
        Variant::Aad => h.update(b"ApplePay encrypted VAS data"),
    }
    Zeroizing::new(h.finalize().into())
}

pub(crate) fn cipher(key: &[u8; 32]) -> VasCipher {
    VasCipher::new(key.into())
}

pub(crate) fn zero_iv() -> &'static aes_gcm::Nonce<U16> {
    (&ZERO_IV).into()
}

/// Decrypts a cryptogram with whichever of `keys` its keyId names.
pub fn decrypt(
    cryptogram: &[u8],
    pass_type_id: &str,
    keys: &[VasReaderKey],
) -> Result<VasPayload, TapError> {
    if !(MIN_CRYPTOGRAM..=MAX_CRYPTOGRAM).contains(&cryptogram.len()) {
        return Err(TapError::malformed(
            "VAS cryptogram",
            format!(
                "{} bytes, expected {MIN_CRYPTOGRAM}..={MAX_CRYPTOGRAM}",
                cryptogram.len()
            ),
        ));
    }
    let (key_id, rest) = cryptogram.split_at(4);
    let (eph_x, sealed) = rest.split_at(32);
    let key_id_hex: String = key_id.iter().map(|b| format!("{b:02x}")).collect();
    let mut candidates = keys.iter().filter(|k| k.key_id() == key_id).peekable();
    if candidates.peek().is_none() {
        return Err(TapError::UnknownKeyId(key_id_hex));
    }
    let mut sec1 = [0u8; 33];
    sec1[0] = 0x02;
    sec1[1..].copy_from_slice(eph_x);
    let device = PublicKey::from_sec1_bytes(&sec1)
        .map_err(|_| TapError::malformed("VAS cryptogram", "ephemeral X is not on P-256"))?;
    let aad = merchant_id(pass_type_id);
    // Several keys may share a keyId only by accident; try each, both variants.
    for key in candidates {
        let shared =
            p256::ecdh::diffie_hellman(key.secret().to_nonzero_scalar(), device.as_affine());
        let z = shared.raw_secret_bytes();
        for variant in [Variant::Standard, Variant::Aad] {
            let k = derive_key(z, pass_type_id, variant);
            let payload = match variant {
                Variant::Standard => Payload::from(sealed),
                Variant::Aad => Payload {
                    msg: sealed,
                    aad: &aad,
                },
            };
            if let Ok(plain) = cipher(&k).decrypt(zero_iv(), payload) {
                return parse_plaintext(&plain);
            }
        }
    }
    Err(TapError::DecryptFailed {
        key_id: key_id_hex,
        pass_type_id: pass_type_id.to_owned(),
    })
}

fn parse_plaintext(plain: &[u8]) -> Result<VasPayload, TapError> {
    let (ts, msg) = plain
        .split_first_chunk::<4>()
        .ok_or_else(|| TapError::malformed("VAS plaintext", "shorter than its timestamp"))?;
    let message = String::from_utf8(msg.to_vec())
        .map_err(|_| TapError::malformed("VAS message", "not UTF-8"))?;
    Ok(VasPayload {
        timestamp: u32::from_be_bytes(*ts),
        message,
    })
}

#[cfg(test)]
mod tests;
