//! The hub's secrets: one-time enrollment tokens and node credentials. Each is 32 random bytes
//! (base64url) shown once; the hub keeps only its SHA-256, and compares hashes in constant
//! time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How an enrollment token starts (so a token pasted as a credential, or the reverse, is
/// told apart in an error).
pub const TOKEN_PREFIX: &str = "pdhe_";
/// How a node credential starts.
pub const CREDENTIAL_PREFIX: &str = "pdhn_";

/// The longest secret we hash: anything longer is not one of ours.
const MAX_SECRET_LEN: usize = 128;

/// A fresh secret: `prefix` + 32 random bytes, base64url without padding.
pub fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What the hub stores: SHA-256 of the secret, base64url. `None` for text that cannot be one
/// of our secrets (empty, too long).
pub fn hash(secret: &str) -> Option<String> {
    if secret.is_empty() || secret.len() > MAX_SECRET_LEN {
        return None;
    }
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes())))
}

/// Whether two stored hashes are equal, in constant time.
pub fn same_hash(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_fresh_and_hashes_compare() {
        let a = generate(CREDENTIAL_PREFIX);
        let b = generate(CREDENTIAL_PREFIX);
        assert_ne!(a, b);
        assert!(a.starts_with(CREDENTIAL_PREFIX));
        assert_eq!(a.len(), CREDENTIAL_PREFIX.len() + 43);
        let ha = hash(&a).unwrap();
        assert!(same_hash(&ha, &hash(&a).unwrap()));
        assert!(!same_hash(&ha, &hash(&b).unwrap()));
        assert_eq!(hash(""), None);
        assert_eq!(hash(&"x".repeat(500)), None);
    }
}
