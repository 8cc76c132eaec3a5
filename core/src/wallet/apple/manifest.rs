//! `manifest.json`: every file of the package but the manifest and the signature, each with the
//! lowercase hex SHA-1 of its bytes, as Apple's package format asks.

use sha1::{Digest, Sha1};
use std::collections::BTreeMap;

/// Lowercase hex SHA-1 of some bytes.
pub fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

/// The manifest of these files (name → bytes), names in order.
pub fn manifest_json<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Vec<u8> {
    let manifest: BTreeMap<&str, String> = files
        .into_iter()
        .map(|(name, bytes)| (name, sha1_hex(bytes)))
        .collect();
    serde_json::to_vec_pretty(&manifest).expect("a map of strings serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_sha1_hex_and_names_sorted() {
        // FIPS 180's "abc".
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        let m = manifest_json([("pass.json", &b"{}"[..]), ("icon.png", &b"abc"[..])]);
        let m: serde_json::Value = serde_json::from_slice(&m).unwrap();
        assert_eq!(
            m,
            serde_json::json!({
                "icon.png": "a9993e364706816aba3e25717850c26c9cd0d89d",
                "pass.json": sha1_hex(b"{}"),
            })
        );
    }
}
