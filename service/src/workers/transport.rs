//! A request that got no answer, in the words `/status` and the logs show: what failed and its
//! innermost cause ("cannot connect: Connection refused (os error 111)"). reqwest's own message
//! says little ("error sending request for url (…)"), its middle layers repeat each other, and
//! its URL may carry a token (a webhook receiver's, a phone's push token): it is left out.

use std::time::Duration;

/// `e` in words; `timeout` is the one the request was sent with.
pub fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs());
    }
    let what = if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "the request failed"
    };
    match innermost_cause(e) {
        Some(cause) => format!("{what}: {cause}"),
        None => what.to_owned(),
    }
}

/// The last error in `e`'s chain of sources: the one that says what happened ("Connection
/// refused (os error 111)", "invalid peer certificate", "connection closed before message
/// completed"). The sources are hyper's and the OS's: none holds the URL.
fn innermost_cause(e: &reqwest::Error) -> Option<String> {
    let mut cause = std::error::Error::source(e)?;
    while let Some(next) = cause.source() {
        cause = next;
    }
    Some(cause.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refused connection (nothing listens on the port a closed listener had): "cannot
    /// connect" with the OS's reason, and no URL (its path stands for a token).
    #[tokio::test]
    async fn a_refused_connection_names_the_reason_not_the_url() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/secret-token"))
            .send()
            .await
            .unwrap_err();
        let words = describe(&e, Duration::from_secs(10));
        assert!(words.starts_with("cannot connect: "), "{words}");
        assert!(words.to_lowercase().contains("refused"), "{words}");
        assert!(!words.contains("secret-token"), "{words}");
    }
}
