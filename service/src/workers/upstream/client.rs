//! The HTTP client for one PassEntry account: the API key as `Authorization: Bearer …` (never
//! logged: the client's `Debug` leaves it out), timeouts on every call, no redirects (they
//! would carry the key elsewhere), and every answer read whole (capped) with its status and
//! `Retry-After`, for the caller to judge.
//!
//! The paths, under the configured host: `GET /api/v1/passes`, `/api/v1/passes/{id}`,
//! `/api/v1/pass-templates`, `/api/v1/events`, `/api/v1/scans?passId=…`; `POST
//! /api/v1/scans/log`; `PATCH /api/v1/passes/{id}/loyalty`.

use crate::config::PassEntryUpstream;
use crate::workers::transport;
use passdesk_core::upstream::page::Kind;
use reqwest::{Method, Url};
use std::time::{Duration, SystemTime};

/// How long one call may take, connecting included.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The most of an answer read (a page of 100 passes with large content is a few hundred KB).
const ANSWER_LIMIT: usize = 16 << 20;

/// An answer, whatever its status.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// `Retry-After` (seconds or an HTTP date), when given.
    pub retry_after: Option<Duration>,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// To be tried again later: PassEntry's trouble (5xx), a timeout (408), a rate limit (429).
    pub fn is_transient(&self) -> bool {
        self.status >= 500 || self.status == 408 || self.status == 429
    }

    /// The body as text for a record or a message: control characters out, at most `limit`
    /// characters.
    pub fn text(&self, limit: usize) -> String {
        String::from_utf8_lossy(&self.body)
            .chars()
            .filter(|c| !c.is_control() || *c == ' ')
            .take(limit)
            .collect()
    }

    /// "PassEntry answered 422 Unprocessable Entity: {…}" (the body's start).
    pub fn describe(&self, call: &str) -> String {
        let reason = reqwest::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let text = self.text(300);
        let mut out = format!("PassEntry answered {call} with {} {reason}", self.status);
        if self.status == 401 || self.status == 403 {
            out.push_str(" (the API key in [upstream.passentry] api_key was refused)");
        }
        if !text.trim().is_empty() {
            out.push_str(": ");
            out.push_str(text.trim());
        }
        out
    }
}

/// No answer at all: the network, DNS, a refused connection, a timeout.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot reach PassEntry at {host}: {reason}")]
pub struct Unreachable {
    pub host: String,
    pub reason: String,
    /// No connection was made: nothing of the request reached PassEntry.
    pub not_sent: bool,
}

#[derive(Clone)]
pub struct PassEntryClient {
    base: Url,
    http: reqwest::Client,
    api_key: String,
}

impl std::fmt::Debug for PassEntryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassEntryClient")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl PassEntryClient {
    pub fn new(config: &PassEntryUpstream) -> anyhow::Result<Self> {
        let shown: String = config.base_url.chars().take(200).collect();
        let base = Url::parse(config.base_url.trim()).map_err(|e| {
            anyhow::anyhow!(
                "[upstream.passentry] base_url {shown:?} is not a URL such as https://api.passentry.com: {e}"
            )
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none_or(str::is_empty) {
            anyhow::bail!("[upstream.passentry] base_url {shown:?}: give http(s)://host");
        }
        if base.query().is_some() || !base.username().is_empty() || base.password().is_some() {
            anyhow::bail!(
                "[upstream.passentry] base_url {shown:?}: no query, user or password (the key is api_key)"
            );
        }
        if config.api_key.expose().trim().is_empty() {
            anyhow::bail!("[upstream.passentry] api_key is empty");
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "Passdesk/",
                env!("CARGO_PKG_VERSION"),
                " (upstream)"
            ))
            .build()
            .map_err(|e| anyhow::anyhow!("cannot make an HTTP client: {e}"))?;
        Ok(Self {
            base,
            http,
            api_key: config.api_key.expose().trim().to_owned(),
        })
    }

    /// The host (and port) PassEntry is reached at, for messages.
    pub fn host(&self) -> String {
        let host = self.base.host_str().unwrap_or_default();
        match self.base.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        }
    }

    /// The URL of `segments` under the configured host (each segment percent-encoded).
    fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<String>,
    ) -> Result<Answer, Unreachable> {
        let unreachable = |e: reqwest::Error| Unreachable {
            host: self.host(),
            reason: transport::describe(&e, CALL_TIMEOUT),
            not_sent: e.is_connect(),
        };
        let mut req = self
            .http
            .request(method, url)
            .bearer_auth(&self.api_key)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let mut resp = req.send().await.map_err(unreachable)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| crate::workers::webhooks::parse_retry_after(v, SystemTime::now()));
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > ANSWER_LIMIT {
                return Err(Unreachable {
                    host: self.host(),
                    reason: format!("the answer is larger than {} MiB", ANSWER_LIMIT >> 20),
                    not_sent: false,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            body,
            retry_after,
        })
    }

    /// Page `page` of a list, `per_page` a page.
    pub async fn list(&self, kind: Kind, page: u64, per_page: u32) -> Result<Answer, Unreachable> {
        let segments: Vec<&str> = kind.path().trim_start_matches('/').split('/').collect();
        let url = self.url(
            &segments,
            &[
                ("page", page.to_string()),
                ("perPage", per_page.to_string()),
            ],
        );
        self.call(Method::GET, url, None).await
    }

    /// `GET /api/v1/passes/{id}`.
    pub async fn pass(&self, id: &str) -> Result<Answer, Unreachable> {
        let url = self.url(&["api", "v1", "passes", id], &[]);
        self.call(Method::GET, url, None).await
    }

    /// `GET /api/v1/scans?passId=…` (page `page`): the read-back of a scan log.
    pub async fn scans_of(&self, pass_id: &str, page: u64) -> Result<Answer, Unreachable> {
        let url = self.url(
            &["api", "v1", "scans"],
            &[
                ("passId", pass_id.to_owned()),
                ("page", page.to_string()),
                ("perPage", "100".into()),
            ],
        );
        self.call(Method::GET, url, None).await
    }

    /// `POST /api/v1/scans/log`.
    pub async fn log_scan(&self, body: String) -> Result<Answer, Unreachable> {
        let url = self.url(&["api", "v1", "scans", "log"], &[]);
        self.call(Method::POST, url, Some(body)).await
    }

    /// `PATCH /api/v1/passes/{id}/loyalty`.
    pub async fn patch_loyalty(&self, pass_id: &str, body: String) -> Result<Answer, Unreachable> {
        let url = self.url(&["api", "v1", "passes", pass_id, "loyalty"], &[]);
        self.call(Method::PATCH, url, Some(body)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigSecret;

    fn config(url: &str) -> PassEntryUpstream {
        PassEntryUpstream {
            base_url: url.into(),
            api_key: ConfigSecret::new("pk_secret"),
            webhook_secret: None,
            pull_every_seconds: 300,
            enabled: true,
            per_page: std::num::NonZeroU32::new(100).unwrap(),
        }
    }

    #[test]
    fn urls_are_built_under_the_host_with_ids_encoded_and_the_key_never_shown() {
        let c = PassEntryClient::new(&config("http://127.0.0.1:9/")).unwrap();
        assert_eq!(
            c.url(&["api", "v1", "passes", "a b/c", "loyalty"], &[])
                .as_str(),
            "http://127.0.0.1:9/api/v1/passes/a%20b%2Fc/loyalty"
        );
        assert_eq!(
            c.url(
                &["api", "v1", "passes"],
                &[("page", "2".into()), ("perPage", "100".into())]
            )
            .as_str(),
            "http://127.0.0.1:9/api/v1/passes?page=2&perPage=100"
        );
        let prefixed = PassEntryClient::new(&config("https://gw.example/passentry")).unwrap();
        assert_eq!(
            prefixed.url(&["api", "v1", "events"], &[]).as_str(),
            "https://gw.example/passentry/api/v1/events"
        );
        assert!(!format!("{c:?}").contains("pk_secret"));
        assert_eq!(c.host(), "127.0.0.1:9");
        for (bad, says) in [
            ("api.passentry.com", "is not a URL"),
            ("ftp://x", "http(s)://host"),
            ("https://u:p@x", "no query, user or password"),
        ] {
            let err = PassEntryClient::new(&config(bad)).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
        let mut empty = config("https://x");
        empty.api_key = ConfigSecret::new(" ");
        assert!(PassEntryClient::new(&empty)
            .unwrap_err()
            .to_string()
            .contains("api_key is empty"));
    }

    #[test]
    fn answers_say_what_passentry_said() {
        let a = Answer {
            status: 401,
            body: br#"{"error":"Unauthorized"}"#.to_vec(),
            retry_after: None,
        };
        assert_eq!(
            a.describe("the passes list"),
            r#"PassEntry answered the passes list with 401 Unauthorized (the API key in [upstream.passentry] api_key was refused): {"error":"Unauthorized"}"#
        );
        assert!(!a.is_transient() && !a.is_success());
        for s in [408, 429, 500, 503] {
            assert!(
                Answer {
                    status: s,
                    body: vec![],
                    retry_after: None
                }
                .is_transient(),
                "{s}"
            );
        }
    }
}
