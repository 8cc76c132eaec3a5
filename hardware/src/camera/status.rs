//! What the counter shows about its camera. None of these stops anything: the capture thread
//! looks again every couple of seconds, and a camera plugged in (or allowed) later is used.

use super::device::{CameraInfo, Mode, OpenError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraStatus {
    /// Capturing.
    Connected { camera: CameraInfo, mode: Mode },
    /// The system has no camera at all (no /dev/video*).
    NoCamera,
    /// There are cameras, but not the one configured.
    NotFound { wanted: String },
    /// The camera that was capturing went away (unplugged) or stopped giving frames.
    Disconnected { camera: String, reason: String },
    /// The device node is there, but this user may not open it.
    PermissionDenied { camera: String },
    /// Another program has the camera.
    Busy { camera: String },
    /// Anything else: no readable mode, a driver error.
    Failed { camera: String, reason: String },
}

impl CameraStatus {
    /// A stable word for programs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Connected { .. } => "connected",
            Self::NoCamera => "no_camera",
            Self::NotFound { .. } => "not_found",
            Self::Disconnected { .. } => "disconnected",
            Self::PermissionDenied { .. } => "permission_denied",
            Self::Busy { .. } => "busy",
            Self::Failed { .. } => "failed",
        }
    }

    pub fn is_connected(&self) -> bool {
        matches!(self, Self::Connected { .. })
    }

    /// Words for the status screen.
    pub fn message(&self) -> String {
        match self {
            Self::Connected { camera, mode } => format!("camera {} ({mode})", camera.name),
            Self::NoCamera => "no camera".into(),
            Self::NotFound { wanted } => format!("no camera: {wanted} not found"),
            Self::Disconnected { .. } => "camera disconnected".into(),
            Self::PermissionDenied { camera } => {
                format!("camera permission denied ({camera}): add this user to the video group")
            }
            Self::Busy { camera } => format!("camera busy ({camera}): another program uses it"),
            Self::Failed { camera, reason } => format!("camera not working ({camera}): {reason}"),
        }
    }

    /// The status for an open that failed.
    pub fn from_open_error(camera: &CameraInfo, e: &OpenError) -> Self {
        let name = camera.path.display().to_string();
        match e {
            OpenError::Gone { .. } => Self::Disconnected {
                camera: name,
                reason: e.to_string(),
            },
            OpenError::PermissionDenied { .. } => Self::PermissionDenied { camera: name },
            OpenError::Busy { .. } => Self::Busy { camera: name },
            OpenError::NoUsableMode { .. } | OpenError::Other(_) => Self::Failed {
                camera: name,
                reason: e.to_string(),
            },
        }
    }
}

impl std::fmt::Display for CameraStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}
