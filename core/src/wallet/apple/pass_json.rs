//! `pass.json`: Apple's description of one pass, made from the cached pass, its template's
//! design, its loyalty state and (for a ticket) its event. Keys as in Apple's PassKit package
//! format reference (`Pass`, `PassFields`, `Pass.Barcodes`, `Pass.NFC`).

use super::WalletError;
use crate::loyalty::LoyaltyView;
use crate::pass::{Event, Pass};
use crate::time::Timestamp;
use crate::wallet::design::FieldDef;
use crate::wallet::PassFacts;
use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Apple's limit on `nfc.message`: longer messages are cut by the phone, and a cut value would
/// not find its pass at our readers.
pub const NFC_MESSAGE_MAX_BYTES: usize = 64;
/// Apple's shortest `authenticationToken`.
pub const AUTH_TOKEN_MIN_CHARS: usize = 16;

/// Who issues the pass, as Apple knows the merchant (`[wallet.apple]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppleIdentity {
    /// `pass.com.example.store`: the Pass Type ID the certificate was made for; also what our
    /// VAS readers ask phones for.
    pub pass_type_id: String,
    /// The 10-character Apple Developer team id.
    pub team_id: String,
    pub organization_name: String,
}

/// The pass update web service a pass names: its base URL and this pass's token (the phone
/// sends it back as `Authorization: ApplePass <token>`).
#[derive(Debug, Clone, Copy)]
pub struct WebService<'a> {
    pub url: &'a str,
    pub authentication_token: &'a str,
}

/// Everything one `pass.json` is made from.
#[derive(Debug, Clone, Copy)]
pub struct PassInputs<'a> {
    pub identity: &'a AppleIdentity,
    pub facts: PassFacts<'a>,
    /// The VAS reader key's public key: `nfc.encryptionPublicKey`. Without it the pass has no
    /// `nfc` (a phone cannot encrypt its taps for a reader without it).
    pub nfc_key: Option<&'a p256::PublicKey>,
    pub web_service: Option<WebService<'a>>,
}

impl<'a> PassInputs<'a> {
    /// The inputs without NFC key or web service; set those with
    /// `PassInputs { nfc_key: Some(..), ..PassInputs::new(.., PassFacts::new()) }`.
    pub fn new(identity: &'a AppleIdentity, facts: PassFacts<'a>) -> Self {
        Self {
            identity,
            facts,
            nfc_key: None,
            web_service: None,
        }
    }
}

/// The top level of `pass.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PassJson {
    pub format_version: u32,
    pub pass_type_identifier: String,
    pub serial_number: String,
    pub team_identifier: String,
    pub organization_name: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreground_color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_color: Option<String>,
    #[serde(
        rename = "webServiceURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub web_service_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_token: Option<String>,
    /// W3C date (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant_date: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub voided: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub barcodes: Vec<PassBarcode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nfc: Option<PassNfc>,
    /// The style key (`storeCard`, `eventTicket`, …) and its fields.
    #[serde(flatten)]
    pub style: PassStyle,
}

/// The pass style: exactly one of these keys is in `pass.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PassStyle {
    BoardingPass(PassStructure),
    Coupon(PassStructure),
    EventTicket(PassStructure),
    Generic(PassStructure),
    StoreCard(PassStructure),
}

impl PassStyle {
    /// The style for a PassEntry pass type; an unknown type is `generic`.
    fn for_type(pass_type: &str, structure: PassStructure) -> Self {
        match pass_type {
            "boardingPass" => Self::BoardingPass(structure),
            "coupon" => Self::Coupon(structure),
            "eventTicket" => Self::EventTicket(structure),
            "storeCard" => Self::StoreCard(structure),
            _ => Self::Generic(structure),
        }
    }

    /// The key it is written under.
    pub fn key(&self) -> &'static str {
        match self {
            Self::BoardingPass(_) => "boardingPass",
            Self::Coupon(_) => "coupon",
            Self::EventTicket(_) => "eventTicket",
            Self::Generic(_) => "generic",
            Self::StoreCard(_) => "storeCard",
        }
    }

    pub fn structure(&self) -> &PassStructure {
        match self {
            Self::BoardingPass(s)
            | Self::Coupon(s)
            | Self::EventTicket(s)
            | Self::Generic(s)
            | Self::StoreCard(s) => s,
        }
    }
}

/// Apple's `PassFields`: the rows of a pass.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PassStructure {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub header_fields: Vec<PassField>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub primary_fields: Vec<PassField>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secondary_fields: Vec<PassField>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub auxiliary_fields: Vec<PassField>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub back_fields: Vec<PassField>,
    /// Required for a boarding pass (`PKTransitTypeAir`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transit_type: Option<String>,
}

impl PassStructure {
    /// Every field of every row.
    pub fn fields(&self) -> impl Iterator<Item = &PassField> {
        self.header_fields
            .iter()
            .chain(&self.primary_fields)
            .chain(&self.secondary_fields)
            .chain(&self.auxiliary_fields)
            .chain(&self.back_fields)
    }
}

/// One field (`PassFieldContent`): `key` unique in the pass, `value` text or a number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PassField {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub value: FieldValue,
    /// Shown on the lock screen when an update changes the value; `%@` is the new value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_style: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_style: Option<String>,
    /// The date is shown as written (the event's own time zone), not in the phone's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignores_time_zone: bool,
}

impl PassField {
    fn new(key: &str, label: Option<&str>, value: FieldValue) -> Self {
        Self {
            key: key.to_owned(),
            label: label.map(str::to_owned),
            value,
            change_message: None,
            date_style: None,
            time_style: None,
            ignores_time_zone: false,
        }
    }

    fn change_message(mut self, message: &str) -> Self {
        self.change_message = Some(message.to_owned());
        self
    }
}

/// A field's value: text, or a number (Apple formats numbers itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    Text(String),
    Number(serde_json::Number),
}

impl FieldValue {
    fn int(n: i64) -> Self {
        Self::Number(n.into())
    }
}

/// One entry of `barcodes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PassBarcode {
    /// `PKBarcodeFormatQR`, `…PDF417`, `…Aztec`, `…Code128`.
    pub format: String,
    pub message: String,
    pub message_encoding: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt_text: Option<String>,
}

/// `nfc`: what the phone sends a VAS reader, and the key it encrypts it to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PassNfc {
    pub message: String,
    /// Base64 of the DER X.509 SubjectPublicKeyInfo of the reader's P-256 key (compressed
    /// point, as Apple's NFC pass set-up asks for it).
    pub encryption_public_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_authentication: Option<bool>,
}

/// `pass.json` for these inputs.
pub fn pass_json(inputs: &PassInputs<'_>) -> Result<PassJson, WalletError> {
    let PassInputs {
        identity,
        facts:
            PassFacts {
                pass,
                template,
                design,
                ..
            },
        ..
    } = *inputs;
    let refuse = |detail: String| WalletError::Pass {
        pass_id: pass.id.clone(),
        detail,
    };
    for (name, value) in [
        ("pass_type_id", &identity.pass_type_id),
        ("team_id", &identity.team_id),
        ("organization_name", &identity.organization_name),
    ] {
        if value.trim().is_empty() {
            return Err(refuse(format!("[wallet.apple] {name} is empty")));
        }
    }
    let nfc = match (&pass.nfc, inputs.nfc_key) {
        (Some(message), Some(key)) if !message.is_empty() => {
            if message.len() > NFC_MESSAGE_MAX_BYTES {
                return Err(refuse(format!(
                    "its NFC value is {} bytes; Apple Wallet carries at most {NFC_MESSAGE_MAX_BYTES}",
                    message.len()
                )));
            }
            Some(PassNfc {
                message: message.clone(),
                encryption_public_key: encryption_public_key(key)?,
                requires_authentication: None,
            })
        }
        _ => None,
    };
    let (web_service_url, authentication_token) = match inputs.web_service {
        Some(ws) => {
            if ws.url.trim().is_empty() {
                return Err(refuse("the web service URL is empty".into()));
            }
            if ws.authentication_token.chars().count() < AUTH_TOKEN_MIN_CHARS {
                return Err(refuse(format!(
                    "its authenticationToken is shorter than Apple's {AUTH_TOKEN_MIN_CHARS} characters"
                )));
            }
            (
                Some(ws.url.to_owned()),
                Some(ws.authentication_token.to_owned()),
            )
        }
        None => (None, None),
    };
    let description = design
        .description
        .clone()
        .or_else(|| Some(template.name.trim().to_owned()).filter(|s| !s.is_empty()))
        .unwrap_or_else(|| identity.organization_name.clone());
    let mut structure = structure(inputs);
    // Apple requires a boarding pass's mode.
    if pass.pass_type.as_str() == "boardingPass" {
        structure.transit_type =
            Some(transit_type(design.transit_type.as_deref()).map_err(refuse)?);
    }
    Ok(PassJson {
        format_version: 1,
        pass_type_identifier: identity.pass_type_id.clone(),
        serial_number: pass.id.clone(),
        team_identifier: identity.team_id.clone(),
        organization_name: identity.organization_name.clone(),
        description,
        logo_text: design
            .logo_text
            .clone()
            .or_else(|| Some(identity.organization_name.clone())),
        background_color: design.background_color.map(|c| c.to_css_rgb()),
        foreground_color: design.text_color.map(|c| c.to_css_rgb()),
        label_color: design.label_color.map(|c| c.to_css_rgb()),
        web_service_url,
        authentication_token,
        expiration_date: pass.expires_at.or(pass.valid_until).map(w3c),
        relevant_date: inputs.facts.event.and_then(|e| e.start_time).map(w3c),
        voided: pass.is_voided(),
        barcodes: barcodes(pass),
        nfc,
        style: PassStyle::for_type(pass.pass_type.as_str(), structure),
    })
}

impl PassJson {
    /// The bytes that go into the package.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("pass.json has only strings, numbers and maps")
    }
}

/// `nfc.encryptionPublicKey`: base64 of the DER SubjectPublicKeyInfo (id-ecPublicKey,
/// prime256v1) holding the compressed point.
pub fn encryption_public_key(key: &p256::PublicKey) -> Result<String, WalletError> {
    use base64::Engine as _;
    use der::Encode as _;
    use p256::elliptic_curve::sec1::ToEncodedPoint as _;
    use p256::pkcs8::AssociatedOid as _;
    let point = key.to_encoded_point(true);
    let spki = spki::SubjectPublicKeyInfoOwned {
        algorithm: spki::AlgorithmIdentifierOwned {
            oid: p256::elliptic_curve::ALGORITHM_OID,
            parameters: Some(der::Any::from(der::AnyRef::from(&p256::NistP256::OID))),
        },
        subject_public_key: der::asn1::BitString::from_bytes(point.as_bytes()).map_err(|e| {
            WalletError::Credential {
                what: "nfc key",
                detail: e.to_string(),
            }
        })?,
    };
    let der = spki.to_der().map_err(|e| WalletError::Credential {
        what: "nfc key",
        detail: e.to_string(),
    })?;
    Ok(base64::engine::general_purpose::STANDARD.encode(der))
}

fn w3c(t: Timestamp) -> String {
    t.to_rfc3339()
}

fn transit_type(given: Option<&str>) -> Result<String, String> {
    let Some(given) = given.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok("PKTransitTypeGeneric".into());
    };
    let word = given.strip_prefix("PKTransitType").unwrap_or(given);
    ["Air", "Boat", "Bus", "Generic", "Train"]
        .iter()
        .find(|w| w.eq_ignore_ascii_case(word))
        .map(|w| format!("PKTransitType{w}"))
        .ok_or_else(|| {
            format!(
                "transit type {:?} is not one of air, boat, bus, generic, train",
                given.chars().take(40).collect::<String>()
            )
        })
}

/// The pass's barcode as Apple's `barcodes`: PassEntry's type mapped to Apple's format (QR
/// for an unknown type); `iso-8859-1` unless the value has characters outside Latin-1, then
/// `utf-8`.
fn barcodes(pass: &Pass) -> Vec<PassBarcode> {
    let Some(b) = pass.barcode.as_ref().filter(|b| !b.value.is_empty()) else {
        return Vec::new();
    };
    let kind: String = b
        .kind
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    let format = match kind.as_str() {
        "pdf417" => "PKBarcodeFormatPDF417",
        "aztec" => "PKBarcodeFormatAztec",
        "code128" => "PKBarcodeFormatCode128",
        _ => "PKBarcodeFormatQR",
    };
    let latin1 = b.value.chars().all(|c| u32::from(c) <= 0xFF);
    vec![PassBarcode {
        format: format.into(),
        message: b.value.clone(),
        message_encoding: if latin1 { "iso-8859-1" } else { "utf-8" }.into(),
        alt_text: b.display_text.then(|| b.value.clone()),
    }]
}

/// Keys that show the loyalty state when the pass's content has no value of that name.
const BALANCE_KEYS: [&str; 2] = ["balance", "points"];
const STAMPS_KEY: &str = "stamps";
const REWARDS_KEY: &str = "rewards";

/// The rows: the design's fields filled from the content, or the default layout for the pass
/// type when the design places none; a store card always shows its balance, stamps and
/// rewards; the latest message on the back.
fn structure(inputs: &PassInputs<'_>) -> PassStructure {
    let PassFacts {
        pass,
        design,
        loyalty,
        ..
    } = inputs.facts;
    let mut rows = Rows::default();
    let store_card = pass.pass_type.as_str() == "storeCard";
    let loyalty = loyalty.filter(|_| store_card || !design.has_no_fields());
    if design.has_no_fields() {
        default_layout(inputs, loyalty, &mut rows);
    } else {
        for (defs, row) in [
            (&design.header, RowName::Header),
            (&design.primary, RowName::Primary),
            (&design.secondary, RowName::Secondary),
            (&design.auxiliary, RowName::Auxiliary),
            (&design.back, RowName::Back),
        ] {
            for def in defs {
                if let Some(field) = design_field(def, pass, loyalty) {
                    rows.push(row, field);
                }
            }
        }
        if store_card {
            if let Some(l) = loyalty {
                if !BALANCE_KEYS.iter().any(|k| rows.has(k)) {
                    let row = if rows.0.primary_fields.is_empty() {
                        RowName::Primary
                    } else {
                        RowName::Header
                    };
                    rows.push(row, balance_field("balance", Some("Points"), l));
                }
                if !rows.has(STAMPS_KEY) {
                    if let Some(f) = stamps_field(Some("Stamps"), l) {
                        rows.push(RowName::Auxiliary, f);
                    }
                }
                if !rows.has(REWARDS_KEY) {
                    if let Some(f) = rewards_field(Some("Rewards"), l) {
                        rows.push(RowName::Auxiliary, f);
                    }
                }
            }
        }
    }
    if let Some(message) = pass
        .latest_message
        .as_deref()
        .filter(|m| !m.trim().is_empty())
    {
        rows.push(
            RowName::Back,
            PassField::new(
                "latestMessage",
                Some("Latest update"),
                FieldValue::Text(message.to_owned()),
            )
            .change_message("%@"),
        );
    }
    rows.0
}

fn default_layout(inputs: &PassInputs<'_>, loyalty: Option<&LoyaltyView>, rows: &mut Rows) {
    let PassFacts {
        pass,
        template,
        event,
        ..
    } = inputs.facts;
    let name = pass.holder_name().map(FieldValue::Text);
    match pass.pass_type.as_str() {
        "storeCard" if loyalty.is_some() => {
            let l = loyalty.expect("matched");
            rows.push(
                RowName::Primary,
                balance_field("balance", Some("Points"), l),
            );
            if let Some(name) = name {
                rows.push(
                    RowName::Secondary,
                    PassField::new("name", Some("Name"), name),
                );
            }
            if let Some(f) = stamps_field(Some("Stamps"), l) {
                rows.push(RowName::Auxiliary, f);
            }
            if let Some(f) = rewards_field(Some("Rewards"), l) {
                rows.push(RowName::Auxiliary, f);
            }
        }
        "eventTicket" => {
            let title = event.map_or(template.name.as_str(), |e| e.name.as_str());
            rows.push(
                RowName::Primary,
                PassField::new("event", Some("Event"), FieldValue::Text(title.to_owned())),
            );
            if let Some(name) = name {
                rows.push(
                    RowName::Secondary,
                    PassField::new("name", Some("Name"), name),
                );
            }
            if let Some(e) = event {
                if let Some(venue) = e.venue_name.as_deref().filter(|v| !v.trim().is_empty()) {
                    rows.push(
                        RowName::Auxiliary,
                        PassField::new("venue", Some("Venue"), FieldValue::Text(venue.into())),
                    );
                }
                if let Some(start) = e.start_time {
                    rows.push(
                        RowName::Auxiliary,
                        event_date_field("starts", "Starts", start, e),
                    );
                }
            }
        }
        _ => match name {
            Some(name) => rows.push(RowName::Primary, PassField::new("name", Some("Name"), name)),
            None => rows.push(
                RowName::Primary,
                PassField::new("title", None, FieldValue::Text(template.name.clone())),
            ),
        },
    }
}

/// A date field in the event's own time zone, shown as written there.
fn event_date_field(key: &str, label: &str, at: Timestamp, event: &Event) -> PassField {
    let zoned = event
        .time_zone
        .parse::<chrono_tz::Tz>()
        .ok()
        .zip(at.to_datetime())
        .map(|(tz, t)| {
            t.with_timezone(&tz)
                .to_rfc3339_opts(SecondsFormat::Secs, false)
        });
    let mut f = PassField::new(
        key,
        Some(label),
        FieldValue::Text(zoned.clone().unwrap_or_else(|| w3c(at))),
    );
    f.date_style = Some("PKDateStyleMedium".into());
    f.time_style = Some("PKDateStyleShort".into());
    f.ignores_time_zone = zoned.is_some();
    f
}

/// A design's field: the content's value, else the loyalty value its key names, else the
/// default; `None` (left out) when there is nothing to show.
fn design_field(def: &FieldDef, pass: &Pass, loyalty: Option<&LoyaltyView>) -> Option<PassField> {
    let label = def.label.as_deref();
    if let Some(value) = pass.pass_content.get(&def.key).and_then(content_value) {
        return Some(PassField::new(&def.key, label, value));
    }
    if let Some(l) = loyalty {
        let key = def.key.as_str();
        if BALANCE_KEYS.contains(&key) {
            return Some(balance_field(key, label, l));
        }
        if key == STAMPS_KEY {
            if let Some(f) = stamps_field(label, l) {
                return Some(f);
            }
        }
        if key == REWARDS_KEY {
            if let Some(f) = rewards_field(label, l) {
                return Some(f);
            }
        }
    }
    def.default_value
        .as_ref()
        .map(|d| PassField::new(&def.key, label, FieldValue::Text(d.clone())))
}

/// A content value as a field value: text and numbers as they are, yes / no for a boolean;
/// objects, lists, null and blank text show nothing.
fn content_value(v: &serde_json::Value) -> Option<FieldValue> {
    match v {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(FieldValue::Text(s.clone())),
        serde_json::Value::Number(n) => Some(FieldValue::Number(n.clone())),
        serde_json::Value::Bool(b) => Some(FieldValue::Text(if *b { "Yes" } else { "No" }.into())),
        _ => None,
    }
}

fn balance_field(key: &str, label: Option<&str>, l: &LoyaltyView) -> PassField {
    let shown = label.unwrap_or("Points");
    PassField::new(key, label, FieldValue::int(l.balance)).change_message(&format!("{shown}: %@"))
}

/// Stamps as `3 / 10` on a card of a size, else the count; nothing without stamps or a card.
fn stamps_field(label: Option<&str>, l: &LoyaltyView) -> Option<PassField> {
    let value = match (l.card_size, l.stamps_on_card) {
        (Some(size), Some(on_card)) => FieldValue::Text(format!("{on_card} / {size}")),
        _ if l.stamps != 0 => FieldValue::int(l.stamps),
        _ => return None,
    };
    let shown = label.unwrap_or("Stamps");
    Some(PassField::new(STAMPS_KEY, label, value).change_message(&format!("{shown}: %@")))
}

/// The number of rewards waiting to be redeemed, when there are any.
fn rewards_field(label: Option<&str>, l: &LoyaltyView) -> Option<PassField> {
    if l.rewards.is_empty() {
        return None;
    }
    let n = i64::try_from(l.rewards.len()).unwrap_or(i64::MAX);
    let shown = label.unwrap_or("Rewards");
    Some(
        PassField::new(REWARDS_KEY, label, FieldValue::int(n))
            .change_message(&format!("{shown}: %@")),
    )
}

#[derive(Debug, Clone, Copy)]
enum RowName {
    Header,
    Primary,
    Secondary,
    Auxiliary,
    Back,
}

/// The rows being filled, with every key used so far: Apple wants keys unique in a pass, so
/// a key placed twice gets `-2`, `-3`….
#[derive(Default)]
struct Rows(PassStructure, HashSet<String>);

impl Rows {
    fn has(&self, key: &str) -> bool {
        self.1.contains(key)
    }

    fn push(&mut self, row: RowName, mut field: PassField) {
        if self.1.contains(&field.key) {
            let base = field.key.clone();
            field.key = (2..)
                .map(|n| format!("{base}-{n}"))
                .find(|k| !self.1.contains(k))
                .expect("an unused suffix exists");
        }
        self.1.insert(field.key.clone());
        let s = &mut self.0;
        match row {
            RowName::Header => s.header_fields.push(field),
            RowName::Primary => s.primary_fields.push(field),
            RowName::Secondary => s.secondary_fields.push(field),
            RowName::Auxiliary => s.auxiliary_fields.push(field),
            RowName::Back => s.back_fields.push(field),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pass::{PassType, Template};
    use crate::wallet::PassDesign;

    fn identity() -> AppleIdentity {
        AppleIdentity {
            pass_type_id: "pass.com.example.t".into(),
            team_id: "TEAM000001".into(),
            organization_name: "Shop".into(),
        }
    }

    fn loyalty(balance: i64, stamps: i64, card: Option<i64>) -> LoyaltyView {
        LoyaltyView {
            balance,
            reserved_points: 0,
            stamps,
            card_size: card,
            stamps_on_card: card.map(|c| if stamps == 0 { 0 } else { (stamps - 1) % c + 1 }),
            rewards: vec![],
            claimable: vec![],
        }
    }

    fn json(inputs: &PassInputs<'_>) -> serde_json::Value {
        serde_json::to_value(pass_json(inputs).unwrap()).unwrap()
    }

    #[test]
    fn design_fields_take_content_then_loyalty_then_defaults() {
        let t0 = Timestamp::from_unix_ms(1_800_000_000_000);
        let mut pass = Pass::new("p1", "t1", PassType::new("storeCard"), t0);
        let content = serde_json::json!({
            "fullName": "Jane", "visits": 7, "vip": true, "nfc": {"enabled": true}, "blank": " "
        });
        pass.pass_content = content.as_object().unwrap().clone();
        let template = Template {
            id: "t1".into(),
            name: "Beans".into(),
            pass_type: PassType::new("storeCard"),
        };
        let design = PassDesign {
            header: vec![FieldDef::new("points", "Beans")],
            primary: vec![FieldDef::new("fullName", "Member")],
            secondary: vec![
                FieldDef::new("visits", "Visits"),
                FieldDef::new("vip", "VIP"),
                FieldDef::new("nfc", "NFC"),
                FieldDef {
                    default_value: Some("none".into()),
                    ..FieldDef::new("blank", "Blank")
                },
                FieldDef::new("missing", "Missing"),
            ],
            // The same key twice: Apple wants keys unique.
            back: vec![FieldDef::new("fullName", "Name again")],
            ..PassDesign::default()
        };
        let l = loyalty(42, 0, None);
        let identity = identity();
        let v = json(&PassInputs::new(
            &identity,
            PassFacts {
                loyalty: Some(&l),
                ..PassFacts::new(&pass, &template, &design)
            },
        ));
        let s = &v["storeCard"];
        assert_eq!(
            s["headerFields"],
            serde_json::json!([{"key": "points", "label": "Beans", "value": 42,
                "changeMessage": "Beans: %@"}])
        );
        assert_eq!(s["primaryFields"][0]["value"], "Jane");
        let secondary: Vec<(&str, &serde_json::Value)> = s["secondaryFields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["key"].as_str().unwrap(), &f["value"]))
            .collect();
        assert_eq!(
            secondary,
            [
                ("visits", &serde_json::json!(7)),
                ("vip", &serde_json::json!("Yes")),
                ("blank", &serde_json::json!("none")),
            ]
        );
        assert_eq!(s["backFields"][0]["key"], "fullName-2");
        // The balance is placed by the design: not added again; no stamps, no rewards.
        assert!(s.get("auxiliaryFields").is_none(), "{s:#}");
        assert_eq!(v["logoText"], "Shop");
        assert_eq!(v["description"], "Beans");
    }

    #[test]
    fn a_store_card_designed_without_its_balance_still_shows_it() {
        let t0 = Timestamp::from_unix_ms(1_800_000_000_000);
        let mut pass = Pass::new("p1", "t1", PassType::new("storeCard"), t0);
        pass.latest_message = Some("Double points on Friday".into());
        let template = Template {
            id: "t1".into(),
            name: "Card".into(),
            pass_type: PassType::new("storeCard"),
        };
        let design = PassDesign {
            primary: vec![FieldDef {
                default_value: Some("Welcome".into()),
                ..FieldDef::new("greeting", "Hello")
            }],
            ..PassDesign::default()
        };
        let l = loyalty(5, 10, Some(10));
        let identity = identity();
        let v = json(&PassInputs::new(
            &identity,
            PassFacts {
                loyalty: Some(&l),
                ..PassFacts::new(&pass, &template, &design)
            },
        ));
        let s = &v["storeCard"];
        assert_eq!(s["primaryFields"][0]["key"], "greeting");
        assert_eq!(s["headerFields"][0]["key"], "balance");
        assert_eq!(s["headerFields"][0]["value"], 5);
        assert_eq!(
            s["auxiliaryFields"][0]["value"], "10 / 10",
            "a full card shows full"
        );
        assert_eq!(s["backFields"][0]["key"], "latestMessage");
        assert_eq!(s["backFields"][0]["changeMessage"], "%@");
    }

    #[test]
    fn a_pass_without_name_or_design_shows_its_template() {
        let t0 = Timestamp::from_unix_ms(1_800_000_000_000);
        let pass = Pass::new("p1", "t1", PassType::new("coupon"), t0);
        let template = Template {
            id: "t1".into(),
            name: "10% off".into(),
            pass_type: PassType::new("coupon"),
        };
        let identity = identity();
        let design = PassDesign::default();
        let v = json(&PassInputs::new(
            &identity,
            PassFacts::new(&pass, &template, &design),
        ));
        assert_eq!(
            v["coupon"]["primaryFields"],
            serde_json::json!([{"key": "title", "value": "10% off"}])
        );
        assert!(v.get("barcodes").is_none() && v.get("nfc").is_none());
        assert!(v.get("expirationDate").is_none() && v.get("voided").is_none());
    }

    #[test]
    fn an_empty_identity_is_refused() {
        let t0 = Timestamp::from_unix_ms(1_800_000_000_000);
        let pass = Pass::new("p1", "t1", PassType::default(), t0);
        let template = Template {
            id: "t1".into(),
            name: "x".into(),
            pass_type: PassType::default(),
        };
        let identity = AppleIdentity {
            team_id: " ".into(),
            ..identity()
        };
        let design = PassDesign::default();
        let e = pass_json(&PassInputs::new(
            &identity,
            PassFacts::new(&pass, &template, &design),
        ))
        .unwrap_err();
        assert_eq!(e.to_string(), "pass p1: [wallet.apple] team_id is empty");
    }
}
