//! Skycore's wallet postbacks in (seed `skycore-wallet-postback-json.txt`): flat JSON with
//! `origin` "wallet" and a `status-code`:
//!
//! | code | Skycore says | the cache |
//! |---|---|---|
//! | N801 | generated | a pass created: `pass-id` its id, `pass-template-id` its template (no barcode or content: the postback carries none) |
//! | N802 | failed | nothing (noted) |
//! | N804 | installed | installed at `timestamp`, device from `app-type` |
//! | N805 | uninstalled | removed at `timestamp` |
//! | N806 | updated on the server | updated (the postback carries no data: the pass is marked changed, so webhooks out and the hub hear of it) |
//! | N807 | update notified to the app | nothing (noted) |
//!
//! `pass-id` is "the custom pass-id used when generating a pass … to reference this pass in
//! future requests": looked up as any value, so it finds a pass by its id or its extId (the
//! outbound format sends the extId there). `timestamp` is the event's time (RFC 3339 with an
//! offset) and is required. No event id (`tracking-id` links a postback to an API call, and
//! several postbacks share one): the dedup key is the SHA-256 of the body.
//!
//! The seed's installation and uninstallation examples miss the comma after `install-id`: a
//! body with that slip is not JSON and is refused (what Skycore really sends is valid).

use super::{
    body_key, device_type_of, from_json, pass_id, Change, HookError, HookEvent, PassData, PassRef,
    Provider, TemplateRef,
};
use crate::time::Timestamp;
use serde::Deserialize;

/// The status codes of the seed.
pub mod code {
    pub const GENERATED: &str = "N801";
    pub const FAILED: &str = "N802";
    pub const INSTALLED: &str = "N804";
    pub const UNINSTALLED: &str = "N805";
    pub const UPDATED: &str = "N806";
    pub const NOTIFIED: &str = "N807";
}

#[derive(Deserialize)]
struct Postback {
    #[serde(rename = "status-code")]
    status_code: String,
    #[serde(rename = "status-details")]
    status_details: Option<String>,
    #[serde(rename = "pass-id")]
    pass_id: String,
    #[serde(rename = "pass-template-id")]
    pass_template_id: Option<String>,
    timestamp: Timestamp,
    #[serde(rename = "app-type")]
    app_type: Option<String>,
}

pub fn parse(raw: &[u8]) -> Result<HookEvent, HookError> {
    let p: Postback = from_json(raw)?;
    let id = pass_id("/pass-id", &p.pass_id)?;
    let at = p.timestamp;
    let detail = |what: &str| match p.status_details.as_deref().map(str::trim) {
        Some(d) if !d.is_empty() => format!("{what}: {}", d.chars().take(200).collect::<String>()),
        _ => what.to_owned(),
    };
    let change = match p.status_code.as_str() {
        code::GENERATED => {
            let template = p
                .pass_template_id
                .as_deref()
                .filter(|t| !t.is_empty())
                .map(|t| pass_id("/pass-template-id", t))
                .transpose()?
                .map(|id| TemplateRef { id, name: None });
            Change::Created(Box::new(PassData {
                id: id.clone(),
                template,
                created_at: Some(at),
                ..PassData::default()
            }))
        }
        code::FAILED => Change::Noted {
            why: detail("generation failed"),
        },
        code::INSTALLED => Change::Installed {
            at: Some(at),
            device_type: p.app_type.as_deref().and_then(device_type_of),
        },
        code::UNINSTALLED => Change::Removed { at: Some(at) },
        code::UPDATED => Change::Updated(Box::new(PassData {
            id: id.clone(),
            ..PassData::default()
        })),
        code::NOTIFIED => Change::Noted {
            why: detail("update notified to the app"),
        },
        other => return Err(HookError::UnknownEvent(other.chars().take(60).collect())),
    };
    Ok(HookEvent {
        provider: Provider::Skycore,
        dedup_key: body_key("", raw),
        event_name: p.status_code,
        at: Some(at),
        pass: Some(PassRef(id)),
        change,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit as seeds;

    fn utc(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn every_example_of_the_seed() {
        let cases = [
            ("1. Response", "N801", "Store-78912"),
            ("2. Response", "N802", "Store-78912"),
            ("3. Response", "N804", "1618389328-5c1b63d9d527d"),
            ("4. Response", "N804", "EVENT-202036"),
            ("5. Response", "N805", "EVENT-202036"),
            ("6. Response", "N805", "EVENT-202036"),
            ("7. Response", "N806", "EVENT-202036"),
            ("8. Response", "N807", "EVENT-202036"),
            ("9. Response", "N807", "EVENT-202036"),
        ];
        for (title, code, pass) in cases {
            let body = seeds::skycore_json(title);
            let e = parse(body.as_bytes()).unwrap_or_else(|e| panic!("{title}: {e}"));
            assert_eq!(e.provider, Provider::Skycore);
            assert_eq!(e.event_name, code, "{title}");
            assert_eq!(e.pass, Some(PassRef(pass.into())), "{title}");
            assert_eq!(e.dedup_key, body_key("", body.as_bytes()));
            assert!(e.at.is_some());
        }
        let e = parse(seeds::skycore_json("1. Response").as_bytes()).unwrap();
        let Change::Created(p) = e.change else {
            panic!()
        };
        assert_eq!(p.template.unwrap().id, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        assert_eq!(p.created_at, Some(utc("2018-11-23T06:27:28Z")));
        let e = parse(seeds::skycore_json("3. Response").as_bytes()).unwrap();
        assert_eq!(
            e.change,
            Change::Installed {
                at: Some(utc("2018-12-20T09:59:55Z")),
                device_type: Some("apple".into())
            }
        );
        let e = parse(seeds::skycore_json("4. Response").as_bytes()).unwrap();
        assert!(matches!(
            e.change,
            Change::Installed { device_type: Some(ref d), .. } if d == "android"
        ));
        let e = parse(seeds::skycore_json("5. Response").as_bytes()).unwrap();
        assert_eq!(
            e.change,
            Change::Removed {
                at: Some(utc("2018-12-20T10:32:57Z"))
            }
        );
        let e = parse(seeds::skycore_json("2. Response").as_bytes()).unwrap();
        assert_eq!(
            e.change,
            Change::Noted {
                why: "generation failed: Failure reason/details".into()
            }
        );
    }

    #[test]
    fn the_seeds_slip_as_written_is_refused() {
        let text = seeds::seed("skycore-wallet-postback-json.txt");
        let at = text.find("3. Response").unwrap();
        let start = at + text[at..].find('{').unwrap();
        let end = start + text[start..].find("\n}\n4.").unwrap() + 2;
        let err = parse(&text.as_bytes()[start..end]).unwrap_err();
        assert_eq!(err.code(), "not_json", "{err}");
    }

    #[test]
    fn bad_bodies_name_what_is_wrong() {
        let body = seeds::skycore_json("5. Response");
        let pointed = |body: String, pointer: &str| {
            let err = parse(body.as_bytes()).unwrap_err();
            assert_eq!(err.pointer(), Some(pointer), "{err}");
        };
        pointed(body.replace("\"timestamp\"", "\"time\""), "");
        pointed(
            body.replace("\"2018-12-20T10:32:57+00:00\"", "\"2018-12-20 10:32\""),
            "/timestamp",
        );
        pointed(body.replace("\"EVENT-202036\"", "42"), "/pass-id");
        pointed(body.replace("\"EVENT-202036\"", "\"\""), "/pass-id");
        pointed(body.replace("\"N805\"", "null"), "/status-code");
        let err = parse(body.replace("\"N805\"", "\"N803\"").as_bytes()).unwrap_err();
        assert_eq!(err, HookError::UnknownEvent("N803".into()));
        assert_eq!(parse(b"<POSTBACK/>").unwrap_err().code(), "not_json");
    }
}
