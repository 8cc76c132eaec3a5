//! The camera's two threads. The capture thread finds the configured camera, opens it, and
//! puts every frame into a single-slot [`Mailbox`] (latest wins); when there is no camera, or
//! it is unplugged, busy or forbidden, it reports a [`CameraStatus`] and looks again every
//! `retry`. The decode thread takes the newest frame, runs the QR frame decoder and the
//! deduper on it ([`QrScanner`]) and reports each new scan. Both report over one channel of
//! [`CameraEvent`]s; neither ever touches an async runtime, and nothing a camera driver or a
//! decoder does (an error, a panic) ends them.

use super::device::{CameraBackend, CameraInfo, CameraSelector, CameraStream};
use super::luma::Captured;
use super::mailbox::{Mailbox, Taken};
use super::preview::{Preview, PreviewMaker, PreviewSlot};
use super::status::CameraStatus;
use crate::qr::frame_source::{Frame, FrameSource};
use crate::qr::{DedupPolicy, FrameDecoder, QrDeduper, QrError, QrScanner};
use crate::scan::Scan;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// How often a missing camera is looked for.
pub const RETRY: Duration = Duration::from_secs(2);
/// Default frame size asked of the camera.
pub const DEFAULT_RESOLUTION: (u32, u32) = (1280, 720);
/// This many unreadable frames in a row (a camera sending garbage) count as a broken camera.
const MAX_BAD_FRAMES: u32 = 60;

/// What the camera threads report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraEvent {
    /// The camera's status changed (reported once per change, not per retry).
    Status(CameraStatus),
    /// A code came into view.
    Scan(Scan),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraSettings {
    /// What scans from this camera are attributed to.
    pub reader_id: String,
    pub selector: CameraSelector,
    /// Frame size to ask for (the nearest the camera offers is used).
    pub resolution: (u32, u32),
    pub retry: Duration,
    pub dedup: DedupPolicy,
}

impl CameraSettings {
    pub fn new(reader_id: impl Into<String>) -> Self {
        Self {
            reader_id: reader_id.into(),
            selector: CameraSelector::First,
            resolution: DEFAULT_RESOLUTION,
            retry: RETRY,
            dedup: DedupPolicy::default(),
        }
    }
}

/// A frame waiting in the mailbox.
#[derive(Debug)]
struct Captures {
    captured: Captured,
    at: SystemTime,
    seq: u64,
}

/// The running camera: capture and decode threads. Stops when told to or dropped.
pub struct CameraScanner {
    stop: Arc<AtomicBool>,
    mailbox: Arc<Mailbox<Captures>>,
    preview: Arc<PreviewSlot>,
    capture: Option<JoinHandle<()>>,
    decode: Option<JoinHandle<()>>,
}

impl CameraScanner {
    /// Starts both threads; events go to `events` until it is dropped or [`Self::stop`].
    pub fn spawn<B: CameraBackend>(
        backend: B,
        settings: CameraSettings,
        events: Sender<CameraEvent>,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let mailbox = Arc::new(Mailbox::new());
        let preview = Arc::new(PreviewSlot::default());
        let decode = {
            let (mailbox, events, stop) = (mailbox.clone(), events.clone(), stop.clone());
            let deduper = QrDeduper::new(settings.reader_id.clone(), settings.dedup);
            let maker = PreviewMaker::new(preview.clone());
            std::thread::Builder::new()
                .name("camera decode".into())
                .spawn(move || decode_loop(&mailbox, deduper, maker, &events, &stop))?
        };
        let capture = {
            let (mailbox, stop) = (mailbox.clone(), stop.clone());
            std::thread::Builder::new()
                .name("camera capture".into())
                .spawn(move || {
                    let mut backend = backend;
                    let mut report = |s: CameraStatus| events.send(CameraEvent::Status(s)).is_ok();
                    capture_loop(&mut backend, &settings, &mailbox, &mut report, &stop);
                    // No more frames: the decode thread ends once it has the last one.
                    mailbox.close();
                })?
        };
        Ok(Self {
            stop,
            mailbox,
            preview,
            capture: Some(capture),
            decode: Some(decode),
        })
    }

    /// The latest preview (see [`super::preview`]); cheap, no encoding.
    pub fn preview(&self) -> Option<Arc<Preview>> {
        self.preview.get()
    }

    /// The preview's slot, to be read after this scanner is handed elsewhere.
    pub fn preview_slot(&self) -> Arc<PreviewSlot> {
        self.preview.clone()
    }

    /// Frames captured so far, and how many were dropped unread because a newer one came.
    pub fn frame_counts(&self) -> (u64, u64) {
        self.mailbox.counts()
    }

    /// Stops both threads. The decode thread is joined; the capture thread is given a second
    /// (a camera driver may block in a read) and otherwise left to end on its own.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.mailbox.close();
        if let Some(d) = self.decode.take() {
            let _ = d.join();
        }
        if let Some(c) = self.capture.take() {
            let until = Instant::now() + Duration::from_secs(1);
            while !c.is_finished() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
            if c.is_finished() {
                let _ = c.join();
            } else {
                tracing::warn!(
                    "the camera capture thread is blocked in the driver; left to end on its own"
                );
            }
        }
    }
}

impl Drop for CameraScanner {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Runs `f`, a call into a camera driver or library, turning a panic into an error message.
fn shielded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into())
    })
}

fn capture_loop(
    backend: &mut dyn CameraBackend,
    settings: &CameraSettings,
    mailbox: &Mailbox<Captures>,
    report: &mut dyn FnMut(CameraStatus) -> bool,
    stop: &AtomicBool,
) {
    let mut last: Option<CameraStatus> = None;
    let mut seq = 0u64;
    let mut set = |status: CameraStatus, last: &mut Option<CameraStatus>| -> bool {
        if last.as_ref() == Some(&status) {
            return true;
        }
        if status.is_connected() {
            tracing::info!(camera = %status, "camera connected");
        } else {
            tracing::warn!(camera = %status, "camera not available; looking again every {} s", settings.retry.as_secs_f32());
        }
        *last = Some(status.clone());
        report(status)
    };
    while !stop.load(Ordering::Relaxed) {
        match open_selected(backend, settings) {
            Ok((camera, mut stream)) => {
                let mode = stream.mode();
                if !set(
                    CameraStatus::Connected {
                        camera: camera.clone(),
                        mode,
                    },
                    &mut last,
                ) {
                    return;
                }
                let lost = pump(stream.as_mut(), mode, mailbox, &mut seq, stop);
                drop(stream);
                let Some(reason) = lost else { return };
                let status = CameraStatus::Disconnected {
                    camera: camera.name.clone(),
                    reason,
                };
                if !set(status, &mut last) {
                    return;
                }
            }
            Err(status) => {
                // After an unplug, the camera not being there is still "camera disconnected".
                let keep = matches!(last, Some(CameraStatus::Disconnected { .. }))
                    && matches!(
                        status,
                        CameraStatus::NoCamera
                            | CameraStatus::NotFound { .. }
                            | CameraStatus::Disconnected { .. }
                    );
                if !keep && !set(status, &mut last) {
                    return;
                }
            }
        }
        sleep_unless_stopped(stop, settings.retry);
    }
}

/// Finds the configured camera and opens it; the status to show when that fails.
fn open_selected(
    backend: &mut dyn CameraBackend,
    settings: &CameraSettings,
) -> Result<(CameraInfo, Box<dyn CameraStream>), CameraStatus> {
    let failed = |reason: String| CameraStatus::Failed {
        camera: "camera list".into(),
        reason,
    };
    let all = shielded(|| backend.list())
        .map_err(|p| failed(format!("panicked: {p}")))?
        .map_err(|e| failed(e.to_string()))?;
    if all.is_empty() {
        return Err(CameraStatus::NoCamera);
    }
    let candidates = settings.selector.candidates(&all);
    if candidates.is_empty() {
        return Err(CameraStatus::NotFound {
            wanted: settings.selector.to_string(),
        });
    }
    let mut first_error = None;
    for camera in candidates {
        match shielded(|| backend.open(camera, settings.resolution)) {
            Ok(Ok(stream)) => return Ok((camera.clone(), stream)),
            Ok(Err(e)) => {
                tracing::debug!(camera = %camera.path.display(), error = %e, "camera did not open");
                first_error.get_or_insert(CameraStatus::from_open_error(camera, &e));
            }
            Err(p) => {
                first_error.get_or_insert(CameraStatus::Failed {
                    camera: camera.path.display().to_string(),
                    reason: format!("driver panicked: {p}"),
                });
            }
        }
    }
    Err(first_error.unwrap_or(CameraStatus::NoCamera))
}

/// Frames into the mailbox until stopped (`None`) or the camera is lost (`Some(reason)`).
fn pump(
    stream: &mut dyn CameraStream,
    mode: super::device::Mode,
    mailbox: &Mailbox<Captures>,
    seq: &mut u64,
    stop: &AtomicBool,
) -> Option<String> {
    let mut bad_in_a_row = 0u32;
    while !stop.load(Ordering::Relaxed) {
        match shielded(|| stream.next_frame()) {
            Ok(Ok(Ok(captured))) => {
                bad_in_a_row = 0;
                *seq += 1;
                mailbox.put(Captures {
                    captured,
                    at: SystemTime::now(),
                    seq: *seq,
                });
            }
            Ok(Ok(Err(e))) => {
                bad_in_a_row += 1;
                tracing::debug!(error = %e, "unreadable camera frame");
                if bad_in_a_row >= MAX_BAD_FRAMES {
                    return Some(format!(
                        "{bad_in_a_row} unreadable {} frames in a row: {e}",
                        mode.format
                    ));
                }
            }
            Ok(Err(e)) => return Some(e.to_string()),
            Err(p) => return Some(format!("camera driver panicked: {p}")),
        }
    }
    None
}

/// The mailbox as a [`FrameSource`]: blocks for the newest frame; ends when it is closed.
struct MailboxFrames<'a> {
    mailbox: &'a Mailbox<Captures>,
}

impl FrameSource for MailboxFrames<'_> {
    fn next_frame(&mut self) -> Option<Result<Frame, QrError>> {
        loop {
            match self.mailbox.take(Duration::from_millis(500)) {
                Taken::Item(c) => {
                    return Some(
                        c.captured
                            .into_gray()
                            .map(|image| Frame {
                                image,
                                at: c.at,
                                label: format!("frame {}", c.seq),
                            })
                            .map_err(|e| QrError::CameraFrame(e.to_string())),
                    )
                }
                Taken::Empty => continue,
                Taken::Closed => return None,
            }
        }
    }
}

fn decode_loop(
    mailbox: &Mailbox<Captures>,
    deduper: QrDeduper,
    mut preview: PreviewMaker,
    events: &Sender<CameraEvent>,
    stop: &AtomicBool,
) {
    let scanner = QrScanner::new(MailboxFrames { mailbox }, FrameDecoder::default(), deduper)
        .with_observer(move |frame, outcome| preview.observe(frame, outcome));
    for item in scanner {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        match item {
            Ok(scan) => {
                if events.send(CameraEvent::Scan(scan)).is_err() {
                    return;
                }
            }
            Err(e) => tracing::debug!(error = %e, "camera frame skipped"),
        }
    }
}

fn sleep_unless_stopped(stop: &AtomicBool, total: Duration) {
    let until = Instant::now() + total;
    while !stop.load(Ordering::Relaxed) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::device::{Mode, OpenError, StreamError};
    use crate::camera::luma::{LumaError, PixelFormat};
    use crate::qr::synth;
    use std::sync::mpsc::{channel, Receiver};
    use std::sync::Mutex;

    /// A camera in a test: whether it is plugged in, whether it may be opened, and what it
    /// shows. Changed from the test while the threads run.
    #[derive(Default)]
    struct World {
        plugged: bool,
        open_error: Option<OpenError>,
        panic_on_list: bool,
        showing: Option<GrayFrame>,
        /// How often the scanner has looked for the camera (each retry looks once).
        lists: u64,
    }

    use crate::qr::GrayFrame;

    #[derive(Clone, Default)]
    struct Fake(Arc<Mutex<World>>);

    impl Fake {
        fn with(&self, f: impl FnOnce(&mut World)) {
            f(&mut self.world());
        }

        // The fake panics on purpose while holding the lock.
        fn world(&self) -> std::sync::MutexGuard<'_, World> {
            self.0.lock().unwrap_or_else(|p| p.into_inner())
        }
    }

    fn info() -> CameraInfo {
        CameraInfo {
            index: 0,
            name: "Test Cam".into(),
            path: "/dev/video0".into(),
        }
    }

    impl CameraBackend for Fake {
        fn list(&mut self) -> Result<Vec<CameraInfo>, OpenError> {
            let mut w = self.world();
            w.lists += 1;
            assert!(!w.panic_on_list, "driver bug");
            Ok(if w.plugged { vec![info()] } else { vec![] })
        }

        fn open(
            &mut self,
            _: &CameraInfo,
            _: (u32, u32),
        ) -> Result<Box<dyn CameraStream>, OpenError> {
            if let Some(e) = self.world().open_error.clone() {
                return Err(e);
            }
            Ok(Box::new(FakeStream(self.clone())))
        }
    }

    struct FakeStream(Fake);

    impl CameraStream for FakeStream {
        fn mode(&self) -> Mode {
            Mode {
                width: 640,
                height: 480,
                fps: 30,
                format: PixelFormat::Gray,
            }
        }

        fn next_frame(&mut self) -> Result<Result<Captured, LumaError>, StreamError> {
            std::thread::sleep(Duration::from_millis(10));
            let w = self.0.world();
            if !w.plugged {
                return Err(StreamError("No such device (os error 19)".into()));
            }
            let frame = w
                .showing
                .clone()
                .unwrap_or_else(|| synth::blank(640, 480, 200));
            Ok(Ok(Captured::Luma(frame)))
        }
    }

    fn code(text: &str) -> GrayFrame {
        let mut canvas = synth::blank(640, 480, 220);
        synth::paste(&mut canvas, &synth::render_qr(text, 4).unwrap(), 150, 100);
        canvas
    }

    /// How long the deduper wants a code out of view before it scans it again.
    const GONE_FOR: Duration = Duration::from_millis(300);

    fn start(fake: &Fake) -> (CameraScanner, Receiver<CameraEvent>) {
        start_retrying_every(fake, Duration::from_millis(20))
    }

    fn start_retrying_every(
        fake: &Fake,
        retry: Duration,
    ) -> (CameraScanner, Receiver<CameraEvent>) {
        let (tx, rx) = channel();
        let mut settings = CameraSettings::new("cam-1");
        settings.retry = retry;
        settings.dedup.gone_for = GONE_FOR;
        (
            CameraScanner::spawn(fake.clone(), settings, tx).unwrap(),
            rx,
        )
    }

    /// Polls `done` until it holds (30 s at most, then fails naming `what`).
    fn until(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(Instant::now() < deadline, "waited 30 s for {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Until the scanner has looked for the camera `n` more times.
    fn until_retried(fake: &Fake, n: u64) {
        let from = fake.world().lists;
        until(&format!("{n} more looks for the camera"), || {
            fake.world().lists >= from + n
        });
    }

    /// Until the decoder has taken `n` more frames (so at least `n - 1` were decoded whole).
    fn until_decoded(cam: &CameraScanner, n: u64) {
        let taken = || {
            let (put, replaced) = cam.frame_counts();
            put - replaced
        };
        let from = taken();
        until(&format!("{n} more frames decoded"), || taken() >= from + n);
    }

    fn next(rx: &Receiver<CameraEvent>) -> CameraEvent {
        rx.recv_timeout(Duration::from_secs(10))
            .expect("an event within 10 s")
    }

    fn status(rx: &Receiver<CameraEvent>) -> CameraStatus {
        match next(rx) {
            CameraEvent::Status(s) => s,
            e => panic!("expected a status, got {e:?}"),
        }
    }

    fn scan_text(rx: &Receiver<CameraEvent>) -> String {
        match next(rx) {
            CameraEvent::Scan(s) => String::from_utf8(s.value).unwrap(),
            e => panic!("expected a scan, got {e:?}"),
        }
    }

    #[test]
    fn no_camera_is_one_status_however_often_it_is_looked_for() {
        let fake = Fake::default();
        let (cam, rx) = start(&fake);
        assert_eq!(status(&rx), CameraStatus::NoCamera);
        until_retried(&fake, 5);
        assert!(rx.try_recv().is_err());
        cam.stop();
    }

    #[test]
    fn stop_does_not_wait_out_the_pause_between_looks() {
        // An hour between looks: a stop that waited for the next look would not return.
        let fake = Fake::default();
        let (cam, rx) = start_retrying_every(&fake, Duration::from_secs(3600));
        assert_eq!(status(&rx), CameraStatus::NoCamera);
        let (stopped_tx, stopped) = channel();
        std::thread::spawn(move || {
            cam.stop();
            let _ = stopped_tx.send(());
        });
        stopped
            .recv_timeout(Duration::from_secs(30))
            .expect("stop returns without waiting for the next look");
    }

    #[test]
    fn plug_scan_unplug_replug_scan_again() {
        let fake = Fake::default();
        let (cam, rx) = start(&fake);
        assert_eq!(status(&rx), CameraStatus::NoCamera);

        fake.with(|w| {
            w.plugged = true;
            w.showing = Some(code("PD1.first"));
        });
        assert!(status(&rx).is_connected());
        assert_eq!(scan_text(&rx), "PD1.first");
        // The preview shows the frame with the code outlined.
        let p = cam.preview().expect("a preview");
        assert_eq!((p.image.width(), p.image.height()), (640, 480));
        let code = p.code.as_ref().expect("the code on the preview");
        assert_eq!(code.text, "PD1.first");
        assert!(code.outline.as_ref().is_some_and(|o| o.len() >= 3));

        fake.with(|w| w.plugged = false);
        let s = status(&rx);
        assert_eq!(s.code(), "disconnected", "{s:?}");
        assert_eq!(s.message(), "camera disconnected");
        let unplugged = Instant::now();
        // Still gone after several retries: still "disconnected", not "no camera".
        until_retried(&fake, 5);
        assert!(rx.try_recv().is_err());

        // Gone longer than gone_for before it comes back.
        until("the code out of view longer than gone_for", || {
            unplugged.elapsed() > GONE_FOR
        });
        fake.with(|w| w.plugged = true);
        assert!(status(&rx).is_connected());
        // The code was out of view longer than gone_for: it scans again.
        assert_eq!(scan_text(&rx), "PD1.first");
        // Held in view while more frames are decoded: no more scans.
        until_decoded(&cam, 4);
        assert!(rx.try_recv().is_err());
        let (put, _) = cam.frame_counts();
        assert!(put > 5, "{put}");
        cam.stop();
    }

    #[test]
    fn forbidden_busy_and_panicking_cameras_are_statuses() {
        let fake = Fake::default();
        fake.with(|w| {
            w.plugged = true;
            w.open_error = Some(OpenError::PermissionDenied {
                path: "/dev/video0".into(),
            });
        });
        let (cam, rx) = start(&fake);
        let s = status(&rx);
        assert_eq!(s.code(), "permission_denied");
        assert!(s.message().contains("video group"), "{}", s.message());

        fake.with(|w| {
            w.open_error = Some(OpenError::Busy {
                path: "/dev/video0".into(),
            })
        });
        assert_eq!(status(&rx).code(), "busy");

        fake.with(|w| w.panic_on_list = true);
        let s = status(&rx);
        assert_eq!(s.code(), "failed");
        assert!(s.message().contains("driver bug"), "{}", s.message());

        fake.with(|w| {
            w.panic_on_list = false;
            w.open_error = None;
            w.showing = Some(code("PD1.after"));
        });
        assert!(status(&rx).is_connected());
        assert_eq!(scan_text(&rx), "PD1.after");
        cam.stop();
    }
}
