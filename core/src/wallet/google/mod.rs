//! Google Wallet: the "Add to Google Wallet" link, made on the counter without the internet.
//!
//! `key` (`ServiceAccountKey`: the issuer's service-account JSON key file, read once), `id`
//! (class and object ids in the characters Google allows), `object` (a pass, its template's
//! design, its loyalty → Google's class and object: loyalty for a store card, event ticket for
//! a ticket, generic for anything else), `save` (the signed `savetowallet` JWT and its
//! `https://pay.google.com/gp/v/save/<jwt>` link). Pure: the caller reads the files and gives
//! the time. The customer's phone does the rest: Google makes the class and object from the
//! JWT when the holder taps "Add".

pub mod id;
pub mod key;
pub mod object;
pub mod save;

pub use id::{class_id, object_id, IssuerId};
pub use key::ServiceAccountKey;
pub use object::{GoogleInputs, GoogleIssuer, GooglePass};
pub use save::{save_jwt, save_url, SaveClaims, SAVE_URL_PREFIX, SAVE_URL_SOFT_LIMIT};

/// Why a Google Wallet link (or its signer) could not be made. Every variant names what was
/// wrong and which input; none carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GoogleWalletError {
    /// The service-account key file: which field, and what is wrong with it.
    #[error("service account key file: {field}: {detail}")]
    KeyFile { field: &'static str, detail: String },
    /// `[wallet.google] issuer_id`.
    #[error("issuer_id: {0}")]
    IssuerId(String),
    #[error("pass {pass_id}: {detail}")]
    Pass { pass_id: String, detail: String },
    #[error("signing the Google Wallet JWT failed: {0}")]
    Sign(String),
}

#[cfg(test)]
mod tests;
