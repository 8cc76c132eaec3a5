//! A subscription's secret: `whsec_` and the base64 of 32 random bytes, as Standard Webhooks
//! libraries take it. Shown on create and on rotate, never logged.

/// A webhook signing secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A new random secret (`whsec_` + base64 of 32 bytes from the OS).
    pub fn generate() -> Secret {
        todo!("formats helper")
    }

    /// A secret given by a person (`--secret`): `whsec_<base64>` (its bytes are the decoded
    /// base64) or any other text of 16 to 256 printable characters (its bytes are the text's).
    pub fn parse(text: &str) -> Result<Secret, String> {
        todo!("formats helper: {text}")
    }

    /// The text as stored and shown.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The HMAC key of the Standard Webhooks signature.
    pub fn standard_key(&self) -> Vec<u8> {
        todo!("formats helper")
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}
