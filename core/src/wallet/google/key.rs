//! The issuer's service-account key: Google's JSON key file (`type: service_account`,
//! `client_email`, `private_key_id`, `private_key` as a PKCS#8 PEM RSA key), read once and
//! kept ready to sign. Its `Debug` shows who it is (email, key id), never the key.

use super::GoogleWalletError;
use jsonwebtoken::EncodingKey;
use rsa::pkcs1::{DecodeRsaPrivateKey as _, EncodeRsaPrivateKey as _};
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::Value;
use std::fmt;

/// RFC 7518 §3.3: RS256 keys are 2048 bits or more (Google makes 2048-bit keys).
pub const MIN_KEY_BITS: usize = 2048;

/// A service account that signs "Add to Google Wallet" JWTs.
#[derive(Clone)]
pub struct ServiceAccountKey {
    client_email: String,
    private_key_id: String,
    /// PKCS#1 DER inside jsonwebtoken's key; never printed.
    signing_key: EncodingKey,
    public_key: RsaPublicKey,
}

impl fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

impl ServiceAccountKey {
    /// Reads the JSON key file as Google's console downloads it. Each error names the field
    /// that is missing or wrong; none quotes the key.
    pub fn from_json(bytes: &[u8]) -> Result<Self, GoogleWalletError> {
        // Parsed as a `Value` first: serde_json's syntax errors give a line and column only,
        // whereas a type error against a struct would quote what it found (perhaps the key).
        let doc: Value = serde_json::from_slice(bytes).map_err(|e| GoogleWalletError::KeyFile {
            field: "file",
            detail: format!(
                "not a JSON key file (line {}, column {})",
                e.line(),
                e.column()
            ),
        })?;
        let obj = doc.as_object().ok_or_else(|| GoogleWalletError::KeyFile {
            field: "file",
            detail: "expected a JSON object (Google's service account key file)".into(),
        })?;
        let text = |field: &'static str| -> Result<&str, GoogleWalletError> {
            match obj.get(field) {
                None | Some(Value::Null) => Err(GoogleWalletError::KeyFile {
                    field,
                    detail: "missing".into(),
                }),
                Some(Value::String(s)) if s.trim().is_empty() => Err(GoogleWalletError::KeyFile {
                    field,
                    detail: "empty".into(),
                }),
                Some(Value::String(s)) => Ok(s.trim()),
                Some(_) => Err(GoogleWalletError::KeyFile {
                    field,
                    detail: "expected a string".into(),
                }),
            }
        };
        let kind = text("type")?;
        if kind != "service_account" {
            return Err(GoogleWalletError::KeyFile {
                field: "type",
                detail: format!(
                    "{:?}, expected \"service_account\" (a service account's key, not an OAuth \
                     client's)",
                    kind.chars().take(40).collect::<String>()
                ),
            });
        }
        let client_email = text("client_email")?;
        if !client_email.contains('@') {
            return Err(GoogleWalletError::KeyFile {
                field: "client_email",
                detail: format!(
                    "{:?} is not an email address",
                    client_email.chars().take(64).collect::<String>()
                ),
            });
        }
        let private_key_id = text("private_key_id")?;
        let private_key = rsa_key(text("private_key")?)?;
        let bits = private_key.n().bits();
        if bits < MIN_KEY_BITS {
            return Err(GoogleWalletError::KeyFile {
                field: "private_key",
                detail: format!("a {bits}-bit RSA key; RS256 needs {MIN_KEY_BITS} bits or more"),
            });
        }
        // The DER is zeroized when dropped; jsonwebtoken keeps its own copy to sign with.
        let der = private_key
            .to_pkcs1_der()
            .map_err(|e| GoogleWalletError::KeyFile {
                field: "private_key",
                detail: format!("cannot be re-encoded: {e}"),
            })?;
        Ok(Self {
            client_email: client_email.to_owned(),
            private_key_id: private_key_id.to_owned(),
            signing_key: EncodingKey::from_rsa_der(der.as_bytes()),
            public_key: private_key.to_public_key(),
        })
    }

    /// A fresh 2048-bit account for a bench or a demo: Google knows nothing of it, so its
    /// links are refused by Google, but they cost exactly what a real account's do.
    pub fn generate(client_email: &str, private_key_id: &str) -> Result<Self, GoogleWalletError> {
        use rsa::pkcs8::EncodePrivateKey as _;
        let fail = |e: &dyn fmt::Display| GoogleWalletError::Sign(format!("making a key: {e}"));
        let key = RsaPrivateKey::new(&mut rand_core::OsRng, MIN_KEY_BITS).map_err(|e| fail(&e))?;
        let pem = key
            .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|e| fail(&e))?;
        let file = serde_json::json!({
            "type": "service_account",
            "client_email": client_email,
            "private_key_id": private_key_id,
            "private_key": pem.as_str(),
        });
        Self::from_json(file.to_string().as_bytes())
    }

    /// The JWT's `iss`.
    pub fn client_email(&self) -> &str {
        &self.client_email
    }

    /// The JWT header's `kid`: which of the account's keys signed, so Google checks with it.
    pub fn private_key_id(&self) -> &str {
        &self.private_key_id
    }

    /// The public half, as Google publishes it for the account.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public_key
    }

    pub(crate) fn signing_key(&self) -> &EncodingKey {
        &self.signing_key
    }
}

/// `private_key`: PKCS#8 PEM (`BEGIN PRIVATE KEY`, what Google writes), or PKCS#1 (`BEGIN RSA
/// PRIVATE KEY`) for a key converted by hand. Checked for consistency before use.
fn rsa_key(pem: &str) -> Result<RsaPrivateKey, GoogleWalletError> {
    let bad = |detail: String| GoogleWalletError::KeyFile {
        field: "private_key",
        detail,
    };
    let key = if pem.contains("BEGIN RSA PRIVATE KEY") {
        RsaPrivateKey::from_pkcs1_pem(pem)
            .map_err(|e| bad(format!("not a PKCS#1 PEM RSA private key ({e})")))?
    } else if pem.contains("BEGIN PRIVATE KEY") {
        RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| {
            bad(format!(
                "not a PKCS#8 PEM RSA private key ({e}); Google's keys are RSA"
            ))
        })?
    } else {
        return Err(bad(
            "expected a PEM private key (-----BEGIN PRIVATE KEY-----)".into(),
        ));
    };
    key.validate()
        .map_err(|e| bad(format!("an inconsistent RSA key ({e})")))?;
    Ok(key)
}
