//! Every delivery's headers and their signatures.

use super::secret::Secret;
use super::{Format, Rendered};
use crate::time::Timestamp;

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
    todo!("formats helper: {format} {secret:?} {event_id} {sent_at:?} {rendered:?}")
}
