//! PassEntry's JSON:API shapes for what the cache holds, as pure functions. The CLI prints
//! them and the HTTP API will answer with them, so tools written for PassEntry read both.

use crate::pass::Pass;
use crate::time::Timestamp;
use serde_json::{json, Value};

/// A pass as a JSON:API resource object (`{"id", "type": "pass", "attributes": {...}}`).
/// `passTemplateName` and `eventName` are looked up by the caller.
pub fn pass_resource(p: &Pass, template_name: Option<&str>, event_name: Option<&str>) -> Value {
    let t = |t: Option<Timestamp>| t.map(|t| t.to_rfc3339());
    json!({
        "id": p.id,
        "type": "pass",
        "attributes": {
            "passType": p.pass_type.as_str(),
            "deviceType": p.device_type,
            "createdAt": p.created_at.to_rfc3339(),
            "updatedAt": p.updated_at.to_rfc3339(),
            "status": p.status.as_str(),
            "extId": p.ext_id,
            "groupTag": p.group_tag,
            "addedAt": t(p.added_at),
            "removedAt": t(p.removed_at),
            "deactivatedAt": t(p.deactivated_at),
            "expiresAt": t(p.expires_at),
            "validFrom": t(p.valid_from),
            "validUntil": t(p.valid_until),
            "passTemplateUuid": p.template_id,
            "passTemplateName": template_name,
            "eventUuid": p.event_id,
            "eventName": event_name,
            "nfc": p.nfc,
            "barcode": p.barcode,
            "latestMessage": p.latest_message,
            "passContent": p.pass_content,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{parse_line, ImportRecord};

    /// What the import reads, this writes: a pass survives export and re-import unchanged.
    #[test]
    fn resource_round_trips_through_import() {
        let line = r#"{"id":"33b680b7","type":"pass","attributes":{"passType":"storeCard","createdAt":"2022-06-05T10:06:53Z","status":"issued","extId":"123","passTemplateUuid":"2e2d","passTemplateName":"PassEntry Ticketing","nfc":"33b680b7","barcode":{"type":"qrCode","value":"123abcd","displayText":true},"passContent":{"fullName":"Jane Smith"},"expiresAt":"2030-01-01T00:00:00Z"}}"#;
        let now = Timestamp::from_unix_ms(0);
        let Some(ImportRecord::Pass { pass, .. }) = parse_line(line, now).unwrap() else {
            panic!("not a pass")
        };
        let out = pass_resource(&pass, Some("PassEntry Ticketing"), None).to_string();
        let Some(ImportRecord::Pass { pass: again, .. }) = parse_line(&out, now).unwrap() else {
            panic!("not a pass")
        };
        assert_eq!(pass, again);
    }
}
