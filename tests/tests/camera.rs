//! The camera path end to end with the real binary: `passdesk camera watch --frames` plays
//! real photos from `shared/testdata/qr` through the frame decoder and the deduper;
//! `passdesk serve` with a directory camera decides what it sees and reports the camera
//! coming and going; and on a machine without a camera (this one, CI) `camera list`,
//! `camera watch` and `serve` say "no camera" and carry on.

use passdesk_tests::events::{until, StreamEvents};
use passdesk_tests::service::TestApp;
use passdesk_tests::{blank_png, describe, json_lines, Node};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const TESTSET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/testdata/qr");

fn photo(set: u32, n: u32) -> PathBuf {
    PathBuf::from(format!("{TESTSET}/zxing-qrcode-{set}/{n}.png"))
}

fn expected(set: u32, n: u32) -> String {
    let t = std::fs::read_to_string(format!("{TESTSET}/zxing-qrcode-{set}/{n}.txt")).unwrap();
    t.trim_end_matches(['\r', '\n']).to_owned()
}

/// Whether this machine has a camera (then the "no camera" tests have nothing to check).
fn has_camera() -> bool {
    std::fs::read_dir("/dev").is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("video"))
    })
}

/// A directory of frames: `(image, how many consecutive frames)`, as symlinks to the shared
/// photos (nothing copied), numbered so they play in order.
fn film(dir: &Path, scenes: &[(PathBuf, u32)]) {
    std::fs::create_dir_all(dir).unwrap();
    let mut n = 0;
    for (image, frames) in scenes {
        let ext = image.extension().unwrap().to_str().unwrap();
        for _ in 0..*frames {
            std::os::unix::fs::symlink(image, dir.join(format!("{n:04}.{ext}"))).unwrap();
            n += 1;
        }
    }
}

#[test]
fn watch_frames_scans_once_per_presentation() {
    let node = Node::empty();
    let blank = node.data_dir().join("blank.png");
    std::fs::write(&blank, blank_png(640, 480)).unwrap();
    let dir = node.data_dir().join("frames");
    // At 10 fps: a code for 1 s, nothing for 2 s (longer than the 1.5 s that ends a
    // presentation), the same code again, straight away another code, a broken frame.
    film(
        &dir,
        &[
            (photo(1, 1), 10),
            (blank.clone(), 20),
            (photo(1, 1), 5),
            (photo(2, 1), 5),
        ],
    );
    std::fs::write(dir.join("9999.png"), b"not a picture").unwrap();
    let out = node.run(&[
        "camera",
        "watch",
        "--frames",
        dir.to_str().unwrap(),
        "--fps",
        "10",
        "--reader",
        "gate-cam",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let lines = json_lines(&out);
    let scans: Vec<&Value> = lines.iter().filter(|l| l["event"] == "scan").collect();
    let frames: Vec<&str> = scans
        .iter()
        .map(|s| s["frame"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        frames,
        ["0000.png", "0030.png", "0035.png"],
        "{}",
        describe(&out)
    );
    assert_eq!(scans[0]["value"], expected(1, 1));
    assert_eq!(scans[1]["value"], expected(1, 1));
    assert_eq!(scans[2]["value"], expected(2, 1));
    for s in &scans {
        assert_eq!(
            (s["reader"].as_str(), s["medium"]["kind"].as_str()),
            (Some("gate-cam"), Some("qr")),
            "{s}"
        );
    }
    // The broken frame is reported and skipped.
    let bad = lines.last().unwrap();
    assert_eq!(bad["event"], "unreadableFrame", "{}", describe(&out));
}

#[test]
fn camera_list_and_watch_without_a_camera_say_so() {
    let node = Node::empty();
    let out = node.run(&["camera", "list"]);
    assert!(out.status.success(), "{}", describe(&out));
    let list = json_lines(&out);
    assert!(list[0]["data"].is_array(), "{}", describe(&out));
    if has_camera() {
        return;
    }
    assert_eq!(list[0]["data"], json!([]));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no camera"),
        "{}",
        describe(&out)
    );

    let out = node.run(&["camera", "watch", "--timeout", "3"]);
    assert_eq!(out.status.code(), Some(6), "{}", describe(&out));
    let lines = json_lines(&out);
    assert_eq!(
        (
            lines[0]["event"].as_str(),
            lines[0]["status"].as_str(),
            lines[0]["message"].as_str()
        ),
        (Some("status"), Some("no_camera"), Some("no camera")),
        "{}",
        describe(&out)
    );
    // One line for the state, not one per look.
    assert_eq!(lines.len(), 1, "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no camera: waiting for it"),
        "{}",
        describe(&out)
    );
}

fn camera_line(app: &TestApp) -> Option<Value> {
    let status = app.get("/api/v1/status", &app.reader_key);
    status.body["data"]["attributes"]["devices"]
        .as_array()?
        .iter()
        .find(|d| d["kind"] == "camera")
        .cloned()
}

#[test]
fn serve_decides_what_a_frames_camera_sees_and_reports_it_coming_and_going() {
    let frames = tempfile::tempdir().unwrap();
    let dir = frames.path().join("camera");
    let text = expected(1, 1);
    let app = TestApp::start_with(
        |node| {
            let pass = json!({"id": "cam-pass", "type": "pass", "attributes": {
                "passType": "storeCard", "status": "issued", "extId": "ext-cam",
                "passTemplateUuid": "tpl-cam", "passTemplateName": "Camera Card",
                "barcode": {"type": "qrCode", "value": text, "displayText": true},
                "passContent": {"fullName": "Cam Holder"},
                "createdAt": "2026-01-01T10:00:00Z"
            }});
            let file = node.data_dir().join("cam.jsonl");
            std::fs::write(&file, pass.to_string()).unwrap();
            node.ok(&[std::ffi::OsStr::new("import"), file.as_os_str()]);
            frames_camera(node, &dir);
        },
        false,
    );
    let events = app.events();
    // No directory yet: the camera is not there, and the service runs.
    let line = until("the camera's 'no camera' status", || {
        camera_line(&app).filter(|l| l["detail"] == "no camera")
    });
    assert_eq!(line["readerId"], "gate-cam");

    // Plugged in: it connects within the 2 s it looks, and the photo becomes one decision.
    film(&dir, &[(photo(1, 1), 3)]);
    events.wait_for("device", |v| {
        v["kind"] == "camera" && v["connected"] == true
    });
    let d = events.wait_for("decision", |v| v["attributes"]["readerId"] == "gate-cam");
    let a = &d["attributes"];
    assert_eq!(
        (
            a["verdict"].as_str(),
            a["medium"].as_str(),
            a["passId"].as_str()
        ),
        (Some("accept"), Some("qr"), Some("cam-pass")),
        "{d}"
    );
    let line = camera_line(&app).unwrap();
    assert_eq!(line["connected"], true, "{line}");

    // Unplugged: a status, not an error; plugged back: it resumes.
    std::fs::remove_dir_all(&dir).unwrap();
    let gone = events.wait_for("device", |v| {
        v["kind"] == "camera" && v["connected"] == false
    });
    assert_eq!(gone["detail"], "camera disconnected", "{gone}");
    assert_eq!(camera_line(&app).unwrap()["detail"], "camera disconnected");
    film(&dir, &[(photo(1, 1), 3)]);
    events.wait_for("device", |v| {
        v["kind"] == "camera" && v["connected"] == true
    });
    assert_eq!(app.get("/health", &app.reader_key).status, 200);
}

#[test]
fn serve_without_a_camera_says_no_camera_and_serves() {
    if has_camera() {
        return;
    }
    let app = TestApp::start();
    let l = until("the 'no camera' status", || {
        camera_line(&app).filter(|l| l["detail"] == "no camera")
    });
    assert_eq!(
        (l["connected"].as_bool(), l["readerId"].as_str()),
        (Some(false), Some("camera"))
    );
    // And the counter works.
    let d = app.scan("BEAN-0001", "till-1");
    assert!(d["verdict"].is_string(), "{d}");
}

/// The width and height in a JPEG's start-of-frame header.
fn jpeg_size(jpeg: &[u8]) -> Option<(u16, u16)> {
    if jpeg.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut i = 2;
    while i + 9 < jpeg.len() {
        if jpeg[i] != 0xFF {
            return None;
        }
        let marker = jpeg[i + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        if (0xC0..=0xC2).contains(&marker) {
            let h = u16::from_be_bytes([jpeg[i + 5], jpeg[i + 6]]);
            let w = u16::from_be_bytes([jpeg[i + 7], jpeg[i + 8]]);
            return Some((w, h));
        }
        i += 2 + len;
    }
    None
}

fn frames_camera(node: &passdesk_tests::Node, dir: &Path) {
    let config = format!(
        "[camera]\nreader_id = \"gate-cam\"\nframes_dir = \"{}\"\nframes_fps = 10\n",
        dir.display()
    );
    std::fs::write(node.data_dir().join("passdesk.toml"), config).unwrap();
}

#[test]
fn the_camera_preview_shows_the_frame_with_the_code_outlined() {
    let frames = tempfile::tempdir().unwrap();
    let dir = frames.path().join("camera");
    // A 1280x960 photo: the preview is it at half size.
    film(&dir, &[(photo(2, 6), 400)]);
    let app = TestApp::start_with(|node| frames_camera(node, &dir), false);

    let info = until("a preview with an outline", || {
        let r = app.get("/api/v1/camera/preview.json", &app.reader_key);
        let outlined = r.status == 200 && r.body["data"]["attributes"]["outline"].is_array();
        outlined.then(|| r.body["data"]["attributes"].clone())
    });
    assert_eq!(
        (info["width"].as_u64(), info["height"].as_u64()),
        (Some(640), Some(480)),
        "{info}"
    );
    assert_eq!(info["text"], expected(2, 6), "{info}");
    assert!(info["at"].is_string() && info["ageMs"].is_i64(), "{info}");
    let outline = info["outline"].as_array().unwrap();
    assert!(outline.len() >= 3, "{info}");
    for p in outline {
        let (x, y) = (p[0].as_f64().unwrap(), p[1].as_f64().unwrap());
        assert!(
            (0.0..=640.0).contains(&x) && (0.0..=480.0).contains(&y),
            "{info}"
        );
    }

    let (status, ct, cache, jpeg) = app.get_bytes("/api/v1/camera/preview", Some(&app.reader_key));
    assert_eq!(
        (status, ct.as_str(), cache.as_str()),
        (200, "image/jpeg", "no-store")
    );
    assert_eq!(jpeg_size(&jpeg), Some((640, 480)), "{} bytes", jpeg.len());

    // A key is needed, and it must be valid.
    for key in [None, Some("pdk_nope_nope")] {
        for path in ["/api/v1/camera/preview", "/api/v1/camera/preview.json"] {
            let (status, ct, _, body) = app.get_bytes(path, key);
            assert_eq!(status, 401, "{path} {key:?}");
            assert!(ct.starts_with("application/json"), "{ct}");
            let body: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["errors"][0]["code"], "unauthorized", "{body}");
        }
    }
}

#[test]
fn the_camera_preview_without_a_camera_is_a_clear_error() {
    // Switched off: no camera at all.
    let app = TestApp::with_config("[camera]\nenabled = false\n");
    for path in ["/api/v1/camera/preview", "/api/v1/camera/preview.json"] {
        let r = app.get(path, &app.reader_key);
        assert_eq!(r.status, 404, "{path}: {r:?}");
        assert_eq!(r.body["errors"][0]["code"], "no_camera", "{r:?}");
        let detail = r.body["errors"][0]["detail"].as_str().unwrap();
        assert!(detail.starts_with("no camera"), "{detail}");
    }
    drop(app);

    // Configured, but its directory is not there (a camera not plugged in): its status.
    let frames = tempfile::tempdir().unwrap();
    let dir = frames.path().join("camera");
    let app = TestApp::start_with(|node| frames_camera(node, &dir), false);
    until("the preview's 'no camera: no preview'", || {
        let r = app.get("/api/v1/camera/preview", &app.reader_key);
        assert_eq!(r.status, 404, "{r:?}");
        assert_eq!(r.body["errors"][0]["code"], "camera_unavailable", "{r:?}");
        (r.body["errors"][0]["detail"] == "no camera: no preview").then_some(())
    });
}
