//! What a camera backend offers, independent of the capture library: the cameras there are
//! ([`CameraInfo`]), the modes they run in ([`Mode`], chosen by [`choose_mode`]), which
//! camera the configuration means ([`CameraSelector`]), and the two traits the capture
//! thread drives ([`CameraBackend`], [`CameraStream`]). V4L2 through nokhwa is one backend
//! (feature `camera`); a directory of images is another, for tests and demos.

use super::luma::{Captured, PixelFormat};
use serde::Serialize;
use std::path::PathBuf;

/// One camera the system has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CameraInfo {
    /// The system's number for it (`/dev/video<index>`).
    pub index: u32,
    /// Its name as the driver gives it ("HD Pro Webcam C920").
    pub name: String,
    /// Its device node, or the directory a directory camera plays.
    pub path: PathBuf,
}

/// A way a camera can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Mode {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub format: PixelFormat,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}x{}@{}",
            self.format, self.width, self.height, self.fps
        )
    }
}

/// Below this frame rate a code held up to the camera feels sluggish: a faster mode wins
/// even if its pixels cost more to get luma from.
pub const MIN_FPS: u32 = 15;

/// The mode to run a camera in, for frames of about `want` (width, height): the resolution
/// nearest in pixel count (the larger of two equally near), then at least [`MIN_FPS`], then
/// the cheapest luma (YUYV over MJPEG: no JPEG decode), then the higher rate up to 30 fps
/// (more is only more frames dropped).
pub fn choose_mode(modes: &[Mode], want: (u32, u32)) -> Option<Mode> {
    let want_px = u64::from(want.0) * u64::from(want.1);
    modes.iter().copied().min_by_key(|m| {
        let px = u64::from(m.width) * u64::from(m.height);
        (
            px.abs_diff(want_px),
            std::cmp::Reverse(px),
            m.fps < MIN_FPS,
            m.format.luma_cost(),
            std::cmp::Reverse(m.fps.min(30)),
            m.fps,
        )
    })
}

/// Which camera the configuration means.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CameraSelector {
    /// The first camera that opens (video nodes that cannot capture, like a UVC camera's
    /// metadata node, are skipped).
    #[default]
    First,
    /// `/dev/video<N>`.
    Index(u32),
    /// A device node path.
    Path(PathBuf),
    /// The first camera whose name contains this, ignoring case.
    Name(String),
}

impl std::str::FromStr for CameraSelector {
    type Err = std::convert::Infallible;

    /// `auto` or empty: the first; digits: an index; a path; anything else: part of a name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Ok(if s.is_empty() || s.eq_ignore_ascii_case("auto") {
            Self::First
        } else if let Ok(i) = s.parse() {
            Self::Index(i)
        } else if s.starts_with('/') {
            Self::Path(s.into())
        } else {
            Self::Name(s.to_owned())
        })
    }
}

impl std::fmt::Display for CameraSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::First => f.write_str("the first camera"),
            Self::Index(i) => write!(f, "camera {i}"),
            Self::Path(p) => write!(f, "camera {}", p.display()),
            Self::Name(n) => write!(f, "camera {n:?}"),
        }
    }
}

impl CameraSelector {
    /// The cameras of `all` this selector may mean, in the order to try them.
    pub fn candidates<'a>(&self, all: &'a [CameraInfo]) -> Vec<&'a CameraInfo> {
        let mut found: Vec<&CameraInfo> = all
            .iter()
            .filter(|c| match self {
                Self::First => true,
                Self::Index(i) => c.index == *i,
                Self::Path(p) => &c.path == p,
                Self::Name(n) => c.name.to_lowercase().contains(&n.to_lowercase()),
            })
            .collect();
        found.sort_by_key(|c| c.index);
        found
    }
}

/// Why a camera could not be opened or listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("{path}: not there any more")]
    Gone { path: PathBuf },
    #[error("{path}: permission denied")]
    PermissionDenied { path: PathBuf },
    #[error("{path}: in use by another program")]
    Busy { path: PathBuf },
    #[error("{path}: no mode Passdesk can read (MJPEG, YUYV, NV12, GREY, RGB)")]
    NoUsableMode { path: PathBuf },
    #[error("{0}")]
    Other(String),
}

/// Why a running camera stopped giving frames.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StreamError(pub String);

/// A source of cameras. Lives on the capture thread.
pub trait CameraBackend: Send + 'static {
    /// The cameras there are now; none is an empty list, not an error.
    fn list(&mut self) -> Result<Vec<CameraInfo>, OpenError>;

    /// Opens a camera and starts it in the mode nearest `want` (width, height).
    fn open(
        &mut self,
        camera: &CameraInfo,
        want: (u32, u32),
    ) -> Result<Box<dyn CameraStream>, OpenError>;
}

/// A running camera. Not `Send`: created, used and dropped on the capture thread.
pub trait CameraStream {
    fn mode(&self) -> Mode;

    /// Waits for the next frame. An error means the camera is gone or broken; a frame whose
    /// pixels cannot be used is `Ok(Err(..))`, and the next one may be fine.
    fn next_frame(&mut self) -> Result<Result<Captured, super::luma::LumaError>, StreamError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(width: u32, height: u32, fps: u32, format: PixelFormat) -> Mode {
        Mode {
            width,
            height,
            fps,
            format,
        }
    }

    #[test]
    fn the_mode_nearest_720p_at_a_usable_rate_with_cheap_luma_wins() {
        use PixelFormat::*;
        let webcam = [
            m(640, 480, 30, Yuyv),
            m(1280, 720, 10, Yuyv),
            m(1280, 720, 30, Mjpeg),
            m(1920, 1080, 5, Yuyv),
            m(1920, 1080, 30, Mjpeg),
        ];
        // YUYV 720p only does 10 fps over USB 2: MJPEG at 30 wins.
        assert_eq!(
            choose_mode(&webcam, (1280, 720)),
            Some(m(1280, 720, 30, Mjpeg))
        );
        // At a rate good enough, YUYV wins: no JPEG to decode.
        let better = [m(1280, 720, 15, Yuyv), m(1280, 720, 30, Mjpeg)];
        assert_eq!(
            choose_mode(&better, (1280, 720)),
            Some(m(1280, 720, 15, Yuyv))
        );
        // No 720p: the nearest in pixels.
        let small = [m(640, 480, 30, Yuyv), m(1920, 1080, 30, Mjpeg)];
        assert_eq!(
            choose_mode(&small, (1280, 720)),
            Some(m(640, 480, 30, Yuyv))
        );
        assert_eq!(choose_mode(&small, (1920, 1080)).unwrap().width, 1920);
        // 60 fps is no better than 30.
        let fast = [m(1280, 720, 60, Mjpeg), m(1280, 720, 30, Mjpeg)];
        assert_eq!(choose_mode(&fast, (1280, 720)).unwrap().fps, 30);
        assert_eq!(choose_mode(&[], (1280, 720)), None);
    }

    #[test]
    fn selectors_parse_and_pick() {
        let parse = |s: &str| s.parse::<CameraSelector>().unwrap();
        assert_eq!(parse(""), CameraSelector::First);
        assert_eq!(parse("auto"), CameraSelector::First);
        assert_eq!(parse("2"), CameraSelector::Index(2));
        assert_eq!(
            parse("/dev/video2"),
            CameraSelector::Path("/dev/video2".into())
        );
        assert_eq!(parse(" C920 "), CameraSelector::Name("C920".into()));

        let cams = [
            CameraInfo {
                index: 2,
                name: "HD Pro Webcam C920".into(),
                path: "/dev/video2".into(),
            },
            CameraInfo {
                index: 0,
                name: "Integrated Camera".into(),
                path: "/dev/video0".into(),
            },
            CameraInfo {
                index: 3,
                name: "HD Pro Webcam C920".into(),
                path: "/dev/video3".into(),
            },
        ];
        let idx = |sel: CameraSelector| -> Vec<u32> {
            sel.candidates(&cams).iter().map(|c| c.index).collect()
        };
        assert_eq!(idx(CameraSelector::First), vec![0, 2, 3]);
        assert_eq!(idx(parse("c920")), vec![2, 3]);
        assert_eq!(idx(parse("3")), vec![3]);
        assert_eq!(idx(parse("/dev/video0")), vec![0]);
        assert!(idx(parse("Logitech Brio")).is_empty());
    }
}
