//! The pass of an event read back from its PassEntry resource, for the formats that spell its
//! fields their own way (Passcreator, Skycore).
//!
//! Lenient on purpose: a field the resource lacks or holds in another shape is absent here,
//! never an error, since the resource may be a snapshot written by an older version.

use crate::time::Timestamp;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The fields of a pass resource the other formats use.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PassFields {
    pub id: String,
    pub ext_id: Option<String>,
    pub template_id: Option<String>,
    pub template_name: Option<String>,
    pub created_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub barcode_value: Option<String>,
    /// Whether the barcode's value is printed under it.
    pub barcode_text_shown: bool,
    pub content: Map<String, Value>,
}

#[derive(Deserialize)]
struct Resource {
    id: String,
    #[serde(default)]
    attributes: Attributes,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Attributes {
    ext_id: Lenient<String>,
    pass_template_uuid: Lenient<String>,
    pass_template_name: Lenient<String>,
    created_at: Lenient<Timestamp>,
    expires_at: Lenient<Timestamp>,
    valid_until: Lenient<Timestamp>,
    barcode: Lenient<Barcode>,
    pass_content: Lenient<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Barcode {
    value: String,
    #[serde(default)]
    display_text: bool,
}

/// A value that is absent when it is null or of another shape.
struct Lenient<T>(Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(Self(serde_json::from_value(v).ok()))
    }
}

impl PassFields {
    /// The fields of a pass resource (`{"id", "type": "pass", "attributes"}`), or `None` when
    /// it has no id.
    pub fn of(resource: &Value) -> Option<PassFields> {
        let r: Resource = serde_json::from_value(resource.clone()).ok()?;
        let a = r.attributes;
        let barcode = a.barcode.0;
        Some(PassFields {
            id: r.id,
            ext_id: a.ext_id.0.filter(|s| !s.is_empty()),
            template_id: a.pass_template_uuid.0,
            template_name: a.pass_template_name.0,
            created_at: a.created_at.0,
            // A pass with no expiry date may still stop at the end of its validity window.
            expires_at: a.expires_at.0.or(a.valid_until.0),
            barcode_text_shown: barcode.as_ref().is_some_and(|b| b.display_text),
            barcode_value: barcode.map(|b| b.value),
            content: a.pass_content.0.unwrap_or_default(),
        })
    }
}

/// A content value as the flat formats show it: text as it is, numbers and true / false as
/// written, null as empty, a list or an object as its JSON.
pub fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_resource_and_tolerates_odd_shapes() {
        let f = PassFields::of(&json!({
            "id": "p1",
            "type": "pass",
            "attributes": {
                "extId": "",
                "passTemplateUuid": "t1",
                "passTemplateName": null,
                "createdAt": "2024-05-01T10:00:00Z",
                "expiresAt": "not a time",
                "validUntil": "2024-06-01T00:00:00Z",
                "barcode": {"type": "qrCode", "value": "ABC"},
                "passContent": ["not", "an", "object"],
            }
        }))
        .unwrap();
        assert_eq!(f.id, "p1");
        assert_eq!(f.ext_id, None);
        assert_eq!(f.template_id.as_deref(), Some("t1"));
        assert_eq!(f.template_name, None);
        assert_eq!(
            f.expires_at,
            Some(Timestamp::parse_rfc3339("2024-06-01T00:00:00Z").unwrap())
        );
        assert_eq!(f.barcode_value.as_deref(), Some("ABC"));
        assert!(!f.barcode_text_shown);
        assert!(f.content.is_empty());
        assert_eq!(PassFields::of(&json!({"type": "pass"})), None);
    }
}
