//! Outbound webhooks: the outbox's events rendered in the providers' formats, signed, and the
//! tables that make their delivery durable (subscriptions, one delivery per subscription and
//! event, every attempt logged).
//!
//! Pure where it can be: a format is bytes out of an [`event::Event`]; the headers and their
//! signatures are functions of the secret, the event id, the time and the body. The network is
//! the service's (`service/src/workers/webhooks.rs`); this module only reads and writes SQLite.

pub mod deliveries;
pub mod event;
pub mod facts;
pub mod fanout;
pub mod passcreator;
pub mod passentry;
pub mod resource;
pub mod retention;
pub mod secret;
pub mod signature;
pub mod skycore_json;
pub mod skycore_xml;
pub mod standard;
pub mod subscriptions;
#[cfg(test)]
mod testkit;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The body format a subscription receives. Every format also carries the Standard Webhooks
/// headers (`signature::headers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Format {
    /// PassEntry's JSON:API webhook (`data.attributes.webhookType`), `X-Webhook-Signature`.
    #[serde(rename = "passentry")]
    PassEntry,
    /// Passcreator's flat pass hook JSON (`pass_created`, ...).
    #[serde(rename = "passcreator")]
    Passcreator,
    /// Skycore's XML pass postback (`<POSTBACK>`, GENERATE_PASS, N801).
    #[serde(rename = "skycore-xml")]
    SkycoreXml,
    /// Skycore's wallet JSON postback (`status-code` N801, N806).
    #[serde(rename = "skycore-json")]
    SkycoreJson,
    /// The Standard Webhooks envelope `{type, timestamp, data}`.
    #[serde(rename = "standard")]
    Standard,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::PassEntry,
        Format::Passcreator,
        Format::SkycoreXml,
        Format::SkycoreJson,
        Format::Standard,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PassEntry => "passentry",
            Self::Passcreator => "passcreator",
            Self::SkycoreXml => "skycore-xml",
            Self::SkycoreJson => "skycore-json",
            Self::Standard => "standard",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown webhook format {s:?}: one of passentry, passcreator, skycore-xml, skycore-json, standard"
                )
            })
    }
}

/// What happened, in PassEntry's words (`subscribedEvents`, `webhookType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    PassCreated,
    PassUpdated,
    PassVoided,
    /// Every scan decision, accepted or not (`successful`).
    PassTapped,
    PassLoyaltyUpdated,
    PassConflict,
    /// `POST /webhook-subscriptions/{id}/test`: sent to one subscription only.
    WebhookTest,
}

impl EventType {
    /// What a subscription may name in `subscribedEvents` (the test event is never subscribed
    /// to: it goes to the subscription it tests).
    pub const SUBSCRIBABLE: [EventType; 6] = [
        EventType::PassCreated,
        EventType::PassUpdated,
        EventType::PassVoided,
        EventType::PassTapped,
        EventType::PassLoyaltyUpdated,
        EventType::PassConflict,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PassCreated => "passCreated",
            Self::PassUpdated => "passUpdated",
            Self::PassVoided => "passVoided",
            Self::PassTapped => "passTapped",
            Self::PassLoyaltyUpdated => "passLoyaltyUpdated",
            Self::PassConflict => "passConflict",
            Self::WebhookTest => "webhookTest",
        }
    }

    /// The event an outbox topic is, if it is one a webhook carries (`passImported` is not:
    /// an import copies passes that exist elsewhere already).
    pub fn from_topic(topic: &str) -> Option<EventType> {
        EventType::SUBSCRIBABLE
            .into_iter()
            .find(|e| e.as_str() == topic)
    }

    /// A name from `subscribedEvents`: PassEntry's names, `passScanned` as `passTapped`'s alias.
    pub fn parse_subscribed(name: &str) -> Result<EventType, String> {
        if name == "passScanned" {
            return Ok(EventType::PassTapped);
        }
        EventType::from_topic(name).ok_or_else(|| {
            format!(
                "unknown event {name:?}: one of passCreated, passUpdated, passVoided, passTapped (or passScanned), passLoyaltyUpdated, passConflict"
            )
        })
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event rendered in one format: what the worker posts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The format's own word for the event (`passTapped`, `pass_created`, `N801`,
    /// `GENERATE_PASS`), sent as `X-Passdesk-Event` and kept in the delivery log.
    pub event_name: String,
    /// `application/json` or `application/xml`.
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// The event in the subscription's format, or `None` where the format has no word for it
/// (such an event is not sent to that subscription).
pub fn render(format: Format, event: &event::Event) -> Option<Rendered> {
    match format {
        Format::PassEntry => passentry::render(event),
        Format::Passcreator => passcreator::render(event),
        Format::SkycoreXml => skycore_xml::render(event),
        Format::SkycoreJson => skycore_json::render(event),
        Format::Standard => standard::render(event),
    }
}
