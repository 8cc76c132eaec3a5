//! Reader private keys (Apple VAS) and collector keys (Google Smart Tap), loaded from PEM or
//! DER, SEC1 (`EC PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`), all parsed by p256 itself.
//!
//! Secrets: neither type prints its scalar in `Debug`; only the public key id is shown.

use p256::ecdsa::SigningKey;
use p256::pkcs8::DecodePrivateKey;
use p256::{PublicKey, SecretKey};
use sha2::{Digest, Sha256};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    #[error("not a P-256 private key in PEM or DER (SEC1 or PKCS#8)")]
    Unrecognised,
    #[error("PEM private key could not be read: {0}")]
    BadPem(String),
    #[error("cannot read the key file {path}: {detail}")]
    File { path: String, detail: String },
    // The inner error is in the message, not a `source`, so chains print it once.
    #[error("key file {path}: {error}")]
    InFile { path: String, error: Box<KeyError> },
}

/// Reads and parses a key file; the file's bytes are wiped from memory afterwards, and errors
/// name the file, never its contents.
pub fn load_secret_key_file(path: &std::path::Path) -> Result<SecretKey, KeyError> {
    let shown = path.display().to_string();
    let bytes = zeroize::Zeroizing::new(std::fs::read(path).map_err(|e| KeyError::File {
        path: shown.clone(),
        detail: e.to_string(),
    })?);
    load_secret_key(&bytes).map_err(|e| KeyError::InFile {
        path: shown,
        error: Box::new(e),
    })
}

/// Reads a P-256 private key in any of the four usual encodings. PEM is recognised by its
/// `-----BEGIN` line; the error never echoes the input (it is a secret).
pub fn load_secret_key(bytes: &[u8]) -> Result<SecretKey, KeyError> {
    let text = std::str::from_utf8(bytes).ok().map(str::trim);
    if let Some(pem) = text.filter(|t| t.starts_with("-----BEGIN")) {
        // `openssl ecparam -genkey` writes an `EC PARAMETERS` block first: take only the key.
        if let Some(block) = pem_block(pem, "EC PRIVATE KEY") {
            return SecretKey::from_sec1_pem(block).map_err(|e| KeyError::BadPem(e.to_string()));
        }
        if let Some(block) = pem_block(pem, "PRIVATE KEY") {
            return SecretKey::from_pkcs8_pem(block).map_err(|e| KeyError::BadPem(e.to_string()));
        }
        return Err(KeyError::Unrecognised);
    }
    SecretKey::from_sec1_der(bytes)
        .or_else(|_| SecretKey::from_pkcs8_der(bytes))
        .map_err(|_| KeyError::Unrecognised)
}

/// The text from `-----BEGIN {label}-----` to its `-----END {label}-----`, inclusive.
fn pem_block<'a>(pem: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)?;
    let stop = start + pem[start..].find(&end)? + end.len();
    Some(&pem[start..stop])
}

/// `keyId` of a VAS reader key: the first 4 bytes of SHA-256 of its public X coordinate.
pub fn vas_key_id(public: &PublicKey) -> [u8; 4] {
    let point = p256::EncodedPoint::from(public);
    // An uncompressed point of a valid public key always has X; the fallback is unreachable
    // but keeps this total.
    let x = point.x().map(|x| x.to_vec()).unwrap_or_default();
    let digest = Sha256::digest(&x);
    [digest[0], digest[1], digest[2], digest[3]]
}

/// An Apple VAS reader private key with its precomputed `keyId`.
#[derive(Clone)]
pub struct VasReaderKey {
    secret: SecretKey,
    key_id: [u8; 4],
}

impl VasReaderKey {
    pub fn new(secret: SecretKey) -> Self {
        let key_id = vas_key_id(&secret.public_key());
        Self { secret, key_id }
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        load_secret_key(bytes).map(Self::new)
    }

    pub fn from_file(path: &std::path::Path) -> Result<Self, KeyError> {
        load_secret_key_file(path).map(Self::new)
    }

    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    pub fn public_key(&self) -> PublicKey {
        self.secret.public_key()
    }

    pub(crate) fn secret(&self) -> &SecretKey {
        &self.secret
    }
}

impl std::fmt::Debug for VasReaderKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VasReaderKey")
            .field("key_id", &hex_string(&self.key_id))
            .finish_non_exhaustive()
    }
}

/// A Google Smart Tap collector: its id, the key version registered with Google, and the
/// long-term signing key that proves this reader may read the collector's passes.
#[derive(Clone)]
pub struct CollectorKey {
    pub collector_id: u32,
    pub key_version: u32,
    signing: SigningKey,
}

impl CollectorKey {
    pub fn new(collector_id: u32, key_version: u32, secret: &SecretKey) -> Self {
        Self {
            collector_id,
            key_version,
            signing: SigningKey::from(secret),
        }
    }

    pub fn from_bytes(collector_id: u32, key_version: u32, bytes: &[u8]) -> Result<Self, KeyError> {
        load_secret_key(bytes).map(|s| Self::new(collector_id, key_version, &s))
    }

    pub fn from_file(
        collector_id: u32,
        key_version: u32,
        path: &std::path::Path,
    ) -> Result<Self, KeyError> {
        load_secret_key_file(path).map(|s| Self::new(collector_id, key_version, &s))
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    pub fn verifying_key(&self) -> p256::ecdsa::VerifyingKey {
        *self.signing.verifying_key()
    }
}

impl std::fmt::Debug for CollectorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CollectorKey")
            .field("collector_id", &self.collector_id)
            .field("key_version", &self.key_version)
            .finish_non_exhaustive()
    }
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::pkcs8::{EncodePrivateKey, LineEnding};

    const D: &str = "3d1547f23cd78ad052a58860f1219e8fb791ec4dfe33769f5b9bfa627a656ca1";

    fn demo() -> SecretKey {
        SecretKey::from_slice(&hex::decode(D).unwrap()).unwrap()
    }

    #[test]
    fn all_four_encodings_load_to_the_same_key_with_the_published_key_id() {
        let k = demo();
        let sec1_pem = k.to_sec1_pem(LineEnding::LF).unwrap();
        let sec1_der = k.to_sec1_der().unwrap();
        let p8_pem = k.to_pkcs8_pem(LineEnding::LF).unwrap();
        let p8_der = k.to_pkcs8_der().unwrap();
        for bytes in [
            sec1_pem.as_bytes(),
            &sec1_der[..],
            p8_pem.as_bytes(),
            p8_der.as_bytes(),
        ] {
            let key = VasReaderKey::from_bytes(bytes).unwrap();
            assert_eq!(hex::encode(key.key_id()), "c0b77375");
        }
        // As `openssl ecparam -genkey` writes it: parameters first, then the key.
        let with_params = format!(
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{}",
            sec1_pem.as_str()
        );
        let key = VasReaderKey::from_bytes(with_params.as_bytes()).unwrap();
        assert_eq!(hex::encode(key.key_id()), "c0b77375");
    }

    #[test]
    fn garbage_is_refused_and_debug_hides_the_secret() {
        assert_eq!(load_secret_key(b"").unwrap_err(), KeyError::Unrecognised);
        assert_eq!(
            load_secret_key(b"hello").unwrap_err(),
            KeyError::Unrecognised
        );
        assert!(load_secret_key(
            b"-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----"
        )
        .is_err());
        assert!(load_secret_key(b"-----BEGIN CERTIFICATE-----\n").is_err());
        assert!(load_secret_key(b"-----BEGIN EC PRIVATE KEY-----\nAAAA").is_err());
        let key = VasReaderKey::new(demo());
        let shown = format!("{key:?}");
        assert!(shown.contains("c0b77375"));
        assert!(!shown.contains("3d1547") && !shown.to_lowercase().contains(&D[..16]));
        let c = CollectorKey::new(20180608, 1, &demo());
        assert!(!format!("{c:?}").contains("3d15"));
    }
}
