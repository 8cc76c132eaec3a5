//! The QR camera inside `passdesk serve` (`[camera]` in passdesk.toml): the hardware crate's
//! capture and decode threads (never the tokio runtime's), and one dispatcher thread here
//! offering their scans (medium `qr`, the camera's reader id) to the camera pipeline's
//! [`Feed`] (never waiting for the database) and turning their status changes ("no camera",
//! "camera disconnected") into the `/status` line and stream events.

use super::feed::{Drain, Feed};
use super::DeviceStatus;
use crate::config::CameraConfig;
use crate::server::routes::scans::publish;
use crate::server::state::AppState;
use anyhow::Context as _;
use passdesk_core::scan::ReaderId;
use passdesk_hardware::camera::{
    CameraEvent, CameraScanner, CameraSettings, CameraStatus, DirectoryCamera,
};
use serde_json::json;
use std::sync::mpsc::{channel, Sender};
use std::time::Duration;

const DEVICE_KEY: &str = "camera";

/// Checks `[camera]` and turns it into the camera threads' settings; errors name the field.
pub fn settings(c: &CameraConfig) -> anyhow::Result<CameraSettings> {
    ReaderId::parse(&c.reader_id)
        .with_context(|| format!("camera: reader_id {:?}", c.reader_id))?;
    anyhow::ensure!(
        (16..=8192).contains(&c.width) && (16..=8192).contains(&c.height),
        "camera: width and height must be between 16 and 8192 (got {}x{})",
        c.width,
        c.height
    );
    anyhow::ensure!(
        (1..=120).contains(&c.frames_fps),
        "camera: frames_fps must be between 1 and 120"
    );
    let mut s = CameraSettings::new(c.reader_id.clone());
    s.selector = c.device.selector();
    s.resolution = (c.width, c.height);
    s.dedup.repeat_after = Duration::from_secs(c.repeat_after_secs.max(1));
    Ok(s)
}

/// The running camera; [`Camera::stop`] ends its threads.
pub struct Camera {
    state: AppState,
    scanner: Option<CameraScanner>,
    dispatcher: Option<std::thread::JoinHandle<()>>,
    drain: Option<Drain>,
}

impl Camera {
    /// Ends the capture, decode and dispatcher threads: no new reads. The reads already queued
    /// are decided by the returned [`Drain`]. An error: the dispatcher had panicked.
    pub fn stop(mut self) -> (anyhow::Result<()>, Option<Drain>) {
        *self
            .state
            .camera_preview
            .write()
            .unwrap_or_else(|p| p.into_inner()) = None;
        if let Some(s) = self.scanner.take() {
            s.stop();
        }
        // The scanner held the last sender: the dispatcher ends now.
        let joined = super::join_thread(self.dispatcher.take(), "the camera dispatcher thread");
        (joined, self.drain.take())
    }
}

/// Starts the camera of `[camera]` (a directory of images when `frames_dir` is set). A build
/// without the `camera` feature shows that on the status screen and runs without one.
pub fn spawn(
    state: AppState,
    cfg: &CameraConfig,
    settings: CameraSettings,
    runtime: tokio::runtime::Handle,
) -> anyhow::Result<Camera> {
    let reader_id = settings.reader_id.clone();
    state.devices.set(
        DEVICE_KEY.into(),
        DeviceStatus::new(
            "camera",
            "camera".into(),
            Some(reader_id.clone()),
            false,
            Some("looking for a camera".into()),
        ),
    );
    let (tx, rx) = channel();
    let scanner = start(cfg, settings, tx)?;
    match &scanner {
        Some(s) => {
            *state
                .camera_preview
                .write()
                .unwrap_or_else(|p| p.into_inner()) = Some(s.preview_slot());
        }
        None => state.devices.update(DEVICE_KEY, |d| {
            d.detail = Some("no camera: this build has no camera support".into());
        }),
    }
    let camera_state = state.clone();
    let (feed, drain) = Feed::start(
        state.clone(),
        &runtime,
        "camera",
        "Could not record this scan: please show the code again",
    );
    // The feed lives in the dispatcher: when it ends (even by a panic), the decider drains.
    let dispatcher = std::thread::Builder::new()
        .name("passdesk-camera".into())
        .spawn(move || {
            for event in rx {
                handle(&state, &feed, &reader_id, event);
            }
        })
        .context("start the camera dispatcher")?;
    Ok(Camera {
        state: camera_state,
        scanner,
        dispatcher: Some(dispatcher),
        drain: Some(drain),
    })
}

fn start(
    cfg: &CameraConfig,
    settings: CameraSettings,
    tx: Sender<CameraEvent>,
) -> anyhow::Result<Option<CameraScanner>> {
    let spawned = if let Some(dir) = &cfg.frames_dir {
        CameraScanner::spawn(DirectoryCamera::new(dir, cfg.frames_fps), settings, tx)
    } else {
        #[cfg(feature = "camera")]
        {
            CameraScanner::spawn(passdesk_hardware::camera::V4lCameras, settings, tx)
        }
        #[cfg(not(feature = "camera"))]
        {
            drop((settings, tx));
            tracing::warn!("built without the camera feature: no camera");
            return Ok(None);
        }
    };
    spawned.map(Some).context("start the camera threads")
}

fn handle(state: &AppState, feed: &Feed, reader_id: &str, event: CameraEvent) {
    match event {
        CameraEvent::Status(status) => {
            let name = match &status {
                CameraStatus::Connected { camera, mode } => format!("{} ({mode})", camera.name),
                _ => "camera".to_owned(),
            };
            let connected = status.is_connected();
            let detail = (!connected).then(|| status.message());
            state.devices.update(DEVICE_KEY, |d| {
                d.name = name.clone();
                d.connected = connected;
                d.detail = detail.clone();
            });
            publish(
                state,
                "device",
                &json!({ "kind": "camera", "name": name, "readerId": reader_id, "connected": connected, "detail": detail, "status": status.code() }),
            );
        }
        CameraEvent::Scan(scan) => {
            let Ok(reader) = ReaderId::parse(&scan.reader_id) else {
                return;
            };
            let input = super::scan_input(scan.value, scan.medium, scan.at, reader);
            feed.offer(DEVICE_KEY, input);
        }
    }
}
