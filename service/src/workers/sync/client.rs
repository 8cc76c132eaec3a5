//! The counter's side of the sync protocol (`/sync/v1/…`, `core::sync::wire`): one HTTP client
//! per hub, its four calls, and every way a call can fail, in words a person at the counter can
//! act on. The credential goes in the `Authorization` header only; nothing here logs it.

use crate::workers::transport;
use passdesk_core::sync::wire::{
    self, EnrollRequest, EnrollResponse, ErrorBody, PullResponse, PushRequest, PushResponse,
};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// A hub's base URL: `http` or `https`, with a host, without a query or fragment; kept without
/// a trailing slash so that `/sync/v1/…` is appended as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubUrl(reqwest::Url);

impl HubUrl {
    pub fn parse(text: &str) -> Result<Self, String> {
        let shown: String = text.chars().take(200).collect();
        let url = reqwest::Url::parse(text.trim()).map_err(|e| {
            format!("{shown:?} is not a hub URL such as http://hub.local:8920: {e}")
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{shown:?}: a hub URL is http or https"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("{shown:?}: a hub URL names a host"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!("{shown:?}: a hub URL has no query or fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "{shown:?}: a hub URL carries no user or password (the counter's credential \
                 comes from joining)"
            ));
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }

    fn at(&self, path: &str) -> String {
        format!("{}/sync/{}{path}", self.as_str(), wire::VERSION)
    }
}

impl std::fmt::Display for HubUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a call to the hub did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// No answer: the network, DNS, a refused connection, a timeout. The counter is offline.
    #[error("cannot reach the hub at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The hub answered with an error document (or a status without one).
    #[error("the hub refused {call} ({status}{}): {message}", code.as_deref().map(|c| format!(", {c}")).unwrap_or_default())]
    Refused {
        call: &'static str,
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// The hub answered 2xx with something that is not the protocol's document.
    #[error("the hub's answer to {call} is not the protocol's: {reason}")]
    BadAnswer { call: &'static str, reason: String },
}

impl HubError {
    /// The hub did not answer at all (as opposed to answering no).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable { .. })
    }

    /// The hub no longer knows our credential: joining again is the way out, retrying is not.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Refused { status: 401, .. })
    }

    /// The error code the hub gave, if it gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

/// `GET /sync/v1/health`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub ok: bool,
    pub protocol: String,
    pub hub_id: String,
}

/// An HTTP client for one hub.
#[derive(Clone)]
pub struct HubClient {
    url: HubUrl,
    http: reqwest::Client,
    credential: Option<String>,
}

impl std::fmt::Debug for HubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubClient")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// How long a call without a long wait may take, connecting included.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A long poll's answer may come this much after its `wait` (the hub's own work, the network).
const LONG_POLL_SLACK: Duration = Duration::from_secs(15);
/// The most of an error answer read into a message.
const ERROR_TEXT_LIMIT: usize = 300;

impl HubClient {
    /// A client without a credential (health and enrollment) or with one (push and pull).
    pub fn new(url: HubUrl, credential: Option<String>) -> Result<Self, HubError> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            // Redirects would carry the credential elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Passdesk/", env!("CARGO_PKG_VERSION"), " (sync)"))
            .build()
            .map_err(|e| HubError::Unreachable {
                url: url.to_string(),
                reason: format!("cannot make an HTTP client: {e}"),
            })?;
        Ok(Self {
            url,
            http,
            credential,
        })
    }

    pub fn url(&self) -> &HubUrl {
        &self.url
    }

    pub async fn health(&self) -> Result<Health, HubError> {
        let req = self.http.get(self.url.at("/health")).timeout(CALL_TIMEOUT);
        self.call("the health check", req).await
    }

    pub async fn enroll(&self, body: &EnrollRequest) -> Result<EnrollResponse, HubError> {
        let req = self
            .http
            .post(self.url.at("/enroll"))
            .timeout(CALL_TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(json_bytes(body));
        self.call("the enrollment", req).await
    }

    pub async fn push(&self, body: &PushRequest) -> Result<PushResponse, HubError> {
        let req = self
            .authorized(self.http.post(self.url.at("/push")))
            .timeout(CALL_TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(json_bytes(body));
        self.call("the push", req).await
    }

    /// The changes after `after`, at most `limit`, waiting up to `wait` at the hub when there
    /// are none yet.
    pub async fn pull(
        &self,
        after: i64,
        limit: u32,
        wait: Duration,
    ) -> Result<PullResponse, HubError> {
        let wait_s = wait.as_secs().min(wire::MAX_WAIT_SECONDS);
        let req = self
            .authorized(self.http.get(self.url.at("/changes")))
            .query(&[
                ("after", after.to_string()),
                ("limit", limit.to_string()),
                ("wait", wait_s.to_string()),
            ])
            .timeout(Duration::from_secs(wait_s) + LONG_POLL_SLACK);
        self.call("the pull", req).await
    }

    fn authorized(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.credential {
            Some(c) => req.bearer_auth(c),
            None => req,
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        call: &'static str,
        req: reqwest::RequestBuilder,
    ) -> Result<T, HubError> {
        let unreachable = |e: reqwest::Error| HubError::Unreachable {
            url: self.url.to_string(),
            reason: transport::describe(&e, CALL_TIMEOUT),
        };
        let resp = req.send().await.map_err(unreachable)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(unreachable)?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| HubError::BadAnswer {
                call,
                reason: e.to_string(),
            });
        }
        Err(refusal(call, status, &bytes))
    }
}

fn json_bytes(body: &impl serde::Serialize) -> Vec<u8> {
    // The protocol's documents are plain structs of strings and numbers: they always serialise.
    serde_json::to_vec(body).unwrap_or_default()
}

/// An error answer in words: the protocol's `{"error": {code, message}}`, else the status and
/// the start of the body (a proxy's page, another service on that port).
fn refusal(call: &'static str, status: StatusCode, body: &[u8]) -> HubError {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => HubError::Refused {
            call,
            status: status.as_u16(),
            code: Some(e.error.code),
            message: e.error.message,
        },
        Err(_) => {
            let text: String = String::from_utf8_lossy(body)
                .chars()
                .filter(|c| !c.is_control())
                .take(ERROR_TEXT_LIMIT)
                .collect();
            HubError::Refused {
                call,
                status: status.as_u16(),
                code: None,
                message: if text.trim().is_empty() {
                    status
                        .canonical_reason()
                        .unwrap_or("no reason given")
                        .to_owned()
                } else {
                    text
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hub_url_is_http_with_a_host_and_nothing_after_its_path() {
        let u = HubUrl::parse("http://127.0.0.1:8920/").unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:8920");
        assert_eq!(u.at("/health"), "http://127.0.0.1:8920/sync/v1/health");
        let u = HubUrl::parse(" https://hub.example/chain ").unwrap();
        assert_eq!(u.at("/push"), "https://hub.example/chain/sync/v1/push");
        for (bad, says) in [
            ("hub.local", "not a hub URL"),
            ("ftp://hub.local", "http or https"),
            ("http://hub.local/?x=1", "no query"),
            ("http://hub.local/#x", "no query or fragment"),
            ("http://me:pw@hub.local", "no user or password"),
        ] {
            let err = HubUrl::parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn an_error_answer_is_read_as_the_protocol_says_or_shown_as_text() {
        let e = refusal(
            "the enrollment",
            StatusCode::UNAUTHORIZED,
            br#"{"error":{"code":"bad_token","message":"the token is unknown"}}"#,
        );
        assert!(e.is_unauthorized());
        assert_eq!(e.code(), Some("bad_token"));
        assert_eq!(
            e.to_string(),
            "the hub refused the enrollment (401, bad_token): the token is unknown"
        );
        let e = refusal(
            "the push",
            StatusCode::BAD_GATEWAY,
            b"<h1>Bad\ngateway</h1>",
        );
        assert_eq!(
            e.to_string(),
            "the hub refused the push (502): <h1>Badgateway</h1>"
        );
        let e = refusal("the pull", StatusCode::SERVICE_UNAVAILABLE, b"");
        assert!(e.to_string().ends_with("Service Unavailable"), "{e}");
    }
}
