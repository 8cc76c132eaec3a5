//! Camera pixels to the grayscale the decoders read. A QR decoder needs luma only, so no
//! frame is ever converted to RGB: YUYV, NV12 and GREY frames give their Y bytes by a strided
//! copy out of the driver's buffer (which the driver reuses, so one copy is unavoidable);
//! MJPEG frames are decoded with zune-jpeg straight to luma, skipping the chroma planes; only
//! raw RGB / BGR frames are weighted into luma.
//!
//! The capture thread keeps each frame as [`Captured`]: luma already (a copy as cheap as any)
//! or the compressed bytes, decoded only when the decoder takes that frame, so a frame
//! replaced in the mailbox before it was taken costs one memcpy and no JPEG decode.

use crate::qr::gray::MAX_PIXELS;
use crate::qr::guard::{guarded, Attempt};
use crate::qr::GrayFrame;
use serde::Serialize;

/// The pixel formats Passdesk reads from a camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PixelFormat {
    Mjpeg,
    Yuyv,
    Nv12,
    Gray,
    Rgb,
    Bgr,
}

impl PixelFormat {
    pub fn name(self) -> &'static str {
        match self {
            Self::Mjpeg => "MJPEG",
            Self::Yuyv => "YUYV",
            Self::Nv12 => "NV12",
            Self::Gray => "GREY",
            Self::Rgb => "RGB3",
            Self::Bgr => "BGR3",
        }
    }

    /// Relative cost of getting luma out of a frame: planar or packed Y is a copy, JPEG a
    /// decode (about 4 ms for 720p), RGB a weighted sum over three times the bytes.
    pub fn luma_cost(self) -> u8 {
        match self {
            Self::Gray | Self::Nv12 | Self::Yuyv => 0,
            Self::Mjpeg => 1,
            Self::Rgb | Self::Bgr => 2,
        }
    }
}

impl std::fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a frame gave no picture. About that frame only: the next may be fine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LumaError {
    #[error("{format} frame of {width}x{height}: {len} bytes is too short")]
    Short {
        format: PixelFormat,
        width: u32,
        height: u32,
        len: usize,
    },
    #[error("{format} frame of {width}x{height}: too large")]
    TooLarge {
        format: PixelFormat,
        width: u32,
        height: u32,
    },
    #[error("MJPEG frame: {0}")]
    Jpeg(String),
    /// A frame that is not pixels at all (an unreadable image file of a directory camera).
    #[error("unreadable frame: {0}")]
    Unreadable(String),
}

/// A frame as the capture thread keeps it until the decoder takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Captured {
    Luma(GrayFrame),
    /// Bytes that need decoding (MJPEG) or weighting (RGB / BGR) to give luma.
    Encoded {
        format: PixelFormat,
        width: u32,
        height: u32,
        bytes: Vec<u8>,
    },
}

impl Captured {
    /// Keeps what the decoder will need of a raw frame from the driver. Rows may be padded:
    /// the stride is taken from the buffer length when it is a whole multiple of the height.
    pub fn from_raw(
        format: PixelFormat,
        width: u32,
        height: u32,
        raw: &[u8],
    ) -> Result<Self, LumaError> {
        if u64::from(width) * u64::from(height) > MAX_PIXELS || width == 0 || height == 0 {
            return Err(LumaError::TooLarge {
                format,
                width,
                height,
            });
        }
        let (w, h) = (width as usize, height as usize);
        let short = || LumaError::Short {
            format,
            width,
            height,
            len: raw.len(),
        };
        let luma = match format {
            Format::Mjpeg => {
                return Ok(Self::Encoded {
                    format,
                    width,
                    height,
                    bytes: raw.to_vec(),
                })
            }
            Format::Rgb | Format::Bgr => {
                if raw.len() < w * h * 3 {
                    return Err(short());
                }
                return Ok(Self::Encoded {
                    format,
                    width,
                    height,
                    bytes: raw[..w * h * 3].to_vec(),
                });
            }
            Format::Yuyv => {
                let stride = stride(raw.len(), h, w * 2).ok_or_else(short)?;
                let mut out = Vec::with_capacity(w * h);
                for row in raw.chunks_exact(stride).take(h) {
                    out.extend(row[..w * 2].iter().step_by(2));
                }
                out
            }
            Format::Gray | Format::Nv12 => {
                // NV12: the Y plane first (h rows), then the interleaved chroma (h / 2 rows).
                let rows = if format == Format::Nv12 { h + h / 2 } else { h };
                let stride = stride(raw.len(), rows, w).ok_or_else(short)?;
                let mut out = Vec::with_capacity(w * h);
                for row in raw.chunks_exact(stride).take(h) {
                    out.extend_from_slice(&row[..w]);
                }
                out
            }
        };
        GrayFrame::new(width, height, luma)
            .map(Self::Luma)
            .map_err(|_| short())
    }

    /// The grayscale picture: the luma as kept, or decoded now.
    pub fn into_gray(self) -> Result<GrayFrame, LumaError> {
        match self {
            Self::Luma(frame) => Ok(frame),
            Self::Encoded {
                format: Format::Mjpeg,
                bytes,
                ..
            } => jpeg_luma(&bytes),
            Self::Encoded {
                format,
                width,
                height,
                bytes,
            } => {
                let (r, b) = if format == Format::Bgr {
                    (2, 0)
                } else {
                    (0, 2)
                };
                // ITU-R BT.601 weights in 8-bit fixed point (77 + 150 + 29 = 256).
                let luma = bytes
                    .chunks_exact(3)
                    .map(|p| {
                        ((77 * u32::from(p[r]) + 150 * u32::from(p[1]) + 29 * u32::from(p[b])) >> 8)
                            as u8
                    })
                    .collect();
                GrayFrame::new(width, height, luma).map_err(|_| LumaError::Short {
                    format,
                    width,
                    height,
                    len: bytes.len(),
                })
            }
        }
    }
}

use PixelFormat as Format;

/// Bytes per row in a buffer of `rows` rows of at least `min` bytes each, or `None` when the
/// buffer is too short. A buffer that is not an exact multiple is taken as unpadded.
fn stride(len: usize, rows: usize, min: usize) -> Option<usize> {
    if rows == 0 || len < rows * min {
        return None;
    }
    let padded = len / rows;
    Some(if len % rows == 0 { padded } else { min })
}

/// An MJPEG frame to luma (the Y channel of a YCbCr JPEG; chroma is never decoded). The
/// decoder runs guarded: a camera's bytes are input from outside.
fn jpeg_luma(bytes: &[u8]) -> Result<GrayFrame, LumaError> {
    use zune_core::bytestream::ZCursor;
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::DecoderOptions;

    // 50 Mpx at most, in either direction within that.
    let max_side = 16_384;
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::Luma)
        .set_max_width(max_side)
        .set_max_height(max_side);
    let attempt = guarded(|| {
        let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
        Some(
            decoder
                .decode()
                .map_err(|e| e.to_string())
                .and_then(|pixels| {
                    let info = decoder.info().ok_or("no image header")?;
                    let (w, h) = (info.width as u32, info.height as u32);
                    if u64::from(w) * u64::from(h) > MAX_PIXELS {
                        return Err(format!("{w}x{h} is too large"));
                    }
                    GrayFrame::new(w, h, pixels).map_err(|e| e.to_string())
                }),
        )
    });
    match attempt {
        Attempt::Found(result) => result.map_err(LumaError::Jpeg),
        Attempt::NotFound => Err(LumaError::Jpeg("no picture".into())),
        Attempt::Panicked(msg) => Err(LumaError::Jpeg(format!("decoder panicked: {msg}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> GrayFrame {
        let data = (0..w * h).map(|i| ((i % w) * 255 / w) as u8).collect();
        GrayFrame::new(w, h, data).unwrap()
    }

    #[test]
    fn yuyv_gives_its_y_bytes() {
        // Y0 U Y1 V for a 4x2 frame.
        let raw = [
            10, 128, 20, 128, 30, 128, 40, 128, //
            50, 1, 60, 2, 70, 3, 80, 4,
        ];
        let c = Captured::from_raw(PixelFormat::Yuyv, 4, 2, &raw).unwrap();
        let g = c.into_gray().unwrap();
        assert_eq!(g.pixels(), &[10, 20, 30, 40, 50, 60, 70, 80]);
    }

    #[test]
    fn padded_rows_are_skipped() {
        // 2x2 GREY with rows padded to 4 bytes.
        let raw = [1, 2, 0xEE, 0xEE, 3, 4, 0xEE, 0xEE];
        let g = Captured::from_raw(PixelFormat::Gray, 2, 2, &raw)
            .unwrap()
            .into_gray()
            .unwrap();
        assert_eq!(g.pixels(), &[1, 2, 3, 4]);
        // YUYV 2x2 padded to 6 bytes per row.
        let raw = [9, 0, 8, 0, 0xEE, 0xEE, 7, 0, 6, 0, 0xEE, 0xEE];
        let g = Captured::from_raw(PixelFormat::Yuyv, 2, 2, &raw)
            .unwrap()
            .into_gray()
            .unwrap();
        assert_eq!(g.pixels(), &[9, 8, 7, 6]);
    }

    #[test]
    fn nv12_gives_its_y_plane() {
        let mut raw = vec![5u8; 4 * 2];
        raw.extend([200u8; 4]); // chroma: 1 row of 4 bytes for 2 luma rows
        let g = Captured::from_raw(PixelFormat::Nv12, 4, 2, &raw)
            .unwrap()
            .into_gray()
            .unwrap();
        assert_eq!(g.pixels(), &[5; 8]);
    }

    #[test]
    fn rgb_and_bgr_are_weighted() {
        let rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255];
        let g = Captured::from_raw(PixelFormat::Rgb, 4, 1, &rgb)
            .unwrap()
            .into_gray()
            .unwrap();
        assert_eq!(g.pixels(), &[76, 149, 28, 255]);
        let g = Captured::from_raw(PixelFormat::Bgr, 4, 1, &rgb)
            .unwrap()
            .into_gray()
            .unwrap();
        assert_eq!(g.pixels(), &[28, 149, 76, 255]);
    }

    #[test]
    fn short_and_absurd_frames_are_errors_not_panics() {
        for f in [
            PixelFormat::Yuyv,
            PixelFormat::Nv12,
            PixelFormat::Gray,
            PixelFormat::Rgb,
        ] {
            assert!(
                matches!(
                    Captured::from_raw(f, 640, 480, &[0; 100]),
                    Err(LumaError::Short { .. })
                ),
                "{f}"
            );
        }
        assert!(matches!(
            Captured::from_raw(PixelFormat::Gray, 100_000, 100_000, &[]),
            Err(LumaError::TooLarge { .. })
        ));
        assert!(Captured::from_raw(PixelFormat::Gray, 0, 10, &[]).is_err());
    }

    #[test]
    fn mjpeg_decodes_to_luma_and_garbage_is_an_error() {
        let frame = gradient(64, 48);
        let img = image::GrayImage::from_raw(64, 48, frame.pixels().to_vec()).unwrap();
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95)
            .encode_image(&image::DynamicImage::ImageLuma8(img).into_rgb8())
            .unwrap();
        let g = Captured::from_raw(PixelFormat::Mjpeg, 64, 48, &jpeg)
            .unwrap()
            .into_gray()
            .unwrap();
        assert_eq!((g.width(), g.height()), (64, 48));
        let err: u32 = g
            .pixels()
            .iter()
            .zip(frame.pixels())
            .map(|(a, b)| u32::from(a.abs_diff(*b)))
            .max()
            .unwrap();
        assert!(err <= 8, "max error {err}");

        for bad in [&[][..], &[0xFF, 0xD8, 0xFF][..], &jpeg[..jpeg.len() / 2]] {
            let r = Captured::from_raw(PixelFormat::Mjpeg, 64, 48, bad)
                .unwrap()
                .into_gray();
            // A truncated JPEG may decode to a partly grey picture; it must never panic.
            if bad.len() < 10 {
                assert!(matches!(r, Err(LumaError::Jpeg(_))), "{r:?}");
            }
        }
    }
}
