//! Smart Tap 2.1 session crypto, composed from RustCrypto: ECDSA P-256 (reader proof), ECDH +
//! HKDF-SHA256 (session keys), HMAC-SHA256 then AES-128-CTR (record bundle), zlib (flate2).

use crate::nfc::error::TapError;
use aes::Aes128;
use ctr::cipher::{KeyIvInit, StreamCipher};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::io::Read;
use zeroize::Zeroizing;

type Ctr = ctr::Ctr32BE<Aes128>;
type HmacSha256 = Hmac<Sha256>;

pub const IV_LEN: usize = 12;
pub const MAC_LEN: usize = 32;
/// A decompressed bundle holds a handful of records; cap inflation against zip bombs.
pub const MAX_INFLATED: u64 = 64 * 1024;

/// What the collector signs: `readerNonce ‖ deviceNonce ‖ collectorId(4) ‖ readerEphPub(33)`.
pub fn signed_data(
    reader_nonce: &[u8; 32],
    device_nonce: &[u8; 32],
    collector_id: u32,
    reader_eph: &[u8; 33],
) -> Vec<u8> {
    let mut d = Vec::with_capacity(32 + 32 + 4 + 33);
    d.extend_from_slice(reader_nonce);
    d.extend_from_slice(device_nonce);
    d.extend_from_slice(&collector_id.to_be_bytes());
    d.extend_from_slice(reader_eph);
    d
}

pub struct SessionKeys {
    aes: Zeroizing<[u8; 16]>,
    mac: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys { .. }")
    }
}

impl SessionKeys {
    /// HKDF-SHA256(IKM = Z, salt = device ephemeral key bytes, info, L = 48): AES key first,
    /// then the HMAC key. `info` = `readerNonce ‖ deviceNonce ‖ collectorId ‖ readerEphPub ‖
    /// signatureDER`, binding the keys to this negotiation.
    pub fn derive(z: &[u8], device_key: &[u8], info: &[u8]) -> Self {
        let mut okm = Zeroizing::new([0u8; 48]);
        // 48 <= 255 * 32: expand cannot fail for this length.
        let _ = Hkdf::<Sha256>::new(Some(device_key), z).expand(info, okm.as_mut());
        let mut aes = Zeroizing::new([0u8; 16]);
        let mut mac = Zeroizing::new([0u8; 32]);
        aes.copy_from_slice(&okm[..16]);
        mac.copy_from_slice(&okm[16..]);
        Self { aes, mac }
    }

    fn hmac(&self) -> HmacSha256 {
        // HMAC takes keys of any length.
        <HmacSha256 as Mac>::new_from_slice(self.mac.as_ref()).expect("HMAC accepts any key length")
    }

    fn ctr(&self, iv: &[u8; IV_LEN]) -> Ctr {
        let mut block = [0u8; 16];
        block[..IV_LEN].copy_from_slice(iv);
        Ctr::new(self.aes.as_ref().into(), &block.into())
    }

    /// `IV ‖ ciphertext ‖ HMAC`: checks the MAC in constant time, then decrypts.
    pub fn open(&self, body: &[u8]) -> Result<Vec<u8>, TapError> {
        if body.len() < IV_LEN + MAC_LEN {
            return Err(TapError::malformed(
                "Smart Tap record bundle",
                format!("{} bytes", body.len()),
            ));
        }
        let (signed, tag) = body.split_at(body.len() - MAC_LEN);
        let mut mac = self.hmac();
        mac.update(signed);
        mac.verify_slice(tag).map_err(|_| TapError::BadMac)?;
        let (iv, ct) = signed.split_at(IV_LEN);
        let mut iv_arr = [0u8; IV_LEN];
        iv_arr.copy_from_slice(iv);
        let mut plain = ct.to_vec();
        self.ctr(&iv_arr).apply_keystream(&mut plain);
        Ok(plain)
    }

    /// The handset's side of [`SessionKeys::open`] (simulators, tests).
    pub fn seal(&self, iv: &[u8; IV_LEN], plain: &[u8]) -> Vec<u8> {
        let mut out = iv.to_vec();
        let mut ct = plain.to_vec();
        self.ctr(iv).apply_keystream(&mut ct);
        out.extend_from_slice(&ct);
        let mut mac = self.hmac();
        mac.update(&out);
        out.extend_from_slice(&mac.finalize().into_bytes());
        out
    }
}

/// zlib inflate, refusing more than [`MAX_INFLATED`] bytes of output.
pub fn inflate(data: &[u8]) -> Result<Vec<u8>, TapError> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(data)
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut out)
        .map_err(|e| TapError::malformed("Smart Tap zlib bundle", e))?;
    if out.len() as u64 > MAX_INFLATED {
        return Err(TapError::malformed(
            "Smart Tap zlib bundle",
            "inflates beyond 64 KiB",
        ));
    }
    Ok(out)
}

pub fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_tamper() {
        let k = SessionKeys::derive(&[1; 32], &[2; 33], b"info");
        let body = k.seal(&[3; 12], b"hello smart tap");
        assert_eq!(k.open(&body).unwrap(), b"hello smart tap");
        for i in 0..body.len() {
            let mut t = body.clone();
            t[i] ^= 0x80;
            assert!(k.open(&t).is_err(), "byte {i}");
        }
        for n in 0..body.len() {
            assert!(k.open(&body[..n]).is_err());
        }
        let other = SessionKeys::derive(&[1; 32], &[2; 33], b"other info");
        assert_eq!(other.open(&body), Err(TapError::BadMac));
        assert_eq!(format!("{k:?}"), "SessionKeys { .. }");
    }

    #[test]
    fn inflate_round_trip_garbage_and_bombs() {
        assert_eq!(inflate(&deflate(b"abc")).unwrap(), b"abc");
        assert!(inflate(b"not zlib").is_err());
        assert!(inflate(&[]).is_err());
        let bomb = deflate(&vec![0u8; 1 << 20]);
        assert!(inflate(&bomb).is_err());
        let d = deflate(b"some longer text to compress, some longer text");
        for n in 0..d.len() {
            let _ = inflate(&d[..n]);
        }
    }
}
