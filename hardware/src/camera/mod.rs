//! The camera: frames from a USB camera (V4L2 via nokhwa, feature `camera`) or a directory of
//! images, through the QR decoder cascade, to one [`crate::Scan`] per code presented.
//!
//! - [`device`]: cameras, modes, which camera the configuration means, the backend traits.
//! - [`luma`]: camera pixels (YUYV, MJPEG, NV12, ...) to grayscale, never via RGB.
//! - [`mailbox`]: the single-slot hand-over between capture and decoding (latest wins).
//! - [`status`]: "no camera", "camera disconnected", "permission denied": statuses, never
//!   errors that stop anything.
//! - [`capture`]: [`CameraScanner`], the capture and decode threads, reopening the camera
//!   every 2 s while it is missing.
//! - [`preview`]: the latest frame, shrunk, with the last code's outline, for the screens.
//! - [`directory`]: [`DirectoryCamera`], images played as a camera.
//! - `v4l` (feature `camera`): [`V4lCameras`], the machine's cameras.

pub mod capture;
pub mod device;
pub mod directory;
pub mod luma;
pub mod mailbox;
pub mod preview;
pub mod status;
#[cfg(feature = "camera")]
pub mod v4l;

pub use capture::{CameraEvent, CameraScanner, CameraSettings};
pub use device::{CameraBackend, CameraInfo, CameraSelector, Mode};
pub use directory::DirectoryCamera;
pub use luma::PixelFormat;
pub use preview::{Preview, PreviewCode, PreviewSlot};
pub use status::CameraStatus;
#[cfg(feature = "camera")]
pub use v4l::V4lCameras;

/// Whether this build can use real cameras (the `camera` feature).
pub const SUPPORTED: bool = cfg!(feature = "camera");
