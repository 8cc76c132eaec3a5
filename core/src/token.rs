//! PD1 pass tokens: `PD1.<base64url payload>.<base64url signature>`.
//!
//! The payload is compact JSON naming the pass, its template and event and its validity window;
//! the signature is ECDSA P-256 / SHA-256 (64 bytes, r || s) over the ASCII bytes
//! `PD1.<base64url payload>`, made with the issuing node's key. Any counter that trusts that
//! node's public key can admit the pass offline, even before the pass reaches its cache.

use crate::time::Timestamp;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "PD1.";

/// The node's signing key. Debug output never shows the secret.
#[derive(Clone)]
pub struct NodeKey {
    signing: SigningKey,
    key_id: String,
}

impl std::fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the stored node key is not a P-256 PKCS#8 key")]
pub struct InvalidNodeKey;

impl NodeKey {
    pub fn generate() -> Self {
        Self::from_signing(SigningKey::random(&mut rand_core::OsRng))
    }

    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, InvalidNodeKey> {
        SigningKey::from_pkcs8_der(der)
            .map(Self::from_signing)
            .map_err(|_| InvalidNodeKey)
    }

    pub fn to_pkcs8_der(&self) -> Vec<u8> {
        self.signing
            .to_pkcs8_der()
            .expect("a valid P-256 key always encodes as PKCS#8")
            .as_bytes()
            .to_vec()
    }

    fn from_signing(signing: SigningKey) -> Self {
        let key_id = key_id_of(signing.verifying_key());
        Self { signing, key_id }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// SEC1 compressed public point, as stored in `node_keys` and synced to other nodes.
    pub fn public_sec1(&self) -> Vec<u8> {
        self.signing
            .verifying_key()
            .to_encoded_point(true)
            .as_bytes()
            .to_vec()
    }

    /// Signs `claims` (whose `kid` is set to this key) into a PD1 token.
    pub fn sign(&self, mut claims: TokenClaims) -> String {
        claims.kid = self.key_id.clone();
        let payload = serde_json::to_vec(&claims).expect("claims always serialise");
        let signing_input = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(payload));
        let signature: Signature = self.signing.sign(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    }
}

/// A key id: hex of the first 8 bytes of SHA-256 over the SEC1 compressed public key.
pub fn key_id_of(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.to_encoded_point(true).as_bytes());
    hex::encode(&digest[..8])
}

/// Parses a stored SEC1 public key.
pub fn verifying_key_from_sec1(bytes: &[u8]) -> Option<VerifyingKey> {
    VerifyingKey::from_sec1_bytes(bytes).ok()
}

/// What a token says. Short names keep the QR code small.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenClaims {
    /// Token id (UUIDv7): what a revocation names.
    pub tid: String,
    /// Pass id.
    pub pid: String,
    /// Template id.
    pub tpl: String,
    /// Event id, for tickets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evt: Option<String>,
    /// Valid from, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Valid until, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issued at, unix seconds.
    pub iat: i64,
    /// Id of the signing key.
    pub kid: String,
}

impl TokenClaims {
    pub fn valid_from(&self) -> Option<Timestamp> {
        self.nbf
            .map(|s| Timestamp::from_unix_ms(s.saturating_mul(1000)))
    }
    pub fn valid_until(&self) -> Option<Timestamp> {
        self.exp
            .map(|s| Timestamp::from_unix_ms(s.saturating_mul(1000)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("broken token encoding: {0}")]
    Encoding(&'static str),
    #[error("token signed by unknown key {0:?}")]
    UnknownKey(String),
    #[error("token signature does not match")]
    BadSignature,
    #[error("token {0} has been revoked")]
    Revoked(String),
}

/// A token whose encoding is sound but whose signature has not been checked yet.
#[derive(Debug, Clone)]
pub struct UnverifiedToken<'a> {
    pub claims: TokenClaims,
    signing_input: &'a str,
    signature: Signature,
}

/// Is this value meant to be a PD1 token? (Then a failure to parse it is `invalid_token`, not
/// `unknown_pass`.)
pub fn looks_like_token(value: &str) -> bool {
    value.starts_with(PREFIX)
}

pub fn parse(token: &str) -> Result<UnverifiedToken<'_>, TokenError> {
    let rest = token
        .strip_prefix(PREFIX)
        .ok_or(TokenError::Encoding("missing PD1. prefix"))?;
    let (payload_b64, sig_b64) = rest
        .split_once('.')
        .ok_or(TokenError::Encoding("missing signature part"))?;
    if sig_b64.contains('.') {
        return Err(TokenError::Encoding("too many parts"));
    }
    let payload = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| TokenError::Encoding("payload is not base64url"))?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig_b64)
        .map_err(|_| TokenError::Encoding("signature is not base64url"))?;
    let signature = Signature::from_slice(&sig)
        .map_err(|_| TokenError::Encoding("signature is not 64 bytes"))?;
    let claims: TokenClaims = serde_json::from_slice(&payload)
        .map_err(|_| TokenError::Encoding("payload is not PD1 claims JSON"))?;
    if claims.pid.is_empty() || claims.tpl.is_empty() || claims.tid.is_empty() {
        return Err(TokenError::Encoding(
            "payload lacks a pass, template or token id",
        ));
    }
    let signing_input = &token[..PREFIX.len() + payload_b64.len()];
    Ok(UnverifiedToken {
        claims,
        signing_input,
        signature,
    })
}

impl UnverifiedToken<'_> {
    pub fn verify(self, key: &VerifyingKey) -> Result<TokenClaims, TokenError> {
        key.verify(self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| TokenError::BadSignature)?;
        Ok(self.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> TokenClaims {
        TokenClaims {
            tid: "t1".into(),
            pid: "p1".into(),
            tpl: "tpl".into(),
            evt: Some("ev".into()),
            nbf: Some(1),
            exp: Some(2_000_000_000),
            iat: 1,
            kid: String::new(),
        }
    }

    #[test]
    fn sign_parse_verify_round_trip() {
        let key = NodeKey::generate();
        let token = key.sign(claims());
        let vk = verifying_key_from_sec1(&key.public_sec1()).unwrap();
        let parsed = parse(&token).unwrap();
        assert_eq!(parsed.claims.kid, key.key_id());
        assert_eq!(parsed.verify(&vk).unwrap().pid, "p1");
    }

    #[test]
    fn pkcs8_round_trip_keeps_key_id() {
        let key = NodeKey::generate();
        let back = NodeKey::from_pkcs8_der(&key.to_pkcs8_der()).unwrap();
        assert_eq!(back.key_id(), key.key_id());
        assert!(NodeKey::from_pkcs8_der(b"junk").is_err());
    }

    #[test]
    fn other_key_or_tampered_payload_fails() {
        let key = NodeKey::generate();
        let other = NodeKey::generate();
        let token = key.sign(claims());
        let other_vk = verifying_key_from_sec1(&other.public_sec1()).unwrap();
        assert_eq!(
            parse(&token).unwrap().verify(&other_vk).unwrap_err(),
            TokenError::BadSignature
        );

        // Re-encode a payload for another pass under the original signature.
        let mut c = claims();
        c.pid = "p2".into();
        c.kid = key.key_id().into();
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap());
        let sig = token.rsplit('.').next().unwrap();
        let forged = format!("PD1.{forged_payload}.{sig}");
        let vk = verifying_key_from_sec1(&key.public_sec1()).unwrap();
        assert_eq!(
            parse(&forged).unwrap().verify(&vk).unwrap_err(),
            TokenError::BadSignature
        );
    }

    #[test]
    fn broken_encodings_are_named() {
        let key = NodeKey::generate();
        let token = key.sign(claims());
        for bad in [
            "PD1.",
            "PD1.abc",
            "PD1.!!!.abc",
            "PD1.e30.AAAA",
            &token[..token.len() - 5],
            &format!("{token}.x"),
        ] {
            assert!(matches!(parse(bad), Err(TokenError::Encoding(_))), "{bad}");
        }
    }
}
