//! Serial readers through real ptys: a simulated VTAP or barcode scanner writes to one end of a
//! socat pty pair, `passdesk serial watch` reads the other, one JSON line per event. Waits are
//! generous and only ever waits: nothing here asserts how fast a read arrives.

use passdesk_tests::events::until;
use passdesk_tests::socat::{Device, PtyPair};
use passdesk_tests::sysfs::{plug_usb_tty, unplug_usb_tty};
use passdesk_tests::watch::WatchProcess;
use passdesk_tests::{describe, Node};
use serde_json::{json, Value};
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

struct Watch(WatchProcess);

impl Watch {
    /// Starts `passdesk serial watch --port HOST ARGS...` and waits for it to open the port.
    fn start(node: &Node, pair: &PtyPair, args: &[&str]) -> Self {
        let mut all: Vec<OsString> = vec!["--port".into(), pair.host_path().into()];
        all.extend(args.iter().map(OsString::from));
        Self::spawn(node.cmd(), &all, pair)
    }

    /// Runs `cmd` (`passdesk --data-dir D`) with `serial watch ARGS` and waits for it to open
    /// `pair`'s host end.
    fn spawn(mut cmd: Command, args: &[OsString], pair: &PtyPair) -> Self {
        cmd.args(["serial", "watch", "--timeout", "120"]).args(args);
        let w = Self(WatchProcess::spawn(cmd));
        let first = w.next();
        assert_eq!(first["event"], "connected", "{first}");
        assert_eq!(first["path"], pair.host_path().to_str().unwrap());
        w
    }

    /// The next event: the reads of one serial line come out in the order they were sent.
    fn next(&self) -> Value {
        self.0.next()
    }

    /// The next event, which must be a scan of `value` through `medium`.
    fn scan(&self, medium: Value, value: &str) {
        let e = self.next();
        assert_eq!(e["event"], "scan", "{e}");
        assert_eq!(e["medium"], medium, "{e}");
        assert_eq!(e["value"], value, "{e}");
        assert_eq!(e["valueHex"], hex(value.as_bytes()), "{e}");
    }

    /// The next event, which must be a rejected read for `reason`.
    fn rejected(&self, reason: &str) -> Value {
        let e = self.next();
        assert_eq!(e["event"], "rejected", "{e}");
        assert_eq!(e["reason"], reason, "{e}");
        assert!(e["error"].as_str().is_some_and(|s| !s.is_empty()), "{e}");
        e
    }

    /// Bytes the watch process has read so far, from any file (`rchar` of /proc/PID/io).
    /// While it runs, the port is all it reads.
    fn bytes_read(&self) -> u64 {
        let pid = self.0.pid();
        let io = std::fs::read_to_string(format!("/proc/{pid}/io"))
            .unwrap_or_else(|e| panic!("/proc/{pid}/io: {e}"));
        io.lines()
            .find_map(|l| l.strip_prefix("rchar: "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no rchar in /proc/{pid}/io: {io}"))
    }

    /// Sends `piece` and returns once the watch has read it: the next piece then arrives in
    /// a read of its own (a split write), not in the same one.
    fn send_apart(&self, device: &mut Device, piece: &[u8]) {
        let before = self.bytes_read();
        device.send(piece);
        let want = before + piece.len() as u64;
        until("serial watch to read what was sent", || {
            (self.bytes_read() >= want).then_some(())
        });
    }

    /// Waits for the process to stop by itself after `--count` reads: no read beyond them.
    fn finish(self) {
        let rest = self.0.finish();
        assert!(
            !rest
                .iter()
                .any(|e| e["event"] == "scan" || e["event"] == "rejected"),
            "reads nobody sent: {rest:?}"
        );
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn nfc(kind: &str) -> Value {
    json!({ "kind": "nfc", "nfc": kind })
}

#[test]
fn serial_list_prints_the_ports() {
    let node = Node::empty();
    let out = node.run(&["serial", "list"]);
    assert!(out.status.success(), "{}", describe(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["data"].is_array(), "{v}");
}

#[test]
fn a_vtap_on_a_pty_reads_passes_cards_and_codes() {
    let dir = tempfile::tempdir().unwrap();
    let mut pair = PtyPair::start(dir.path());
    let node = Node::empty();
    let watch = Watch::start(
        &node,
        &pair,
        &[
            "--vtap",
            "--terminator",
            "cr",
            "--prefix",
            r"\x02",
            "--count",
            "15",
        ],
    );
    let mut vtap = pair.device();

    // One read per pass type.
    vtap.send(b"\x02Apass-apple\r");
    watch.scan(nfc("vas"), "pass-apple");
    vtap.send(b"\x02Gpass-google\r");
    watch.scan(nfc("smart_tap"), "pass-google");
    vtap.send(b"\x02404A1B2C3D4E5F6\r");
    watch.scan(nfc("uid"), "04A1B2C3D4E5F6");
    vtap.send(b"\x02QPD1.payload.signature\r");
    watch.scan(json!({ "kind": "qr" }), "PD1.payload.signature");

    // One read written in pieces.
    for piece in [&b"\x02Asp"[..], b"lit-", b"read", b"\r"] {
        watch.send_apart(&mut vtap, piece);
    }
    watch.scan(nfc("vas"), "split-read");

    // Several reads in one write.
    vtap.send(b"\x02Aone\r\x02Gtwo\r\x020three\r");
    watch.scan(nfc("vas"), "one");
    watch.scan(nfc("smart_tap"), "two");
    watch.scan(nfc("uid"), "three");

    // Garbage, a pass type we do not read, a read without the prefix: reasons, then on.
    vtap.send(b"\x02A\xFF\xFE\x80garbage\r");
    watch.rejected("invalid_utf8");
    vtap.send(b"\x02Xaccess\r\x02Anul\x00byte\rno-prefix\r");
    watch.rejected("unknown_pass_type");
    watch.rejected("control_character");
    watch.rejected("missing_prefix");

    // A 64 KB line: one rejection, memory bounded, and the next read is fine.
    let mut long = b"\x02A".to_vec();
    long.extend(std::iter::repeat_n(b'x', 64 * 1024));
    long.push(b'\r');
    vtap.send(&long);
    vtap.send(b"\x02Aafter-long\r");
    let e = watch.rejected("too_long");
    assert_eq!(e["previewHex"].as_str().unwrap().len(), 64, "{e}");
    watch.scan(nfc("vas"), "after-long");

    // Unplug mid-read: reported; plug back in (same link path): reopened, and reads go on
    // without the half read from before.
    watch.send_apart(&mut vtap, b"\x02Ahalf-");
    drop(vtap);
    pair.unplug();
    let e = watch.next();
    assert_eq!(e["event"], "disconnected", "{e}");
    assert_eq!(e["message"], "scanner disconnected", "{e}");
    pair.plug();
    let e = watch.next();
    assert_eq!(e["event"], "connected", "{e}");
    let mut vtap = pair.device();
    vtap.send(b"\x02Aback-again\r");
    watch.scan(nfc("vas"), "back-again");
    watch.finish();
}

#[test]
fn a_barcode_scanner_on_a_pty_with_crlf() {
    let dir = tempfile::tempdir().unwrap();
    let pair = PtyPair::start(dir.path());
    let node = Node::empty();
    let watch = Watch::start(&node, &pair, &["--terminator", "crlf", "--count", "5"]);
    let mut scanner = pair.device();
    scanner.send(b"CODE-1\r\n");
    watch.scan(json!({ "kind": "serial" }), "CODE-1");
    // The CR and the LF of one terminator in different writes.
    watch.send_apart(&mut scanner, b"CODE-");
    watch.send_apart(&mut scanner, b"2\r");
    scanner.send(b"\n");
    watch.scan(json!({ "kind": "serial" }), "CODE-2");
    scanner.send(b"\r\nCODE-3\r\nCODE-4\r\n\x00\x01\x02\r\n");
    watch.scan(json!({ "kind": "serial" }), "CODE-3");
    watch.scan(json!({ "kind": "serial" }), "CODE-4");
    watch.rejected("control_character");
    watch.finish();
}

#[test]
fn a_qr_scanner_that_only_pauses_between_reads() {
    let dir = tempfile::tempdir().unwrap();
    let pair = PtyPair::start(dir.path());
    let node = Node::empty();
    let watch = Watch::start(
        &node,
        &pair,
        &["--terminator", "idle:300", "--medium", "qr", "--count", "2"],
    );
    let mut scanner = pair.device();
    scanner.send(b"PD1.first");
    watch.scan(json!({ "kind": "qr" }), "PD1.first");
    scanner.send(b"PD1.second");
    watch.scan(json!({ "kind": "qr" }), "PD1.second");
    watch.finish();
}

#[test]
fn a_missing_port_is_reported_and_opened_when_it_appears() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::empty();
    let host = dir.path().join("host");
    let mut child = node
        .cmd()
        .args([
            "serial",
            "watch",
            "--timeout",
            "120",
            "--count",
            "1",
            "--port",
        ])
        .arg(&host)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || -> Value { serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap() };
    let e = next();
    assert_eq!(e["event"], "disconnected", "{e}");
    let pair = PtyPair::start(dir.path());
    let e = next();
    assert_eq!(e["event"], "connected", "{e}");
    pair.device().send(b"late\n");
    let e = next();
    assert_eq!(e["value"], "late", "{e}");
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_vtap_found_by_usb_ids_is_found_again_under_another_tty_number() {
    let dir = tempfile::tempdir().unwrap();
    let (sys, dev) = (dir.path().join("sys"), dir.path().join("dev"));
    std::fs::create_dir_all(&dev).unwrap();
    plug_usb_tty(&sys, "ttyACM0", "1fc9", "0117", "VT-1");
    let mut pair = PtyPair::start_at(dir.path().join("vtap"), dev.join("ttyACM0"));
    let node = Node::empty();
    let mut cmd = node.cmd();
    cmd.env("PASSDESK_SYS_ROOT", &sys)
        .env("PASSDESK_DEV_ROOT", &dev);
    let args = ["--usb", "1FC9:0117/VT-1", "--vtap", "--count", "2"].map(OsString::from);
    let watch = Watch::spawn(cmd, &args, &pair);
    pair.device().send(b"Aon-acm0\r");
    watch.scan(nfc("vas"), "on-acm0");

    // Unplugged; back as ttyACM1 (the kernel had not let go of ttyACM0 yet).
    unplug_usb_tty(&sys, "ttyACM0");
    pair.unplug();
    let e = watch.next();
    assert_eq!(e["event"], "disconnected", "{e}");
    plug_usb_tty(&sys, "ttyACM1", "1fc9", "0117", "VT-1");
    pair.set_host_path(dev.join("ttyACM1"));
    pair.plug();
    let e = watch.next();
    assert_eq!(e["event"], "connected", "{e}");
    assert_eq!(e["path"], dev.join("ttyACM1").to_str().unwrap(), "{e}");
    pair.device().send(b"Aon-acm1\r");
    watch.scan(nfc("vas"), "on-acm1");
    watch.finish();
}
