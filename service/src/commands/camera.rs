//! `passdesk camera list|watch`: the cameras of this machine, and the codes one sees.
//!
//! `watch` prints one JSON line per event, like `passdesk serial watch`: `status` when the
//! camera's state changes (`connected`, `no_camera`, `disconnected`, `permission_denied`,
//! `busy`, ...), `scan` for each code presented (the same code in consecutive frames is one
//! scan; it scans again once it has been out of view for 1.5 s, or after `--repeat-after`
//! seconds held in view). Without a camera it says so (a status line, and a sentence on
//! stderr) and waits for one, looking every 2 s, as a counter does: plug the camera in and it
//! starts. `--timeout` bounds the wait; exit status 6 when no camera ever came.
//!
//! `--frames DIR` plays a directory of images instead, each image one frame at `--fps`
//! (timestamps as a camera at that rate would give them, so runs repeat exactly), through the
//! same frame decoder and deduper as the camera, and ends after the last image.

use crate::context::Context;
use crate::output::print_json;
use anyhow::Context as _;
use passdesk_hardware::camera::{CameraSelector, CameraSettings};
use passdesk_hardware::qr::{Clocked, DedupPolicy, FrameDecoder, ImageFiles, QrDeduper, QrScanner};
use passdesk_hardware::Scan;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

/// `watch` ended without a camera ever connecting.
pub const EXIT_NO_CAMERA: u8 = 6;

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// The cameras of this machine, with the modes each offers.
    List,
    /// Read QR codes with a camera: one JSON line per scan or camera change.
    Watch(WatchArgs),
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Which camera: auto (the first that works), an index (0 for /dev/video0), a device path,
    /// or a part of its name.
    #[arg(long = "camera", value_name = "NAME|INDEX", default_value = "auto")]
    pub camera: CameraSelector,
    /// Frame size to ask for (the camera's nearest mode is used).
    #[arg(long, default_value_t = 1280)]
    pub width: u32,
    #[arg(long, default_value_t = 720)]
    pub height: u32,
    /// The reader id scans carry.
    #[arg(long = "reader", value_name = "ID", default_value = "camera")]
    pub reader_id: String,
    /// A code held in view scans again after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub repeat_after: u64,
    /// Stop after this many scans.
    #[arg(long)]
    pub count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Play the images of DIR (sorted by path) as frames instead of a camera, then stop.
    #[arg(long, value_name = "DIR", conflicts_with = "camera")]
    pub frames: Option<PathBuf>,
    /// With --frames: the frame rate the images are stamped with.
    #[arg(long, default_value_t = 10, requires = "frames")]
    pub fps: u32,
}

pub fn run(_ctx: &Context, cmd: Cmd) -> anyhow::Result<ExitCode> {
    match cmd {
        Cmd::List => list(),
        Cmd::Watch(args) => match &args.frames {
            Some(dir) => watch_frames(dir.clone(), &args),
            None => watch_camera(&args),
        },
    }
}

#[cfg(feature = "camera")]
fn list() -> anyhow::Result<ExitCode> {
    use passdesk_hardware::camera::{CameraBackend, V4lCameras};
    let mut cams = V4lCameras;
    let found = cams.list().context("list the cameras")?;
    if found.is_empty() {
        eprintln!("no camera found (no /dev/video* device)");
    }
    let data: Vec<Value> = found
        .iter()
        .map(|c| {
            let mut line = json!({
                "index": c.index,
                "name": c.name,
                "path": c.path,
            });
            // Opening a camera to ask its modes takes a moment and may fail (busy, forbidden):
            // the line says why instead.
            match cams.modes(c) {
                Ok(modes) => {
                    line["modes"] = json!(modes
                        .iter()
                        .map(|m| json!({"format": m.format.name(), "width": m.width, "height": m.height, "fps": m.fps}))
                        .collect::<Vec<_>>())
                }
                Err(e) => line["error"] = json!(e.to_string()),
            }
            line
        })
        .collect();
    print_json(&json!({ "data": data }))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "camera"))]
fn list() -> anyhow::Result<ExitCode> {
    anyhow::bail!("this passdesk was built without camera support (cargo feature `camera`)")
}

fn settings(args: &WatchArgs) -> anyhow::Result<CameraSettings> {
    passdesk_core::scan::ReaderId::parse(&args.reader_id).context("--reader")?;
    let mut s = CameraSettings::new(args.reader_id.clone());
    s.selector = args.camera.clone();
    s.resolution = (args.width, args.height);
    s.dedup = DedupPolicy {
        repeat_after: Duration::from_secs(args.repeat_after.max(1)),
        ..DedupPolicy::default()
    };
    Ok(s)
}

fn scan_json(s: &Scan) -> Value {
    json!({
        "event": "scan",
        "reader": s.reader_id,
        "medium": s.medium,
        "value": std::str::from_utf8(&s.value).ok(),
        "valueHex": hex::encode(&s.value),
        "at": rfc3339(s.at),
    })
}

#[cfg(feature = "camera")]
fn status_json(s: &passdesk_hardware::camera::CameraStatus) -> Value {
    use passdesk_hardware::camera::CameraStatus;
    let mut line = json!({
        "event": "status",
        "status": s.code(),
        "connected": s.is_connected(),
        "message": s.message(),
    });
    if let CameraStatus::Connected { camera, mode } = s {
        line["camera"] = json!(camera);
        line["mode"] = json!(mode.to_string());
    }
    line
}

#[cfg(feature = "camera")]
fn watch_camera(args: &WatchArgs) -> anyhow::Result<ExitCode> {
    use passdesk_hardware::camera::{CameraEvent, CameraScanner};
    use std::sync::mpsc::{channel, RecvTimeoutError};
    let (tx, rx) = channel();
    let scanner = CameraScanner::spawn(passdesk_hardware::camera::V4lCameras, settings(args)?, tx)
        .context("start the camera threads")?;
    let deadline = args
        .timeout
        .map(|s| Instant::now() + Duration::from_secs(s));
    let (mut scans, mut ever_connected) = (0u64, false);
    while args.count.is_none_or(|c| scans < c) {
        let wait = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()),
            None => Duration::from_secs(3600),
        };
        if wait.is_zero() {
            break;
        }
        let event = match rx.recv_timeout(wait) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        match &event {
            CameraEvent::Status(s) => {
                ever_connected |= s.is_connected();
                if !s.is_connected() {
                    eprintln!(
                        "{}: waiting for it (looking every 2 s; Ctrl-C to stop)",
                        s.message()
                    );
                }
                print_json(&status_json(s))?;
            }
            CameraEvent::Scan(scan) => {
                scans += 1;
                print_json(&scan_json(scan))?;
            }
        }
    }
    scanner.stop();
    Ok(if ever_connected {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_NO_CAMERA)
    })
}

#[cfg(not(feature = "camera"))]
fn watch_camera(_args: &WatchArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("this passdesk was built without camera support (cargo feature `camera`); --frames DIR still works")
}

fn watch_frames(dir: PathBuf, args: &WatchArgs) -> anyhow::Result<ExitCode> {
    let settings = settings(args)?;
    let files = ImageFiles::from_dir(&dir)?;
    let source = Clocked::new(files, SystemTime::now(), args.fps);
    let mut scanner = QrScanner::new(
        source,
        FrameDecoder::default(),
        QrDeduper::new(settings.reader_id, settings.dedup),
    );
    let deadline = args
        .timeout
        .map(|s| Instant::now() + Duration::from_secs(s));
    let mut scans = 0u64;
    while args.count.is_none_or(|c| scans < c) && deadline.is_none_or(|d| Instant::now() < d) {
        let Some(item) = scanner.next() else { break };
        match item {
            Ok(scan) => {
                scans += 1;
                let mut line = scan_json(&scan);
                line["frame"] = json!(scanner.last_label());
                print_json(&line)?;
            }
            Err(e) => print_json(&json!({ "event": "unreadableFrame", "error": e.to_string() }))?,
        }
    }
    tracing::info!(frames = scanner.frames(), scans, "frames played");
    Ok(ExitCode::SUCCESS)
}

fn rfc3339(t: SystemTime) -> Option<String> {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    chrono::DateTime::from_timestamp(d.as_secs() as i64, d.subsec_nanos())
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}
