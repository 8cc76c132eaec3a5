//! The "Add to Google Wallet" link: a JWT (`typ: savetowallet`, `aud: google`) carrying the
//! class and the object, signed RS256 by the issuer's service account, after
//! `https://pay.google.com/gp/v/save/`. Made offline; Google checks the signature with the
//! account's public key when the holder opens the link.

use super::key::ServiceAccountKey;
use super::object::{
    EventTicketClass, EventTicketObject, GenericClass, GenericObject, GooglePass, LoyaltyClass,
    LoyaltyObject,
};
use super::GoogleWalletError;
use crate::time::Timestamp;
use jsonwebtoken::{Algorithm, Header};
use serde::{Deserialize, Serialize};

pub const SAVE_URL_PREFIX: &str = "https://pay.google.com/gp/v/save/";
/// Google's advice for a save link's length (browsers, mail and SMS cut longer ones); a link
/// past it still works where it is not cut, so it is logged rather than refused.
pub const SAVE_URL_SOFT_LIMIT: usize = 2000;

/// The JWT's claims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaveClaims {
    /// The service account's email.
    pub iss: String,
    /// Always `google`.
    pub aud: String,
    /// Always `savetowallet`.
    pub typ: String,
    /// Seconds since the epoch.
    pub iat: i64,
    /// Web origins that may show a save button with this JWT (may be empty for a link).
    pub origins: Vec<String>,
    pub payload: SavePayload,
}

/// What the link saves: one class and one object of one kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SavePayload {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub loyalty_classes: Vec<LoyaltyClass>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub loyalty_objects: Vec<LoyaltyObject>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub event_ticket_classes: Vec<EventTicketClass>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub event_ticket_objects: Vec<EventTicketObject>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub generic_classes: Vec<GenericClass>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub generic_objects: Vec<GenericObject>,
}

impl SavePayload {
    pub fn of(pass: &GooglePass) -> Self {
        match pass.clone() {
            GooglePass::Loyalty { class, object } => Self {
                loyalty_classes: vec![class],
                loyalty_objects: vec![object],
                ..Self::default()
            },
            GooglePass::EventTicket { class, object } => Self {
                event_ticket_classes: vec![class],
                event_ticket_objects: vec![object],
                ..Self::default()
            },
            GooglePass::Generic { class, object } => Self {
                generic_classes: vec![class],
                generic_objects: vec![object],
                ..Self::default()
            },
        }
    }
}

impl SaveClaims {
    pub fn new(
        key: &ServiceAccountKey,
        pass: &GooglePass,
        origins: &[String],
        now: Timestamp,
    ) -> Self {
        Self {
            iss: key.client_email().to_owned(),
            aud: "google".into(),
            typ: "savetowallet".into(),
            iat: now.unix_ms().div_euclid(1000),
            origins: origins.to_vec(),
            payload: SavePayload::of(pass),
        }
    }
}

/// The signed JWT: header `{alg: RS256, typ: JWT, kid: <private_key_id>}`.
pub fn save_jwt(
    key: &ServiceAccountKey,
    pass: &GooglePass,
    origins: &[String],
    now: Timestamp,
) -> Result<String, GoogleWalletError> {
    let header = Header {
        kid: Some(key.private_key_id().to_owned()),
        ..Header::new(Algorithm::RS256)
    };
    let claims = SaveClaims::new(key, pass, origins, now);
    jsonwebtoken::encode(&header, &claims, key.signing_key())
        .map_err(|e| GoogleWalletError::Sign(e.to_string()))
}

/// The link a phone opens to add the pass.
pub fn save_url(jwt: &str) -> String {
    format!("{SAVE_URL_PREFIX}{jwt}")
}
