//! A VTAP on a serial port (a socat pty pair) inside `passdesk serve`: its reads are decided
//! and streamed; unplugging it is a status ("scanner disconnected"), replugging resumes reads.

use passdesk_tests::events::{until, StreamEvents};
use passdesk_tests::service::TestApp;
use passdesk_tests::socat::PtyPair;

#[test]
fn vtap_reads_are_decided_and_unplugging_is_a_status() {
    let cables = tempfile::tempdir().unwrap();
    let mut cable = PtyPair::start(cables.path());
    let host = cable.host_path();
    let app = TestApp::start_with(
        |node| {
            let config = format!("[[serial]]\nreader_id = \"till-1\"\nport = \"{}\"\nvtap = true\nterminator = \"cr\"\n", host.display());
            std::fs::write(node.data_dir().join("passdesk.toml"), config).unwrap();
        },
        false,
    );
    let events = app.events();
    until("the serial reader till-1 connected on /status", || {
        serial_connected(&app).then_some(())
    });

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
    let status = app.get("/api/v1/status", &app.reader_key);
    let line = status.body["data"]["attributes"]["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["readerId"] == "till-1")
        .cloned()
        .unwrap();
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

fn serial_connected(app: &TestApp) -> bool {
    let status = app.get("/api/v1/status", &app.reader_key);
    status.body["data"]["attributes"]["devices"]
        .as_array()
        .is_some_and(|d| {
            d.iter()
                .any(|d| d["readerId"] == "till-1" && d["connected"] == true)
        })
}
