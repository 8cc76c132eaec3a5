//! Every delivery's headers and their signatures.
//!
//! Every format carries the Standard Webhooks trio, so any receiver can check any body with an
//! off-the-shelf library; PassEntry's format also carries its own `X-Webhook-Signature`.

use super::secret::Secret;
use super::{Format, Rendered};
use crate::time::Timestamp;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header names, lowercase (HTTP/2 sends them so; HTTP/1.1 receivers match them in any
/// case).
pub mod name {
    pub const CONTENT_TYPE: &str = "content-type";
    /// The format's word for the event (`Rendered::event_name`).
    pub const EVENT: &str = "x-passdesk-event";
    pub const WEBHOOK_ID: &str = "webhook-id";
    pub const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
    pub const WEBHOOK_SIGNATURE: &str = "webhook-signature";
    /// PassEntry's own signature.
    pub const PASSENTRY_SIGNATURE: &str = "x-webhook-signature";
}

/// The headers of one attempt: `Content-Type`, `X-Passdesk-Event`, the Standard Webhooks trio
/// (`webhook-id`, `webhook-timestamp` = `sent_at` in unix seconds, `webhook-signature:
/// v1,<base64>`), and the format's own (PassEntry: `X-Webhook-Signature`, lowercase hex
/// HMAC-SHA256 of the body).
pub fn headers(
    format: Format,
    secret: &Secret,
    event_id: &str,
    sent_at: Timestamp,
    rendered: &Rendered,
) -> Vec<(&'static str, String)> {
    let timestamp = unix_seconds(sent_at);
    let mut out = vec![
        (name::CONTENT_TYPE, rendered.content_type.to_owned()),
        (name::EVENT, rendered.event_name.clone()),
        (name::WEBHOOK_ID, event_id.to_owned()),
        (name::WEBHOOK_TIMESTAMP, timestamp.to_string()),
        (
            name::WEBHOOK_SIGNATURE,
            standard_signature(secret, event_id, timestamp, &rendered.body),
        ),
    ];
    if format == Format::PassEntry {
        out.push((
            name::PASSENTRY_SIGNATURE,
            passentry_signature(secret, &rendered.body),
        ));
    }
    out
}

/// Standard Webhooks' `webhook-signature`: `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` keyed by the secret's decoded key.
pub fn standard_signature(secret: &Secret, event_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = hmac(&secret.standard_key());
    mac.update(event_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// PassEntry's `X-Webhook-Signature`: the lowercase hex HMAC-SHA256 of the raw body keyed by
/// the secret's text.
pub fn passentry_signature(secret: &Secret, body: &[u8]) -> String {
    let mut mac = hmac(secret.text_key());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn hmac(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length")
}

/// Whole seconds since the epoch, rounded down (a time before 1970 stays negative).
fn unix_seconds(t: Timestamp) -> i64 {
    t.unix_ms().div_euclid(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(body: &str) -> Rendered {
        Rendered {
            event_name: "passTapped".into(),
            content_type: "application/json",
            body: body.as_bytes().to_vec(),
        }
    }

    /// The example of the Standard Webhooks specification's reference libraries (their test
    /// suites sign this message with this secret, id and timestamp).
    #[test]
    fn standard_signature_matches_the_specifications_example() {
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = standard_signature(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn every_format_carries_the_standard_trio_and_passentry_its_own() {
        let secret = Secret::generate();
        let at = Timestamp::from_unix_ms(1_700_000_000_999);
        for format in Format::ALL {
            let h = headers(format, &secret, "evt-1", at, &rendered("{}"));
            let get = |n: &str| h.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str());
            assert_eq!(get("content-type"), Some("application/json"));
            assert_eq!(get("x-passdesk-event"), Some("passTapped"));
            assert_eq!(get("webhook-id"), Some("evt-1"));
            assert_eq!(get("webhook-timestamp"), Some("1700000000"));
            assert!(get("webhook-signature").unwrap().starts_with("v1,"));
            assert_eq!(
                get("x-webhook-signature").is_some(),
                format == Format::PassEntry,
                "{format}"
            );
        }
    }

    /// The value computed outside Rust (Python's `hmac.new(b"whsec_MfKQ…", body,
    /// hashlib.sha256).hexdigest()`): the key is the whole text, `whsec_` included.
    #[test]
    fn passentry_signature_is_lowercase_hex_of_the_body_keyed_by_the_text() {
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            passentry_signature(&secret, br#"{"data":{}}"#),
            "44acba83d11931205411e7b863d7020105a9fe2f483cee55eaeb885a4be8af4f"
        );
    }
}
