//! Apple Wallet: the signed `.pkpass`, built on the counter without the internet.
//!
//! `pass_json` (a pass, its template's design, its loyalty → Apple's `pass.json`), `manifest`
//! (SHA-1 of every file), `sign` (`PassSigner`: the Pass Type ID certificate, its key and
//! Apple's WWDR intermediate; the detached CMS signature over the manifest), `package` (the
//! zip, `build_pkpass`). Pure: the caller reads the files and gives the time.

pub mod manifest;
pub mod package;
pub mod pass_json;
pub mod sign;

pub use manifest::{manifest_json, sha1_hex};
pub use package::{build_pkpass, PassImages, PKPASS_MEDIA_TYPE};
pub use pass_json::{pass_json, AppleIdentity, PassInputs, PassJson, WebService};
pub use sign::PassSigner;

/// Why a `.pkpass` (or its signer) could not be made. Every variant names what was wrong and
/// which input; none carries key material.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// A certificate or key file's contents could not be read (`what`: `certificate`, `key`,
    /// `wwdr`).
    #[error("{what}: {detail}")]
    Credential { what: &'static str, detail: String },
    #[error("the key is not the Pass Type ID certificate's key (their public keys differ)")]
    KeyMismatch,
    #[error(
        "the Pass Type ID certificate was issued by {issuer:?}, not by the WWDR certificate \
         given ({wwdr:?}): configure the WWDR intermediate that issued it"
    )]
    WrongIntermediate { issuer: String, wwdr: String },
    #[error("pass {pass_id}: {detail}")]
    Pass { pass_id: String, detail: String },
    #[error("image {name}: {detail}")]
    Image { name: String, detail: String },
    #[error("signing the manifest failed: {0}")]
    Sign(String),
    #[error("writing the .pkpass zip failed: {0}")]
    Zip(String),
}
