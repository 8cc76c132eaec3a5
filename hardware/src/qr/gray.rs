//! The one pixel format every decoder stage works on: 8-bit grayscale, row-major.

use super::error::QrError;
use std::path::Path;

/// Frames larger than this (about 50 megapixels) are refused before decoding: a camera never
/// sends them, and a crafted PNG header must not make us allocate gigabytes.
pub const MAX_PIXELS: u64 = 50_000_000;

/// An 8-bit grayscale image, one byte per pixel, rows top to bottom, no padding.
#[derive(Clone, PartialEq, Eq)]
pub struct GrayFrame {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl std::fmt::Debug for GrayFrame {
    // The pixels would flood any log or assertion message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GrayFrame({}x{})", self.width, self.height)
    }
}

impl GrayFrame {
    /// Wraps a grayscale buffer; its length must be `width * height`.
    pub fn new(width: u32, height: u32, data: Vec<u8>) -> Result<Self, QrError> {
        let expected = width as usize * height as usize;
        if data.len() != expected {
            return Err(QrError::FrameSize {
                width,
                height,
                expected,
                actual: data.len(),
            });
        }
        Ok(Self {
            width,
            height,
            data,
        })
    }

    /// A frame of one colour.
    pub fn filled(width: u32, height: u32, value: u8) -> Self {
        Self {
            width,
            height,
            data: vec![value; width as usize * height as usize],
        }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn pixels(&self) -> &[u8] {
        &self.data
    }

    pub fn pixels_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    pub fn into_pixels(self) -> Vec<u8> {
        self.data
    }

    pub fn get(&self, x: u32, y: u32) -> u8 {
        self.data[y as usize * self.width as usize + x as usize]
    }

    pub fn set(&mut self, x: u32, y: u32, value: u8) {
        self.data[y as usize * self.width as usize + x as usize] = value;
    }

    /// Whether a frame has no pixels at all (a 0xN image decodes to nothing).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Reads a PNG or JPEG (or any format the `image` crate was built with) as grayscale.
    pub fn open(path: &Path) -> Result<Self, QrError> {
        let bytes = std::fs::read(path).map_err(|source| QrError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::decode_bytes(&bytes, path)
    }

    /// Decodes an encoded image held in memory; `path` only names it in errors.
    pub fn decode_bytes(bytes: &[u8], path: &Path) -> Result<Self, QrError> {
        let image_err = |source| QrError::Image {
            path: path.to_owned(),
            source,
        };
        let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|source| QrError::Read {
                path: path.to_owned(),
                source,
            })?;
        let (width, height) = reader.into_dimensions().map_err(image_err)?;
        if u64::from(width) * u64::from(height) > MAX_PIXELS {
            return Err(QrError::TooLarge {
                path: path.to_owned(),
                width,
                height,
                max: MAX_PIXELS,
            });
        }
        let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|source| QrError::Read {
                path: path.to_owned(),
                source,
            })?;
        let luma = reader.decode().map_err(image_err)?.into_luma8();
        let (width, height) = luma.dimensions();
        Ok(Self {
            width,
            height,
            data: luma.into_raw(),
        })
    }
}
