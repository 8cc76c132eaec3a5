//! Skycore's wallet postback (seed `skycore-wallet-postback-json.txt`): flat JSON with
//! `origin` "wallet" and a `status-code`, N801 for a generated (created) pass and N806 for
//! updated pass data. The seed has no word for a voided pass, a tap or a loyalty change, so
//! those are not sent in this format.
//!
//! What Passdesk fills in: `status-text` / `status-details` as the seed spells them for the
//! code; `pass-template-id` the template's id; `pass-id` the extId, else the pass id (the
//! seed's `pass-id` is the custom id given when the pass was made, to reference it in later
//! requests: that is the extId; a pass made without one is referenced by its id, and
//! Passdesk's API finds a pass by either); `tracking-id` the event's id (the seed's link
//! between a postback and the call that caused it, one per change); `timestamp` when the
//! event happened, `2018-11-23T06:27:28+00:00`.

use super::event::Event;
use super::resource::PassFields;
use super::{EventType, Rendered};
use crate::time::Timestamp;
use serde::Serialize;

pub const CONTENT_TYPE: &str = "application/json";

/// Where every wallet postback comes from.
pub const ORIGIN: &str = "wallet";

/// A postback's status, as the seed's examples spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub code: &'static str,
    pub text: &'static str,
    pub details: &'static str,
}

pub const GENERATED: Status = Status {
    code: "N801",
    text: "Generated",
    details: "Pass generated successfully",
};

pub const UPDATED: Status = Status {
    code: "N806",
    text: "Updated",
    details: "Pass data updated on the server",
};

/// The status of an event, if the seed has one; a test event is a data update of the sample
/// pass, so the receiver's usual parser is what the test exercises.
pub fn status(event_type: EventType) -> Option<Status> {
    match event_type {
        EventType::PassCreated => Some(GENERATED),
        EventType::PassUpdated | EventType::WebhookTest => Some(UPDATED),
        EventType::PassVoided
        | EventType::PassTapped
        | EventType::PassLoyaltyUpdated
        | EventType::PassConflict => None,
    }
}

#[derive(Serialize)]
struct Postback<'a> {
    origin: &'static str,
    #[serde(rename = "status-code")]
    status_code: &'static str,
    #[serde(rename = "status-text")]
    status_text: &'static str,
    #[serde(rename = "status-details")]
    status_details: &'static str,
    #[serde(rename = "pass-template-id")]
    pass_template_id: &'a str,
    #[serde(rename = "pass-id")]
    pass_id: &'a str,
    #[serde(rename = "tracking-id")]
    tracking_id: &'a str,
    timestamp: String,
}

pub fn render(event: &Event) -> Option<Rendered> {
    let status = status(event.event_type)?;
    let pass = PassFields::of(event.pass.as_ref()?)?;
    let body = Postback {
        origin: ORIGIN,
        status_code: status.code,
        status_text: status.text,
        status_details: status.details,
        pass_template_id: pass.template_id.as_deref().unwrap_or_default(),
        pass_id: pass.ext_id.as_deref().unwrap_or(&pass.id),
        tracking_id: &event.id,
        timestamp: timestamp(event.at),
    };
    Some(Rendered {
        event_name: status.code.to_owned(),
        content_type: CONTENT_TYPE,
        body: serde_json::to_vec(&body).expect("a postback serialises"),
    })
}

/// `2018-11-23T06:27:28+00:00`: the seed's form, in UTC.
fn timestamp(t: Timestamp) -> String {
    t.to_datetime()
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S+00:00").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::testkit::{self, json_body};
    use serde_json::Value;

    fn same_timestamp_form(seed: &Value, ours: &Value) {
        let form = "%Y-%m-%dT%H:%M:%S%:z";
        for t in [seed, ours] {
            let text = t.as_str().unwrap();
            assert!(
                chrono::DateTime::parse_from_str(text, form).is_ok(),
                "{text}"
            );
            assert!(text.ends_with("+00:00"), "{text}");
        }
    }

    #[test]
    fn created_and_updated_are_the_seeds_n801_and_n806() {
        let pass = testkit::pass();
        for (t, title, code) in [
            (
                EventType::PassCreated,
                "1. Response: Pass Generation Success",
                "N801",
            ),
            (
                EventType::PassUpdated,
                "7. Response: Pass Data Updated",
                "N806",
            ),
        ] {
            let seed = testkit::skycore_json_example(title);
            let e = testkit::event(t, Some(&pass), testkit::resource(&pass));
            let r = render(&e).unwrap();
            assert_eq!(r.event_name, code);
            let ours = json_body(&r);
            let ours = ours.as_object().unwrap();
            let mut seed_keys: Vec<&String> = seed.keys().collect();
            let mut our_keys: Vec<&String> = ours.keys().collect();
            seed_keys.sort();
            our_keys.sort();
            assert_eq!(our_keys, seed_keys, "{title}");
            for same in ["origin", "status-code", "status-text", "status-details"] {
                assert_eq!(ours[same], seed[same], "{title}: {same}");
            }
            same_timestamp_form(&seed["timestamp"], &ours["timestamp"]);
            assert_eq!(ours["timestamp"], "2027-01-15T08:01:00+00:00");
            assert_eq!(ours["pass-id"], "CRM-4411");
            assert_eq!(ours["pass-template-id"], "tpl-gold");
            assert_eq!(ours["tracking-id"], e.id.as_str());
        }
    }

    #[test]
    fn a_pass_without_ext_id_is_named_by_its_id() {
        let pass = crate::pass::Pass {
            ext_id: None,
            ..testkit::pass()
        };
        let e = testkit::event(
            EventType::PassCreated,
            Some(&pass),
            testkit::resource(&pass),
        );
        assert_eq!(json_body(&render(&e).unwrap())["pass-id"], pass.id.as_str());
    }

    #[test]
    fn the_test_is_an_update_and_what_the_seed_has_no_code_for_is_not_sent() {
        let pass = testkit::pass();
        for e in testkit::every_event(&pass) {
            let code = render(&e).map(|r| r.event_name);
            let expected = match e.event_type {
                EventType::PassCreated => Some("N801"),
                EventType::PassUpdated | EventType::WebhookTest => Some("N806"),
                _ => None,
            };
            assert_eq!(code.as_deref(), expected, "{}", e.event_type);
        }
    }
}
