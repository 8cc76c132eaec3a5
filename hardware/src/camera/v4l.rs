//! Real cameras: V4L2 through nokhwa (feature `camera`). Thin: listing, opening in the mode
//! [`choose_mode`] picks, and handing each raw frame to [`Captured::from_raw`]. Every call
//! into nokhwa runs on the capture thread behind a panic guard (nokhwa asserts in places).

use super::device::{
    choose_mode, CameraBackend, CameraInfo, CameraStream, Mode, OpenError, StreamError,
};
use super::luma::{Captured, LumaError, PixelFormat};
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
    Resolution,
};
use nokhwa::{Camera, NokhwaError};
use std::path::{Path, PathBuf};

/// The formats asked for, in nokhwa's words.
const FORMATS: [FrameFormat; 6] = [
    FrameFormat::YUYV,
    FrameFormat::MJPEG,
    FrameFormat::NV12,
    FrameFormat::GRAY,
    FrameFormat::RAWRGB,
    FrameFormat::RAWBGR,
];

fn pixel_format(f: FrameFormat) -> PixelFormat {
    match f {
        FrameFormat::MJPEG => PixelFormat::Mjpeg,
        FrameFormat::YUYV => PixelFormat::Yuyv,
        FrameFormat::NV12 => PixelFormat::Nv12,
        FrameFormat::GRAY => PixelFormat::Gray,
        FrameFormat::RAWRGB => PixelFormat::Rgb,
        FrameFormat::RAWBGR => PixelFormat::Bgr,
    }
}

fn frame_format(f: PixelFormat) -> FrameFormat {
    match f {
        PixelFormat::Mjpeg => FrameFormat::MJPEG,
        PixelFormat::Yuyv => FrameFormat::YUYV,
        PixelFormat::Nv12 => FrameFormat::NV12,
        PixelFormat::Gray => FrameFormat::GRAY,
        PixelFormat::Rgb => FrameFormat::RAWRGB,
        PixelFormat::Bgr => FrameFormat::RAWBGR,
    }
}

fn mode_of(f: &CameraFormat) -> Mode {
    Mode {
        width: f.width(),
        height: f.height(),
        fps: f.frame_rate(),
        format: pixel_format(f.format()),
    }
}

/// The V4L2 cameras of this machine (`/dev/video*`).
#[derive(Debug, Clone, Copy, Default)]
pub struct V4lCameras;

fn device_path(index: u32) -> PathBuf {
    PathBuf::from(format!("/dev/video{index}"))
}

/// An error of nokhwa's, sorted into what the status screen says. nokhwa gives only text, so
/// the device node is opened by hand first (see [`V4lCameras::open`]) for the common cases.
fn classify(path: &Path, e: &NokhwaError) -> OpenError {
    let text = e.to_string();
    let lower = text.to_lowercase();
    if lower.contains("permission denied") {
        OpenError::PermissionDenied {
            path: path.to_owned(),
        }
    } else if lower.contains("busy") {
        OpenError::Busy {
            path: path.to_owned(),
        }
    } else if lower.contains("no such") {
        OpenError::Gone {
            path: path.to_owned(),
        }
    } else {
        OpenError::Other(format!("{}: {text}", path.display()))
    }
}

/// Opening the node read-write is what V4L2 does; doing it here first gives an `io::Error`
/// with a kind instead of nokhwa's text.
fn probe(path: &Path) -> Result<(), OpenError> {
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) => Err(match e.kind() {
            std::io::ErrorKind::NotFound => OpenError::Gone {
                path: path.to_owned(),
            },
            std::io::ErrorKind::PermissionDenied => OpenError::PermissionDenied {
                path: path.to_owned(),
            },
            _ if e.raw_os_error() == Some(libc::EBUSY) => OpenError::Busy {
                path: path.to_owned(),
            },
            _ => OpenError::Other(format!("{}: {e}", path.display())),
        }),
    }
}

impl V4lCameras {
    /// The modes a camera offers (opening it briefly), for `passdesk camera list`.
    pub fn modes(&mut self, camera: &CameraInfo) -> Result<Vec<Mode>, OpenError> {
        probe(&camera.path)?;
        let mut cam = self.camera(camera)?;
        let formats = cam
            .compatible_camera_formats()
            .map_err(|e| classify(&camera.path, &e))?;
        let mut modes: Vec<Mode> = formats.iter().map(mode_of).collect();
        modes.sort_by_key(|m| (m.format, std::cmp::Reverse(m.width * m.height), m.fps));
        modes.dedup();
        Ok(modes)
    }

    fn camera(&mut self, camera: &CameraInfo) -> Result<Camera, OpenError> {
        Camera::with_backend(
            CameraIndex::Index(camera.index),
            RequestedFormat::with_formats(RequestedFormatType::None, &FORMATS),
            ApiBackend::Video4Linux,
        )
        .map_err(|e| match e {
            // nokhwa's "Failed to Fufill": none of the camera's formats is one it can read.
            NokhwaError::GetPropertyError { ref property, .. } if property == "CameraFormat" => {
                OpenError::NoUsableMode {
                    path: camera.path.clone(),
                }
            }
            e => classify(&camera.path, &e),
        })
    }
}

impl CameraBackend for V4lCameras {
    fn list(&mut self) -> Result<Vec<CameraInfo>, OpenError> {
        let infos = nokhwa::query(ApiBackend::Video4Linux)
            .map_err(|e| OpenError::Other(format!("cannot list cameras: {e}")))?;
        let mut cameras: Vec<CameraInfo> = infos
            .iter()
            .filter_map(|i| {
                let index = i.index().as_index().ok()?;
                Some(CameraInfo {
                    index,
                    name: i.human_name(),
                    path: device_path(index),
                })
            })
            .collect();
        cameras.sort_by_key(|c| c.index);
        Ok(cameras)
    }

    fn open(
        &mut self,
        camera: &CameraInfo,
        want: (u32, u32),
    ) -> Result<Box<dyn CameraStream>, OpenError> {
        probe(&camera.path)?;
        let mut cam = self.camera(camera)?;
        let formats = cam
            .compatible_camera_formats()
            .map_err(|e| classify(&camera.path, &e))?;
        let modes: Vec<Mode> = formats.iter().map(mode_of).collect();
        let mode = choose_mode(&modes, want).ok_or_else(|| OpenError::NoUsableMode {
            path: camera.path.clone(),
        })?;
        let format = CameraFormat::new(
            Resolution::new(mode.width, mode.height),
            frame_format(mode.format),
            mode.fps,
        );
        if cam.camera_format() != format {
            let only = [format.format()];
            cam.set_camera_requset(RequestedFormat::with_formats(
                RequestedFormatType::Exact(format),
                &only,
            ))
            .map_err(|e| classify(&camera.path, &e))?;
        }
        cam.open_stream().map_err(|e| classify(&camera.path, &e))?;
        // The driver has the last word on the mode.
        let mode = mode_of(&cam.camera_format());
        tracing::info!(camera = %camera.path.display(), %mode, "camera streaming");
        Ok(Box::new(V4lStream { cam, mode }))
    }
}

struct V4lStream {
    cam: Camera,
    mode: Mode,
}

impl CameraStream for V4lStream {
    fn mode(&self) -> Mode {
        self.mode
    }

    fn next_frame(&mut self) -> Result<Result<Captured, LumaError>, StreamError> {
        let Mode {
            width,
            height,
            format,
            ..
        } = self.mode;
        let raw = self
            .cam
            .frame_raw()
            .map_err(|e| StreamError(e.to_string()))?;
        Ok(Captured::from_raw(format, width, height, &raw))
    }
}

impl Drop for V4lStream {
    fn drop(&mut self) {
        let _ = self.cam.stop_stream();
    }
}
