//! A "camera" that plays the images of a directory: for tests, demos and trying the counter
//! on a machine without a camera. It behaves like a USB camera where that matters: it is
//! there while the directory exists (remove the directory: unplugged; create it again:
//! plugged back in), frames come at a steady rate, and it never runs out (at the end it
//! starts over, listing the directory afresh, so images added meanwhile are played).

use super::device::{CameraBackend, CameraInfo, CameraStream, Mode, OpenError, StreamError};
use super::luma::{Captured, LumaError, PixelFormat};
use crate::qr::{GrayFrame, ImageFiles};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct DirectoryCamera {
    dir: PathBuf,
    fps: u32,
}

impl DirectoryCamera {
    /// Plays `dir`'s PNG and JPEG files (sorted by path, subdirectories too) at `fps`.
    pub fn new(dir: impl Into<PathBuf>, fps: u32) -> Self {
        Self {
            dir: dir.into(),
            fps: fps.clamp(1, 120),
        }
    }

    fn info(&self) -> CameraInfo {
        CameraInfo {
            index: 0,
            name: format!("images in {}", self.dir.display()),
            path: self.dir.clone(),
        }
    }
}

fn list(dir: &Path) -> Result<Vec<PathBuf>, OpenError> {
    match ImageFiles::from_dir(dir) {
        Ok(files) => Ok(files.collect()),
        Err(_) if !dir.is_dir() => Err(OpenError::Gone {
            path: dir.to_owned(),
        }),
        Err(e) => Err(OpenError::Other(e.to_string())),
    }
}

impl CameraBackend for DirectoryCamera {
    fn list(&mut self) -> Result<Vec<CameraInfo>, OpenError> {
        Ok(if self.dir.is_dir() {
            vec![self.info()]
        } else {
            Vec::new()
        })
    }

    fn open(
        &mut self,
        _camera: &CameraInfo,
        _want: (u32, u32),
    ) -> Result<Box<dyn CameraStream>, OpenError> {
        let files = list(&self.dir)?;
        let first = files
            .iter()
            .find_map(|p| GrayFrame::open(p).ok())
            .ok_or_else(|| OpenError::NoUsableMode {
                path: self.dir.clone(),
            })?;
        Ok(Box::new(DirectoryStream {
            dir: self.dir.clone(),
            files,
            next: 0,
            interval: Duration::from_secs(1) / self.fps,
            due: Instant::now(),
            mode: Mode {
                width: first.width(),
                height: first.height(),
                fps: self.fps,
                format: PixelFormat::Gray,
            },
        }))
    }
}

struct DirectoryStream {
    dir: PathBuf,
    files: Vec<PathBuf>,
    next: usize,
    interval: Duration,
    due: Instant,
    mode: Mode,
}

impl CameraStream for DirectoryStream {
    fn mode(&self) -> Mode {
        self.mode
    }

    fn next_frame(&mut self) -> Result<Result<Captured, LumaError>, StreamError> {
        // A steady rate, like a camera: wait for this frame's time.
        let now = Instant::now();
        if self.due > now {
            std::thread::sleep(self.due - now);
        }
        self.due = self.due.max(now) + self.interval;
        if self.next >= self.files.len() {
            self.files = list(&self.dir).map_err(|e| StreamError(e.to_string()))?;
            self.next = 0;
            if self.files.is_empty() {
                return Err(StreamError(format!(
                    "no images left in {}",
                    self.dir.display()
                )));
            }
        }
        let path = &self.files[self.next];
        self.next += 1;
        match GrayFrame::open(path) {
            Ok(frame) => Ok(Ok(Captured::Luma(frame))),
            Err(_) if !self.dir.is_dir() => {
                Err(StreamError(format!("{} was removed", self.dir.display())))
            }
            Err(e) => Ok(Err(LumaError::Unreadable(e.to_string()))),
        }
    }
}
