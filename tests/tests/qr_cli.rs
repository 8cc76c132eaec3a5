//! `passdesk qr decode` and `passdesk bench qr`, run as the real binary. No timing asserted.

use passdesk_tests::{blank_png, describe, json_lines, Node};

const TESTSET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/testdata/qr");

#[test]
fn qr_decode_prints_one_line_per_file_and_survives_bad_files() {
    let node = Node::empty();
    let good = format!("{TESTSET}/zxing-qrcode-1/1.png");
    let truncated = node.data_dir().join("truncated.png");
    let png = std::fs::read(&good).unwrap();
    std::fs::write(&truncated, &png[..png.len() / 3]).unwrap();
    let empty = node.data_dir().join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    let words = node.data_dir().join("words.png");
    std::fs::write(&words, b"no picture here").unwrap();
    let missing = node.data_dir().join("missing.png");

    let files = [good.clone().into(), truncated, empty, words, missing];
    let mut args = vec!["qr".into(), "decode".into()];
    args.extend(
        files
            .iter()
            .map(|p: &std::path::PathBuf| p.display().to_string()),
    );
    let out = node.run(&args);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 5, "{}", describe(&out));

    let expected = std::fs::read_to_string(format!("{TESTSET}/zxing-qrcode-1/1.txt")).unwrap();
    assert_eq!(lines[0]["file"], good);
    assert_eq!(lines[0]["text"], expected.trim_end_matches('\n'));
    assert_eq!(lines[0]["decoder"], "rxing");
    assert!(lines[0]["ms"].as_f64().unwrap() >= 0.0);
    for line in &lines[1..] {
        assert!(
            line["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{line}"
        );
        assert!(line.get("text").is_none(), "{line}");
    }
}

#[test]
fn qr_decode_of_a_code_free_image_is_null() {
    let node = Node::empty();
    let blank = node.data_dir().join("blank.png");
    std::fs::write(&blank, blank_png(64, 48)).unwrap();
    let out = node.run(&["qr", "decode", blank.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    let line = &json_lines(&out)[0];
    assert!(line["text"].is_null(), "{line}");
    assert!(line["decoder"].is_null(), "{line}");
}

#[test]
fn bench_qr_reports_rates_stages_and_frame_times() {
    let node = Node::empty();
    let report = node.ok(&[
        "bench",
        "qr",
        TESTSET,
        "--frames-per-scene",
        "1",
        "--empty-frames",
        "12",
    ]);
    assert_eq!(report["bench"], "qr");
    assert_eq!(report["images"], 179);
    assert!(report["decoded"].as_u64().unwrap() >= 168, "{report}");
    assert_eq!(report["panicsCaught"], 0);
    assert!(report["byStage"]["rxing"].as_u64().unwrap() > 150);
    assert_eq!(report["frames720pWithoutCode"]["falseReads"], 0);
    for key in ["frames720pWithCode", "frames720pWithoutCode"] {
        let r = &report[key];
        assert!(
            r["p50Ms"].as_f64().unwrap() <= r["p95Ms"].as_f64().unwrap(),
            "{r}"
        );
    }
    // The default directory is found from the build's own location.
    let again = node.run(&[
        "bench",
        "qr",
        "--frames-per-scene",
        "1",
        "--empty-frames",
        "6",
    ]);
    assert!(again.status.success(), "{}", describe(&again));
}
