//! What can go wrong before a decoder even looks at the pixels.

use std::path::PathBuf;

/// Errors of the QR part: reading and decoding an image file, or a frame of the wrong shape.
/// "No QR code in this image" is not an error: decoders return `None` for it.
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot decode the image {path}: {source}")]
    Image {
        path: PathBuf,
        #[source]
        source: image::ImageError,
    },
    #[error("the image {path} is {width}x{height}: too large to scan (at most {max} pixels)")]
    TooLarge {
        path: PathBuf,
        width: u32,
        height: u32,
        max: u64,
    },
    #[error("a {width}x{height} frame needs {expected} bytes of grayscale, got {actual}")]
    FrameSize {
        width: u32,
        height: u32,
        expected: usize,
        actual: usize,
    },
    #[error("unreadable camera frame: {0}")]
    CameraFrame(String),
    #[error("cannot list the directory {path}: {source}")]
    ListDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
