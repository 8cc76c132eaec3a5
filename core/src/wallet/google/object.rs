//! A pass as Google Wallet's class and object: a store card is a loyalty card, a ticket an
//! event ticket, anything else a generic pass. Keys as Google's REST reference spells them
//! (`loyaltyClass`, `loyaltyObject`, `eventTicketClass`, `eventTicketObject`, `genericClass`,
//! `genericObject`). Lean on purpose: the whole object travels inside the save link, and Google
//! caps a link near 2000 characters.

use super::id::{class_id, object_id, IssuerId};
use crate::loyalty::LoyaltyView;
use crate::pass::{Event, Pass, PassStatus};
use crate::time::Timestamp;
use crate::wallet::PassFacts;
use serde::{Deserialize, Serialize};

/// The longest barcode value also shown as text under the code (`alternateText`).
pub const ALTERNATE_TEXT_MAX_CHARS: usize = 40;

/// The language of the texts we write (Google's `LocalizedString` needs one).
pub const LANGUAGE: &str = "en";

/// Who issues the passes, as Google knows the merchant (`[wallet.google]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleIssuer {
    pub issuer_id: IssuerId,
    /// `issuerName` on loyalty and event ticket classes (and a generic pass's title); unset:
    /// the template's logo text, else its name.
    pub issuer_name: Option<String>,
    /// A public `https` address of the merchant's logo (`programLogo`, `logo`): Google fetches
    /// it, the counter never serves it. Google requires a loyalty class's logo.
    pub logo_url: Option<String>,
}

/// Everything one class and object are made from.
#[derive(Debug, Clone, Copy)]
pub struct GoogleInputs<'a> {
    pub issuer: &'a GoogleIssuer,
    pub facts: PassFacts<'a>,
    /// Whether the pass has expired is judged at this instant.
    pub now: Timestamp,
}

/// One pass's class and object, of the kind its pass type asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum GooglePass {
    Loyalty {
        class: LoyaltyClass,
        object: LoyaltyObject,
    },
    EventTicket {
        class: EventTicketClass,
        object: EventTicketObject,
    },
    Generic {
        class: GenericClass,
        object: GenericObject,
    },
}

/// `loyaltyClass`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoyaltyClass {
    pub id: String,
    pub issuer_name: String,
    pub program_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program_logo: Option<Image>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hex_background_color: Option<String>,
    pub review_status: ReviewStatus,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enable_smart_tap: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redemption_issuers: Vec<String>,
}

/// `loyaltyObject`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoyaltyObject {
    pub id: String,
    pub class_id: String,
    pub state: ObjectState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loyalty_points: Option<LoyaltyPoints>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_loyalty_points: Option<LoyaltyPoints>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<Barcode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smart_tap_redemption_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_time_interval: Option<TimeInterval>,
}

/// `loyaltyPoints`: a label and a balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoyaltyPoints {
    pub label: String,
    pub balance: LoyaltyPointsBalance,
}

/// `LoyaltyPointsBalance`: exactly one of `int` (Google's is 32-bit) or `string`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoyaltyPointsBalance {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string: Option<String>,
}

impl LoyaltyPointsBalance {
    /// A count: `int` when it fits Google's 32 bits, else its digits as `string`.
    pub fn count(n: i64) -> Self {
        match i32::try_from(n) {
            Ok(int) => Self {
                int: Some(int),
                string: None,
            },
            Err(_) => Self {
                int: None,
                string: Some(n.to_string()),
            },
        }
    }
}

/// `eventTicketClass`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTicketClass {
    pub id: String,
    pub issuer_name: String,
    pub event_name: LocalizedString,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<Image>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_time: Option<EventDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hex_background_color: Option<String>,
    pub review_status: ReviewStatus,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enable_smart_tap: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redemption_issuers: Vec<String>,
}

/// `eventTicketClass.dateTime`: ISO 8601 with the offset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventDateTime {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// `eventTicketObject`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTicketObject {
    pub id: String,
    pub class_id: String,
    pub state: ObjectState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_holder_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<Barcode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smart_tap_redemption_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_time_interval: Option<TimeInterval>,
}

/// `genericClass`: Google's generic class has no issuer name, review status or colour (those
/// are the object's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenericClass {
    pub id: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enable_smart_tap: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redemption_issuers: Vec<String>,
}

/// `genericObject`: `cardTitle` and `header` are required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenericObject {
    pub id: String,
    pub class_id: String,
    pub state: ObjectState,
    pub card_title: LocalizedString,
    pub header: LocalizedString,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subheader: Option<LocalizedString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<Image>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hex_background_color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<Barcode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smart_tap_redemption_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_time_interval: Option<TimeInterval>,
}

/// An object's `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ObjectState {
    Active,
    /// Voided: shown as no longer valid.
    Inactive,
    Expired,
}

/// A class's `reviewStatus`: a class made from a save link goes to Google's review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReviewStatus {
    UnderReview,
}

/// `barcode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Barcode {
    /// `QR_CODE`, `PDF_417`, `AZTEC`, `CODE_128`.
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternate_text: Option<String>,
}

/// `LocalizedString` with only its default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalizedString {
    pub default_value: TranslatedString,
}

impl LocalizedString {
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            default_value: TranslatedString {
                language: LANGUAGE.into(),
                value: value.into(),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TranslatedString {
    pub language: String,
    pub value: String,
}

/// `Image`: Google fetches it from its address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    pub source_uri: ImageUri,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageUri {
    pub uri: String,
}

/// `validTimeInterval`: Google shows the pass as expired after `end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeInterval {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<GoogleDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<GoogleDateTime>,
}

/// Google's `DateTime`: `{"date": "<ISO 8601>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoogleDateTime {
    pub date: String,
}

impl GooglePass {
    /// The class and object for these inputs, by the pass's type.
    pub fn build(inputs: &GoogleInputs<'_>) -> Self {
        let GoogleInputs {
            issuer,
            facts:
                PassFacts {
                    pass,
                    template,
                    design,
                    ..
                },
            ..
        } = *inputs;
        let class_id = class_id(&issuer.issuer_id, &template.id);
        let object_id = object_id(&issuer.issuer_id, &pass.id);
        let nfc = pass
            .nfc
            .as_deref()
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        // Smart Tap on the class when this pass carries a value our readers collect.
        let (enable_smart_tap, redemption_issuers) = if nfc.is_some() {
            (true, vec![issuer.issuer_id.to_string()])
        } else {
            (false, Vec::new())
        };
        let colour = design.background_color.map(|c| c.to_string());
        let logo = issuer.logo_url.as_deref().map(image);
        let issuer_name = issuer_name(inputs);
        let template_name = Some(template.name.trim())
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let holder = pass.holder_name();
        let state = state(pass, inputs.now);
        let barcode = barcode(pass);
        let valid_time_interval = valid_time_interval(pass);
        match pass.pass_type.as_str() {
            "storeCard" => {
                let loyalty = inputs.facts.loyalty;
                Self::Loyalty {
                    class: LoyaltyClass {
                        id: class_id.clone(),
                        program_name: template_name.unwrap_or_else(|| issuer_name.clone()),
                        issuer_name,
                        program_logo: logo,
                        hex_background_color: colour,
                        review_status: ReviewStatus::UnderReview,
                        enable_smart_tap,
                        redemption_issuers,
                    },
                    object: LoyaltyObject {
                        id: object_id,
                        class_id,
                        state,
                        account_name: holder,
                        loyalty_points: loyalty.map(|l| LoyaltyPoints {
                            label: "Points".into(),
                            balance: LoyaltyPointsBalance::count(l.balance),
                        }),
                        secondary_loyalty_points: loyalty.and_then(stamps),
                        barcode,
                        smart_tap_redemption_value: nfc,
                        valid_time_interval,
                    },
                }
            }
            "eventTicket" => {
                let event = inputs.facts.event;
                let event_name = event
                    .map(|e| e.name.trim())
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned)
                    .or(template_name)
                    .unwrap_or_else(|| issuer_name.clone());
                Self::EventTicket {
                    class: EventTicketClass {
                        id: class_id.clone(),
                        issuer_name,
                        event_name: LocalizedString::new(event_name),
                        logo,
                        date_time: event.and_then(event_date_time),
                        hex_background_color: colour,
                        review_status: ReviewStatus::UnderReview,
                        enable_smart_tap,
                        redemption_issuers,
                    },
                    object: EventTicketObject {
                        id: object_id,
                        class_id,
                        state,
                        ticket_holder_name: holder,
                        barcode,
                        smart_tap_redemption_value: nfc,
                        valid_time_interval,
                    },
                }
            }
            _ => {
                let title = template_name.clone().unwrap_or_else(|| issuer_name.clone());
                let (header, subheader) = match holder {
                    Some(name) => (name, template_name.map(LocalizedString::new)),
                    None => (title.clone(), None),
                };
                Self::Generic {
                    class: GenericClass {
                        id: class_id.clone(),
                        enable_smart_tap,
                        redemption_issuers,
                    },
                    object: GenericObject {
                        id: object_id,
                        class_id,
                        state,
                        card_title: LocalizedString::new(issuer_name),
                        header: LocalizedString::new(header),
                        subheader,
                        logo,
                        hex_background_color: colour,
                        barcode,
                        smart_tap_redemption_value: nfc,
                        valid_time_interval,
                    },
                }
            }
        }
    }

    /// The object's id (`<issuer>.<pass>`).
    pub fn object_id(&self) -> &str {
        match self {
            Self::Loyalty { object, .. } => &object.id,
            Self::EventTicket { object, .. } => &object.id,
            Self::Generic { object, .. } => &object.id,
        }
    }

    pub fn state(&self) -> ObjectState {
        match self {
            Self::Loyalty { object, .. } => object.state,
            Self::EventTicket { object, .. } => object.state,
            Self::Generic { object, .. } => object.state,
        }
    }
}

/// The issuer's name: `[wallet.google] issuer_name`, else the template's logo text, else its
/// name, else its id (Google requires one).
fn issuer_name(inputs: &GoogleInputs<'_>) -> String {
    [
        inputs.issuer.issuer_name.as_deref(),
        inputs.facts.design.logo_text.as_deref(),
        Some(inputs.facts.template.name.as_str()),
    ]
    .into_iter()
    .flatten()
    .map(str::trim)
    .find(|s| !s.is_empty())
    .unwrap_or(inputs.facts.template.id.as_str())
    .to_owned()
}

/// Voided → `INACTIVE`; expired (its status, or its expiry passed) → `EXPIRED`; else `ACTIVE`.
pub fn state(pass: &Pass, now: Timestamp) -> ObjectState {
    if pass.is_voided() {
        ObjectState::Inactive
    } else if pass.status == PassStatus::Expired || end(pass).is_some_and(|t| t <= now) {
        ObjectState::Expired
    } else {
        ObjectState::Active
    }
}

/// When the pass stops being valid (as Apple's `expirationDate`).
fn end(pass: &Pass) -> Option<Timestamp> {
    pass.expires_at.or(pass.valid_until)
}

fn valid_time_interval(pass: &Pass) -> Option<TimeInterval> {
    let date = |t: Timestamp| GoogleDateTime {
        date: t.to_rfc3339(),
    };
    match (pass.valid_from, end(pass)) {
        (None, None) => None,
        (start, end) => Some(TimeInterval {
            start: start.map(date),
            end: end.map(date),
        }),
    }
}

/// The pass's barcode in Google's words (QR for a type Google has no name for).
fn barcode(pass: &Pass) -> Option<Barcode> {
    let b = pass.barcode.as_ref().filter(|b| !b.value.is_empty())?;
    let kind: String = b
        .kind
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    let kind = match kind.as_str() {
        "pdf417" => "PDF_417",
        "aztec" => "AZTEC",
        "code128" => "CODE_128",
        _ => "QR_CODE",
    };
    Some(Barcode {
        kind: kind.into(),
        value: b.value.clone(),
        // Text under the code is for typing by hand; a long value (a signed PD1 token) would be
        // unreadable there and would double its share of the link.
        alternate_text: (b.display_text && b.value.chars().count() <= ALTERNATE_TEXT_MAX_CHARS)
            .then(|| b.value.clone()),
    })
}

/// A stamp card's progress (`3/10`), when the program has a card size.
fn stamps(l: &LoyaltyView) -> Option<LoyaltyPoints> {
    let size = l.card_size.filter(|s| *s > 0)?;
    let on_card = l.stamps_on_card.unwrap_or(l.stamps.rem_euclid(size));
    Some(LoyaltyPoints {
        label: "Stamps".into(),
        balance: LoyaltyPointsBalance {
            int: None,
            string: Some(format!("{on_card}/{size}")),
        },
    })
}

fn event_date_time(e: &Event) -> Option<EventDateTime> {
    let zoned = |t: Timestamp| {
        let at = t.to_datetime()?;
        Some(match e.time_zone.parse::<chrono_tz::Tz>() {
            Ok(tz) => at
                .with_timezone(&tz)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            Err(_) => t.to_rfc3339(),
        })
    };
    let start = e.start_time.and_then(zoned);
    let end = e.end_time.and_then(zoned);
    (start.is_some() || end.is_some()).then_some(EventDateTime { start, end })
}

fn image(url: &str) -> Image {
    Image {
        source_uri: ImageUri {
            uri: url.to_owned(),
        },
    }
}
