//! A VTAP on a serial port (a socat pty pair) inside `passdesk serve`: its reads are decided
//! and streamed; unplugging it is a status ("scanner disconnected"), replugging resumes reads.

use passdesk_tests::events::StreamEvents;
use passdesk_tests::service::TestApp;
use passdesk_tests::socat::PtyPair;

#[test]
fn vtap_reads_are_decided_and_unplugging_is_a_status() {
    let cables = tempfile::tempdir().unwrap();
    let mut cable = PtyPair::start(cables.path());
    let host = cable.host_path();
    let app = TestApp::with_serial_till(&host, "vtap = true");
    let events = app.events();

    let mut device = cable.device();
    device.send(b"ABEAN-0001\r");
    let d = events.wait_for("decision", |d| d["attributes"]["readerId"] == "till-1");
    let a = &d["attributes"];
    assert_eq!(
        (
            a["verdict"].as_str(),
            a["medium"].as_str(),
            a["readerId"].as_str()
        ),
        (Some("accept"), Some("nfc_vas"), Some("till-1")),
        "{d}"
    );

    device.send(b"\xff\xfe garbage\r");
    let failed = events.wait_for("tapFailed", |f| f["readerId"] == "till-1");
    assert_eq!(failed["readerId"], "till-1");

    drop(device);
    cable.unplug();
    events.wait_for("device", |v| {
        v["readerId"] == "till-1" && v["connected"] == false
    });
    let line = app.device("till-1").unwrap();
    assert!(
        line["detail"]
            .as_str()
            .unwrap()
            .starts_with("scanner disconnected"),
        "{line}"
    );

    cable.plug();
    events.wait_for("device", |v| {
        v["readerId"] == "till-1" && v["connected"] == true
    });
    cable.device().send(b"QHLF-0001\r");
    let d = events.wait_for("decision", |d| d["attributes"]["readerId"] == "till-1");
    assert_eq!(d["attributes"]["medium"], "qr", "{d}");
}
