//! A template's look on a phone: colours and the fields of each row, in PassEntry's template
//! vocabulary (`backgroundColor`, `labelColor`, `textColor` as `#RRGGBB`; `header`, `primary`,
//! `secondary`, `auxiliary`, `backFields`, each a set of named slots `{id, label,
//! default_value}` where `id` is a `passContent` key).
//!
//! The same design serves Apple's `pass.json` and Google's objects; each wallet maps it to its
//! own words.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why a template's design could not be read. Names the field and never more than 64
/// characters of what was there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DesignError {
    #[error("{field}: {value:?} is not a colour (expected #RRGGBB or #RGB)")]
    Colour { field: String, value: String },
    #[error("{field}: {detail}")]
    Field { field: String, detail: String },
}

/// A colour as a template gives it (`#EFEFEF`). Apple writes it `rgb(239, 239, 239)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HexColor {
    pub r: u8,
    pub g: u8,
    pub b: u8,
}

impl HexColor {
    /// Apple's form: `rgb(r, g, b)`.
    pub fn to_css_rgb(self) -> String {
        format!("rgb({}, {}, {})", self.r, self.g, self.b)
    }
}

impl fmt::Display for HexColor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02X}{:02X}{:02X}", self.r, self.g, self.b)
    }
}

/// The text was not `#RRGGBB` or `#RGB`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a colour (expected #RRGGBB or #RGB)")]
pub struct BadColour(pub String);

impl FromStr for HexColor {
    type Err = BadColour;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadColour(s.chars().take(64).collect());
        let hex = s.trim().strip_prefix('#').ok_or_else(bad)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let digit = |i: usize| u8::from_str_radix(&hex[i..i + 1], 16).map_err(|_| bad());
        match hex.len() {
            6 => {
                let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad());
                Ok(Self {
                    r: byte(0)?,
                    g: byte(2)?,
                    b: byte(4)?,
                })
            }
            // #RGB: each digit doubled, as CSS reads it.
            3 => Ok(Self {
                r: digit(0)? * 17,
                g: digit(1)? * 17,
                b: digit(2)? * 17,
            }),
            _ => Err(bad()),
        }
    }
}

impl Serialize for HexColor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HexColor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One field of a row: the `passContent` key it shows, its label, and what it shows when the
/// pass has no value for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDef {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
}

impl FieldDef {
    pub fn new(key: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            label: Some(label.into()),
            default_value: None,
        }
    }
}

/// How a template's passes look. Everything is optional: an empty design gets a default
/// layout by pass type (the holder's name, a store card's balance and stamps, an event's name,
/// venue and start).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PassDesign {
    /// Apple's `description` (what VoiceOver reads); unset: the template's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The text beside the logo; unset: the organisation's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background_color: Option<HexColor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_color: Option<HexColor>,
    /// PassEntry's `textColor` (Apple's `foregroundColor`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_color: Option<HexColor>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub header: Vec<FieldDef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub primary: Vec<FieldDef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secondary: Vec<FieldDef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub auxiliary: Vec<FieldDef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub back: Vec<FieldDef>,
    /// A boarding pass's mode (`PKTransitTypeAir`, `…Boat`, `…Bus`, `…Train`, `…Generic`, or
    /// `air` / `boat` / `bus` / `train` / `generic`); unset: generic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transit_type: Option<String>,
}

/// The rows of a PassEntry template and the name each has there.
const ROWS: [(&str, Row); 5] = [
    ("header", Row::Header),
    ("primary", Row::Primary),
    ("secondary", Row::Secondary),
    ("auxiliary", Row::Auxiliary),
    ("backFields", Row::Back),
];

#[derive(Debug, Clone, Copy)]
enum Row {
    Header,
    Primary,
    Secondary,
    Auxiliary,
    Back,
}

impl PassDesign {
    /// True when no field is placed in any row (the default layout applies).
    pub fn has_no_fields(&self) -> bool {
        self.header.is_empty()
            && self.primary.is_empty()
            && self.secondary.is_empty()
            && self.auxiliary.is_empty()
            && self.back.is_empty()
    }

    /// Reads a PassEntry pass template: its `attributes` (or the whole `data` document, or the
    /// resource with `attributes` inside). Slots whose `id` is null are empty and skipped;
    /// slots are ordered by the number their name spells (`header_one`, `secTwo`, `backFive`),
    /// whatever order the JSON lists them in. Unknown keys are ignored: PassEntry adds some.
    pub fn from_passentry(doc: &serde_json::Value) -> Result<Self, DesignError> {
        let attrs = doc
            .pointer("/data/attributes")
            .or_else(|| doc.get("attributes"))
            .unwrap_or(doc);
        let obj = attrs.as_object().ok_or_else(|| DesignError::Field {
            field: "attributes".into(),
            detail: "expected an object".into(),
        })?;
        let colour = |name: &str| -> Result<Option<HexColor>, DesignError> {
            match obj.get(name) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(serde_json::Value::String(s)) => {
                    s.parse().map(Some).map_err(|_| DesignError::Colour {
                        field: name.into(),
                        value: s.chars().take(64).collect(),
                    })
                }
                Some(_) => Err(DesignError::Field {
                    field: name.into(),
                    detail: "expected a string".into(),
                }),
            }
        };
        let text = |name: &str| {
            obj.get(name)
                .and_then(|v| v.as_str())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let mut design = PassDesign {
            description: text("description"),
            logo_text: text("logoText"),
            background_color: colour("backgroundColor")?,
            label_color: colour("labelColor")?,
            text_color: colour("textColor")?,
            transit_type: text("transitType"),
            ..PassDesign::default()
        };
        for (name, row) in ROWS {
            let fields = match obj.get(name) {
                None | Some(serde_json::Value::Null) => Vec::new(),
                Some(serde_json::Value::Object(slots)) => slot_fields(name, slots)?,
                Some(_) => {
                    return Err(DesignError::Field {
                        field: name.into(),
                        detail: "expected an object of slots".into(),
                    })
                }
            };
            *design.row_mut(row) = fields;
        }
        Ok(design)
    }

    fn row_mut(&mut self, row: Row) -> &mut Vec<FieldDef> {
        match row {
            Row::Header => &mut self.header,
            Row::Primary => &mut self.primary,
            Row::Secondary => &mut self.secondary,
            Row::Auxiliary => &mut self.auxiliary,
            Row::Back => &mut self.back,
        }
    }
}

/// The filled slots of one row, in slot order.
fn slot_fields(
    row: &str,
    slots: &serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<FieldDef>, DesignError> {
    let mut found = Vec::new();
    for (slot, def) in slots {
        let field = format!("{row}.{slot}");
        let def = match def {
            serde_json::Value::Null => continue,
            serde_json::Value::Object(def) => def,
            _ => {
                return Err(DesignError::Field {
                    field,
                    detail: "expected {id, label, default_value}".into(),
                })
            }
        };
        let text = |k: &str| -> Result<Option<String>, DesignError> {
            match def.get(k) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.trim().to_owned())),
                // A default of 0 or true is still a default.
                Some(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => {
                    Ok(Some(v.to_string()))
                }
                Some(_) => Err(DesignError::Field {
                    field: format!("{field}.{k}"),
                    detail: "expected a string".into(),
                }),
            }
        };
        let Some(key) = text("id")? else { continue };
        found.push((
            slot_rank(slot),
            slot.clone(),
            FieldDef {
                key,
                label: text("label")?,
                default_value: text("default_value")?.or(text("defaultValue")?),
            },
        ));
    }
    found.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    Ok(found.into_iter().map(|(_, _, f)| f).collect())
}

/// The position a slot's name spells: `header_one` → 1, `secThree` → 3, `backFive` → 5;
/// names without a number word come last.
fn slot_rank(slot: &str) -> u8 {
    const WORDS: [&str; 10] = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    let lower = slot.to_ascii_lowercase();
    WORDS
        .iter()
        .position(|w| lower.ends_with(w))
        .map_or(u8::MAX, |i| i as u8 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_parse_in_both_lengths_and_refuse_the_rest() {
        let c: HexColor = "#EFEFEF".parse().unwrap();
        assert_eq!(c.to_css_rgb(), "rgb(239, 239, 239)");
        let c: HexColor = "#ff8477".parse().unwrap();
        assert_eq!(c.to_css_rgb(), "rgb(255, 132, 119)");
        assert_eq!(c.to_string(), "#FF8477");
        let c: HexColor = "#0a3".parse().unwrap();
        assert_eq!((c.r, c.g, c.b), (0, 0xaa, 0x33));
        for bad in ["EFEFEF", "#EFEFE", "#GGGGGG", "", "#", "#EFEFEFEF", "#é12"] {
            assert!(bad.parse::<HexColor>().is_err(), "{bad:?}");
        }
    }

    /// The template of `shared/seeds/passentry-api.txt`, as PassEntry answers it.
    fn seed_template() -> serde_json::Value {
        serde_json::json!({"data": {"id": "f0af94dc3c69a80cee32c173", "type": "passTemplate",
        "attributes": {
            "backgroundColor": "#EFEFEF", "name": "Summer Sale 2023",
            "description": "Summer Sale Pass", "labelColor": "#FF8477",
            "textColor": "#29323A", "templateType": "storeCard",
            "header": {
                "header_one": {"id": "name", "label": "Name", "default_value": null},
                "header_two": {"id": null, "label": null, "default_value": null},
                "header_three": {"id": null, "label": null, "default_value": null}},
            "primary": {
                "primary_one": {"id": "attendee", "label": "Attendee", "default_value": null},
                "primary_two": {"id": null, "label": null, "default_value": null}},
            "secondary": {
                "secOne": {"id": "address", "label": "Address", "default_value": null},
                "secTwo": {"id": null, "label": null, "default_value": null},
                "secThree": {"id": null, "label": null, "default_value": null}},
            "auxiliary": {
                "auxOne": {"id": "dob", "label": "DOB", "default_value": null},
                "auxTwo": {"id": null, "label": null, "default_value": null},
                "auxThree": {"id": null, "label": null, "default_value": null}},
            "backFields": {
                "backOne": {"id": "website", "label": "Website", "default_value": null},
                "backTwo": {"id": null, "label": null, "default_value": null},
                "backFive": {"id": "terms", "label": "Terms", "default_value": "See shop"},
                "backFour": {"id": null, "label": null, "default_value": null},
                "backThree": {"id": "phone", "label": "Phone", "default_value": null}}
        }}})
    }

    #[test]
    fn the_seed_template_reads_with_its_slots_in_order() {
        let d = PassDesign::from_passentry(&seed_template()).unwrap();
        assert_eq!(d.description.as_deref(), Some("Summer Sale Pass"));
        assert_eq!(
            d.background_color.unwrap().to_css_rgb(),
            "rgb(239, 239, 239)"
        );
        assert_eq!(d.label_color.unwrap().to_css_rgb(), "rgb(255, 132, 119)");
        assert_eq!(d.text_color.unwrap().to_css_rgb(), "rgb(41, 50, 58)");
        assert_eq!(d.header, vec![FieldDef::new("name", "Name")]);
        assert_eq!(d.primary, vec![FieldDef::new("attendee", "Attendee")]);
        assert_eq!(d.secondary, vec![FieldDef::new("address", "Address")]);
        assert_eq!(d.auxiliary, vec![FieldDef::new("dob", "DOB")]);
        let back: Vec<_> = d.back.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(
            back,
            ["website", "phone", "terms"],
            "backFive after backThree"
        );
        assert_eq!(d.back[2].default_value.as_deref(), Some("See shop"));
        // The stored form reads back to the same design.
        let stored = serde_json::to_value(&d).unwrap();
        assert_eq!(stored["backgroundColor"], "#EFEFEF");
        assert_eq!(serde_json::from_value::<PassDesign>(stored).unwrap(), d);
    }

    #[test]
    fn a_bad_colour_or_row_is_named() {
        let mut t = seed_template();
        t["data"]["attributes"]["labelColor"] = "salmon".into();
        let e = PassDesign::from_passentry(&t).unwrap_err();
        assert_eq!(
            e.to_string(),
            "labelColor: \"salmon\" is not a colour (expected #RRGGBB or #RGB)"
        );
        let mut t = seed_template();
        t["data"]["attributes"]["primary"] = serde_json::json!(["attendee"]);
        let e = PassDesign::from_passentry(&t).unwrap_err();
        assert_eq!(e.to_string(), "primary: expected an object of slots");
        let mut t = seed_template();
        t["data"]["attributes"]["auxiliary"]["auxOne"]["label"] = serde_json::json!({"x": 1});
        let e = PassDesign::from_passentry(&t).unwrap_err();
        assert_eq!(e.to_string(), "auxiliary.auxOne.label: expected a string");
    }

    #[test]
    fn an_empty_template_has_no_fields() {
        let d = PassDesign::from_passentry(&serde_json::json!({"name": "Plain"})).unwrap();
        assert!(d.has_no_fields());
        assert_eq!(d, PassDesign::default());
    }
}
