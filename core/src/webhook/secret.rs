//! A subscription's secret: `whsec_` and the base64 of 32 random bytes, as Standard Webhooks
//! libraries take it. Shown on create and on rotate, never logged.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use rand_core::{OsRng, RngCore};

/// What marks a secret whose key is the base64 after it (the Standard Webhooks convention).
const PREFIX: &str = "whsec_";

/// Random bytes in a generated secret (256 bits, the HMAC-SHA256 block's worth of key).
const GENERATED_BYTES: usize = 32;

/// The key lengths the Standard Webhooks specification allows a `whsec_` secret (24 to 64
/// bytes).
const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;

/// The lengths a plain-text secret may have.
const TEXT_CHARS: std::ops::RangeInclusive<usize> = 16..=256;

/// Standard base64, padded or not: receivers' libraries print both (`b64decode(s + "==")` is
/// how the Python library reads them).
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A webhook signing secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A new random secret (`whsec_` + base64 of 32 bytes from the OS).
    pub fn generate() -> Secret {
        let mut key = [0u8; GENERATED_BYTES];
        OsRng.fill_bytes(&mut key);
        Secret(format!("{PREFIX}{}", STANDARD.encode(key)))
    }

    /// A secret given by a person (`--secret`): `whsec_<base64>` (its bytes are the decoded
    /// base64) or any other text of 16 to 256 printable characters (its bytes are the text's).
    pub fn parse(text: &str) -> Result<Secret, String> {
        if let Some(encoded) = text.strip_prefix(PREFIX) {
            let key = LENIENT_BASE64.decode(encoded).map_err(|e| {
                format!("the secret starts with {PREFIX} but what follows is not base64 ({e})")
            })?;
            if !KEY_BYTES.contains(&key.len()) {
                return Err(format!(
                    "a {PREFIX} secret must hold {} to {} bytes of key, this one holds {}",
                    KEY_BYTES.start(),
                    KEY_BYTES.end(),
                    key.len()
                ));
            }
            return Ok(Secret(text.to_owned()));
        }
        let chars = text.chars().count();
        if !TEXT_CHARS.contains(&chars) {
            return Err(format!(
                "a secret must be {PREFIX}<base64> or {} to {} printable characters, not {chars}",
                TEXT_CHARS.start(),
                TEXT_CHARS.end()
            ));
        }
        // It travels in headers and on command lines: visible ASCII only, no spaces.
        if let Some(bad) = text.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(format!(
                "a secret may hold only printable ASCII characters without spaces, not {bad:?}"
            ));
        }
        Ok(Secret(text.to_owned()))
    }

    /// The text as stored and shown.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The HMAC key of the Standard Webhooks signature: the decoded base64 after `whsec_`, as
    /// the specification's libraries read it, or a plain secret's own bytes.
    pub fn standard_key(&self) -> Vec<u8> {
        match self.0.strip_prefix(PREFIX) {
            // `parse` and `generate` only make `whsec_` secrets whose rest decodes.
            Some(encoded) => LENIENT_BASE64
                .decode(encoded)
                .expect("a whsec_ secret was checked when it was made"),
            None => self.0.as_bytes().to_vec(),
        }
    }

    /// The HMAC key of PassEntry's `X-Webhook-Signature`: the secret's text as shown, which is
    /// what a receiver configured with that text keys its HMAC with.
    pub fn text_key(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_whsec_of_32_random_bytes() {
        let a = Secret::generate();
        let b = Secret::generate();
        assert_ne!(a, b);
        assert!(a.expose().starts_with("whsec_"));
        assert_eq!(a.standard_key().len(), 32);
        assert_eq!(Secret::parse(a.expose()).unwrap(), a);
    }

    #[test]
    fn whsec_key_is_the_decoded_base64_padded_or_not() {
        let key: Vec<u8> = (0u8..24).collect();
        let padded = format!("whsec_{}", STANDARD.encode(&key));
        let unpadded = padded.trim_end_matches('=').to_owned();
        for text in [padded, unpadded] {
            let s = Secret::parse(&text).unwrap();
            assert_eq!(s.standard_key(), key);
            assert_eq!(s.text_key(), text.as_bytes());
        }
    }

    #[test]
    fn plain_text_secret_keys_with_its_own_bytes() {
        let s = Secret::parse("a-shared-secret-from-passentry").unwrap();
        assert_eq!(s.standard_key(), b"a-shared-secret-from-passentry");
    }

    #[test]
    fn refuses_what_cannot_sign() {
        for bad in [
            "",
            "short",
            "whsec_not base64!",
            "whsec_AAAA",                      // 3 bytes of key
            "sixteen chars ok but spaced",     // a space
            "tab\there-and-more-characters",   // a control character
            "ünïcödé-secret-of-enough-length", // not ASCII
        ] {
            assert!(Secret::parse(bad).is_err(), "{bad:?} was taken");
        }
        assert!(Secret::parse(&"x".repeat(257)).is_err());
        let long_key = format!("whsec_{}", STANDARD.encode([7u8; 65]));
        assert!(Secret::parse(&long_key).is_err());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let s = Secret::generate();
        assert!(!format!("{s:?}").contains(&s.expose()[6..]));
    }
}
