//! Webhook signatures checked by code we did not write: `tests/webhooks/verify.py` hands each
//! delivery to the `standardwebhooks` PyPI library (installed by scripts/lib/python.sh) and
//! recomputes PassEntry's `X-Webhook-Signature` with Python's own `hmac`.

use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// One delivery as a receiver got it.
pub struct Signed<'a> {
    /// What the answer is matched by.
    pub name: &'a str,
    pub body: &'a [u8],
    /// Header name → value.
    pub headers: serde_json::Map<String, Value>,
}

/// What the receiver's code said of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The Standard Webhooks library's verdict: "ok" or its error.
    pub standard: String,
    /// PassEntry's signature recomputed and compared; `None` without one.
    pub passentry: Option<bool>,
}

/// Runs `tests/webhooks/verify.py` on the deliveries, the secret handed to the library as
/// `whsec_` text or (`raw_secret`) as its bytes. One verdict per delivery, in order.
pub fn verify(secret: &str, raw_secret: bool, deliveries: &[Signed<'_>]) -> Vec<Verdict> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("webhooks/verify.py");
    let request = json!({
        "secret": secret,
        "raw_secret": raw_secret,
        "deliveries": deliveries.iter().map(|d| json!({
            "name": d.name,
            "body": String::from_utf8(d.body.to_vec()).expect("bodies are UTF-8"),
            "headers": d.headers,
        })).collect::<Vec<_>>(),
    });
    let mut child = Command::new("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 cannot run ({e}): run scripts/test.sh"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{} failed ({}): {}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<Value> = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    assert_eq!(answers.len(), deliveries.len());
    answers
        .iter()
        .zip(deliveries)
        .map(|(a, d)| {
            assert_eq!(a["name"], d.name);
            Verdict {
                standard: a["standard"].as_str().unwrap_or("").to_owned(),
                passentry: a["passentry"].as_bool(),
            }
        })
        .collect()
}
