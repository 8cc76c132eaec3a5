//! Where frames come from. Image files and directories here ([`ImageFiles`], and [`Clocked`]
//! to give them camera timestamps); the camera's frames come through
//! [`crate::camera::CameraScanner`]'s mailbox, another [`FrameSource`].

use super::error::QrError;
use super::gray::GrayFrame;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// One frame and where it came from.
#[derive(Debug, Clone)]
pub struct Frame {
    pub image: GrayFrame,
    /// When it was captured (for files: when it was read).
    pub at: SystemTime,
    /// A file name, or a camera's frame number: for logs and reports.
    pub label: String,
}

/// A source of grayscale frames: a camera, or image files for tests and benchmarks.
pub trait FrameSource {
    /// The next frame; `None` when the source has no more. An error is about this frame only
    /// (an unreadable file): the caller may go on asking for the next.
    fn next_frame(&mut self) -> Option<Result<Frame, QrError>>;
}

/// Image files, in the order given, one frame each.
#[derive(Debug, Clone)]
pub struct ImageFiles {
    paths: std::vec::IntoIter<PathBuf>,
}

/// File extensions read as images from a directory.
const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

impl ImageFiles {
    pub fn new(paths: Vec<PathBuf>) -> Self {
        Self {
            paths: paths.into_iter(),
        }
    }

    /// Every PNG and JPEG under `dir` (recursively), sorted by path so runs repeat.
    pub fn from_dir(dir: &Path) -> Result<Self, QrError> {
        let mut paths = Vec::new();
        collect_images(dir, &mut paths)?;
        paths.sort();
        Ok(Self::new(paths))
    }
}

fn collect_images(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), QrError> {
    let entries = std::fs::read_dir(dir).map_err(|source| QrError::ListDir {
        path: dir.to_owned(),
        source,
    })?;
    for entry in entries {
        let path = entry
            .map_err(|source| QrError::ListDir {
                path: dir.to_owned(),
                source,
            })?
            .path();
        if path.is_dir() {
            collect_images(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            out.push(path);
        }
    }
    Ok(())
}

impl Iterator for ImageFiles {
    type Item = PathBuf;

    fn next(&mut self) -> Option<PathBuf> {
        self.paths.next()
    }
}

impl FrameSource for ImageFiles {
    fn next_frame(&mut self) -> Option<Result<Frame, QrError>> {
        let path = self.paths.next()?;
        Some(GrayFrame::open(&path).map(|image| Frame {
            image,
            at: SystemTime::now(),
            label: path.display().to_string(),
        }))
    }
}

/// Frames stamped as a camera at `fps` would have taken them, from `start` on: the deduper
/// then sees the same times on every run, however fast the frames are decoded (tests, and
/// `passdesk camera watch --frames`).
pub struct Clocked<S> {
    inner: S,
    start: SystemTime,
    interval: std::time::Duration,
    n: u32,
}

impl<S: FrameSource> Clocked<S> {
    pub fn new(inner: S, start: SystemTime, fps: u32) -> Self {
        Self {
            inner,
            start,
            interval: std::time::Duration::from_secs(1) / fps.max(1),
            n: 0,
        }
    }
}

impl<S: FrameSource> FrameSource for Clocked<S> {
    fn next_frame(&mut self) -> Option<Result<Frame, QrError>> {
        let next = self.inner.next_frame()?;
        let at = self.start + self.interval * self.n;
        self.n += 1;
        Some(next.map(|f| Frame { at, ..f }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_yields_its_images_in_order_and_errors_per_file() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let img = image::GrayImage::from_pixel(30, 20, image::Luma([200u8]));
        img.save(dir.path().join("b.png")).unwrap();
        img.save(sub.join("a.PNG")).unwrap();
        std::fs::write(dir.path().join("c.png"), b"not an image").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"ignored").unwrap();

        let mut src = ImageFiles::from_dir(dir.path()).unwrap();
        let first = src.next_frame().unwrap().unwrap();
        assert!(first.label.ends_with("b.png"));
        assert_eq!((first.image.width(), first.image.height()), (30, 20));
        assert!(matches!(src.next_frame(), Some(Err(QrError::Image { .. }))));
        assert!(src.next_frame().unwrap().unwrap().label.ends_with("a.PNG"));
        assert!(src.next_frame().is_none());
        assert!(ImageFiles::from_dir(&dir.path().join("missing")).is_err());
    }
}
