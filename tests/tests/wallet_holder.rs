//! The holder page's wallet buttons, chosen by the phone's User-Agent as PassEntry's download
//! page does (Android → Google Wallet, iPhone / iPad → Apple Wallet, anything else both and a
//! QR of the page itself), offered only for the wallets the counter has ready: the real
//! binary, real wallet files (the openssl test CA for Apple, an openssl RSA key in a service
//! account file for Google), real HTTP.

use base64::Engine;
use passdesk_tests::service::{Reply, TestApp};
use passdesk_tests::wallet_ca::{google_account, test_ca};
use serde_json::{json, Value};
use sha2::Digest;

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1";
const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36";
const DESKTOP: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36";

const APPLE_BUTTON: &str = "Add to Apple Wallet";
const GOOGLE_BUTTON: &str = "Add to Google Wallet";
/// The sentence over the page's own QR (a device that is not a phone).
const OPEN_ON_PHONE: &str = "add this pass to your phone’s wallet";

/// A counter with this `passdesk.toml` (`[wallet]` first, as TOML wants its tables).
fn counter(toml: &str) -> TestApp {
    let toml = toml.to_owned();
    TestApp::start_with(
        move |node| std::fs::write(node.data_dir().join("passdesk.toml"), toml).unwrap(),
        false,
    )
}

fn wallet_state(app: &TestApp, wallet: &str) -> Value {
    app.get("/api/v1/status", &app.reader_key).body["data"]["attributes"]["wallet"][wallet].clone()
}

/// Waits for nothing: a wallet is loaded before `serve` prints its address. Says why when it
/// did not load.
fn assert_ready(app: &TestApp, wallet: &str) {
    let line = wallet_state(app, wallet);
    assert_eq!(line["state"], "ready", "{wallet} is not ready: {line}");
}

/// A new pass's holder link (`/p/<token>`).
fn issue(app: &TestApp, name: &str) -> String {
    let created = app.post(
        "/api/v1/passes",
        &app.manager_key,
        json!({"passTemplate": "tpl-bean-there", "pass": {"fullName": name}}),
    );
    assert_eq!(created.status, 201, "{created:?}");
    created.body["data"]["attributes"]["downloadUrl"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn page(app: &TestApp, link: &str, ua: &str) -> Reply {
    let r = app.send("GET", link, None, &[("User-Agent", ua)], None);
    assert_eq!(r.status, 200, "{link} as {ua:?}: {r:?}");
    assert_eq!(r.header("vary"), "User-Agent");
    assert_policy_allows_only_the_style(&r);
    r
}

/// The page's CSP as before: the UI's policy, its one inline style allowed by hash, never
/// `'unsafe-inline'`, and no script at all on the page.
fn assert_policy_allows_only_the_style(r: &Reply) {
    let csp = r.header("content-security-policy");
    let html = r.text();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(!html.contains("<script"), "{html}");
    assert_eq!(html.matches("<style>").count(), 1);
    let style = html
        .split("<style>")
        .nth(1)
        .and_then(|s| s.split("</style>").next())
        .unwrap();
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(style));
    assert!(
        csp.contains(&format!("style-src 'self' 'sha256-{hash}'")),
        "{csp}"
    );
    assert!(
        !html.contains(" style="),
        "no inline style attribute: {html}"
    );
    assert_eq!(r.header("cache-control"), "no-store");
    assert_eq!(r.header("referrer-policy"), "no-referrer");
}

/// The wallet buttons on a page: (Apple's href, Google's href).
fn buttons(html: &str) -> (Option<String>, Option<String>) {
    let href = |wallet: &str| {
        html.split(&format!("data-wallet={wallet} href=\""))
            .nth(1)
            .and_then(|s| s.split('"').next())
            .map(str::to_owned)
    };
    let (apple, google) = (href("apple"), href("google"));
    assert_eq!(apple.is_some(), html.contains(APPLE_BUTTON), "{html}");
    assert_eq!(google.is_some(), html.contains(GOOGLE_BUTTON), "{html}");
    (apple, google)
}

#[test]
fn a_counter_without_wallets_shows_the_admission_qr_and_no_button_whatever_asks() {
    let app = TestApp::start();
    assert_eq!(wallet_state(&app, "apple")["state"], "notConfigured");
    assert_eq!(wallet_state(&app, "google")["state"], "notConfigured");
    let link = issue(&app, "Grace Hopper");
    let plain = page(&app, &link, DESKTOP).text();
    for ua in [IPHONE, IPAD, ANDROID, DESKTOP, "", "curl/8.5.0"] {
        let html = page(&app, &link, ua).text();
        assert_eq!(buttons(&html), (None, None), "{ua}");
        assert!(!html.contains(OPEN_ON_PHONE), "{ua}: {html}");
        assert_eq!(html.matches("<svg").count(), 1, "the admission QR only");
        assert!(html.contains("Grace Hopper"));
        // The same page, whoever asks.
        assert_eq!(html, plain);
    }
}

#[test]
fn with_apple_ready_and_not_google_an_iphone_and_a_desktop_get_apple_only() {
    let app = counter(&test_ca().apple_config_toml());
    assert_ready(&app, "apple");
    assert_eq!(wallet_state(&app, "google")["state"], "notConfigured");
    let link = issue(&app, "Ada Lovelace");
    let pkpass = format!("{link}/pass.pkpass");

    for ua in [IPHONE, IPAD] {
        let html = page(&app, &link, ua).text();
        assert_eq!(buttons(&html), (Some(pkpass.clone()), None), "{ua}");
        assert!(!html.contains(OPEN_ON_PHONE));
    }
    // Android takes Google Wallet, which is not ready here: the page as without wallets.
    let android = page(&app, &link, ANDROID).text();
    assert_eq!(buttons(&android), (None, None));
    assert_eq!(android.matches("<svg").count(), 1);
    // A desktop: the Apple button, and the way to the phone. This counter names no LAN address
    // and the page was asked for at 127.0.0.1, which no phone reaches: words, no second QR.
    let desk = page(&app, &link, DESKTOP).text();
    assert_eq!(buttons(&desk), (Some(pkpass.clone()), None));
    assert!(desk.contains(OPEN_ON_PHONE), "{desk}");
    assert_eq!(desk.matches("<svg").count(), 1, "{desk}");

    // The button's target is the signed pass.
    let file = app.send("GET", &pkpass, None, &[("User-Agent", IPHONE)], None);
    assert_eq!(file.status, 200, "{file:?}");
    assert_eq!(file.header("content-type"), "application/vnd.apple.pkpass");
}

#[test]
fn with_both_ready_each_phone_gets_its_wallet_and_a_desktop_both_and_the_page_qr() {
    let toml = format!(
        "[wallet]\nholder_base_url = \"http://192.168.1.20:8917/\"\n\n{}\n{}",
        test_ca().apple_config_toml(),
        google_account().config_toml("3388000000012345678")
    );
    let app = counter(&toml);
    assert_ready(&app, "apple");
    assert_ready(&app, "google");
    assert_eq!(
        app.get("/api/v1/status", &app.reader_key).body["data"]["attributes"]["wallet"]
            ["holderBaseUrl"],
        "http://192.168.1.20:8917"
    );
    let link = issue(&app, "Katherine Johnson");
    let (pkpass, google) = (format!("{link}/pass.pkpass"), format!("{link}/google"));

    for ua in [IPHONE, IPAD] {
        let html = page(&app, &link, ua).text();
        assert_eq!(buttons(&html), (Some(pkpass.clone()), None), "{ua}");
        assert!(!html.contains(OPEN_ON_PHONE));
    }
    let android = page(&app, &link, ANDROID).text();
    assert_eq!(buttons(&android), (None, Some(google.clone())));
    assert!(!android.contains(OPEN_ON_PHONE));

    let desk = page(&app, &link, DESKTOP).text();
    assert_eq!(buttons(&desk), (Some(pkpass), Some(google.clone())));
    assert!(desk.contains(OPEN_ON_PHONE), "{desk}");
    // The admission QR and the page's own, which points a phone at the LAN address.
    assert_eq!(desk.matches("<svg").count(), 2, "{desk}");
    assert!(
        desk.contains(&format!("http://192.168.1.20:8917{link}")),
        "{desk}"
    );
    // No User-Agent at all is not a phone either.
    let none = page_without_user_agent(&app, &link);
    assert_eq!(none.matches("<svg").count(), 2);
    assert!(none.contains(APPLE_BUTTON) && none.contains(GOOGLE_BUTTON));

    // The Google button's target sends the phone to Google's save page.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .build()
        .into();
    let to_google = passdesk_tests::service::send(
        &agent,
        "GET",
        &app.url(&google),
        None,
        &[("User-Agent", ANDROID)],
        None,
    );
    assert_eq!(to_google.status, 303, "{to_google:?}");
    assert!(
        to_google
            .header("location")
            .starts_with("https://pay.google.com/gp/v/save/"),
        "{to_google:?}"
    );

    // A voided pass is offered to no wallet.
    let created = app.post(
        "/api/v1/passes",
        &app.manager_key,
        json!({"passTemplate": "tpl-bean-there", "pass": {"fullName": "Void Me"}}),
    );
    let id = created.body["data"]["id"].as_str().unwrap();
    let voided_link = created.body["data"]["attributes"]["downloadUrl"]
        .as_str()
        .unwrap();
    let voided = app.patch(
        &format!("/api/v1/passes/{id}"),
        &app.manager_key,
        json!({"passAction": "void"}),
    );
    assert_eq!(voided.status, 200, "{voided:?}");
    for ua in [IPHONE, ANDROID, DESKTOP] {
        let html = page(&app, voided_link, ua).text();
        assert!(html.contains("voided"), "{html}");
        assert_eq!(buttons(&html), (None, None), "{ua}");
        assert!(!html.contains(OPEN_ON_PHONE));
    }
}

/// The page asked for with no `User-Agent` header at all.
fn page_without_user_agent(app: &TestApp, link: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .user_agent(ureq::config::AutoHeaderValue::None)
        .build()
        .into();
    let r = passdesk_tests::service::send(&agent, "GET", &app.url(link), None, &[], None);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("vary"), "User-Agent");
    r.text()
}

#[test]
fn an_odd_missing_or_huge_user_agent_never_fails_the_page() {
    let app = counter(&test_ca().apple_config_toml());
    let link = issue(&app, "Hedy Lamarr");
    assert!(page_without_user_agent(&app, &link).contains("Hedy Lamarr"));
    let huge_iphone = format!("{} iPhone", "x".repeat(48 * 1024));
    let odd = [
        "",
        " ",
        "\t",
        "Android/../../../etc/passwd <script>alert(1)</script>",
        "\"><a href=x>",
        huge_iphone.as_str(),
    ];
    for ua in odd {
        let html = page(&app, &link, ua).text();
        assert!(html.contains("Hedy Lamarr"), "{ua:.40}");
        assert!(
            !html.contains("<script>alert"),
            "the User-Agent is never written into the page"
        );
    }
    // Bytes that are not text (obs-text): read as bytes, not refused.
    let agent = passdesk_tests::service::client();
    let req = ureq::http::Request::builder()
        .method("GET")
        .uri(app.url(&link))
        .header(
            "User-Agent",
            ureq::http::HeaderValue::from_bytes(b"Mozilla/5.0 (\xff\xfe; iPhone)").unwrap(),
        )
        .body(())
        .unwrap();
    let mut res = agent.run(req).unwrap();
    assert_eq!(res.status(), 200);
    let html = res.body_mut().read_to_string().unwrap();
    assert!(html.contains("Hedy Lamarr"));
    // The counter is still up and answering.
    assert_eq!(app.get("/health", &app.reader_key).status, 200);
}
