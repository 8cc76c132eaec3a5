//! QR images of pass values, for the pass page, the manager's screen and printing. What is
//! drawn is bounded before a pixel is: [`plan`] refuses a module size outside
//! [`MIN_MODULE_PX`]..=[`MAX_MODULE_PX`] and an image wider than [`MAX_SIDE_PX`], and the
//! encoded image is refused past [`MAX_BYTES`]. Rendering is CPU work: the service runs it on
//! tokio's blocking pool.

use image::{ImageFormat, Luma};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use std::io::Cursor;

/// Module size limits: a 21×21 code at 1 px is unreadable; 40 px modules on a version-15 code
/// make a 3,400 px image, enough for any printer.
pub const MIN_MODULE_PX: u32 = 2;
pub const MAX_MODULE_PX: u32 = 40;
/// The widest image drawn, in pixels: 17 cm at 600 dpi. A PNG this size is a 16 MiB
/// greyscale buffer while it is encoded.
pub const MAX_SIDE_PX: u32 = 4096;
/// The largest image answered, encoded (a 4096 px PNG of a code is a few hundred KiB; an SVG
/// of the largest code about half a MiB).
pub const MAX_BYTES: usize = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum QrImageError {
    #[error("this value does not fit in a QR code: {0}")]
    TooLong(String),
    #[error("size {0}: the pixels per module must be {MIN_MODULE_PX} to {MAX_MODULE_PX}")]
    ModuleSize(u32),
    #[error(
        "size {module_px} with a {value_bytes}-byte code would be {side_px} px wide; at most {MAX_SIDE_PX}: ask for size {fits} or less"
    )]
    TooWide {
        module_px: u32,
        value_bytes: usize,
        side_px: u64,
        fits: u64,
    },
    #[error("the image would be {0} bytes; at most {MAX_BYTES}")]
    TooManyBytes(usize),
    #[error("cannot encode the PNG: {0}")]
    Png(String),
}

impl QrImageError {
    /// The error's code in an API answer.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLong(_) => "qr",
            Self::ModuleSize(_) => "invalid_size",
            Self::TooWide { .. } | Self::TooManyBytes(_) => "qr_too_large",
            Self::Png(_) => "qr",
        }
    }
}

/// A code to draw, at a module size whose image fits the caps.
pub struct Plan {
    code: QrCode,
    module_px: u32,
}

/// Medium error correction: survives a scratched phone screen and a printout's crease, while a
/// ~300-byte PD1 token still fits a version that webcams read at a counter's distance.
pub fn plan(value: &str, module_px: u32) -> Result<Plan, QrImageError> {
    if !(MIN_MODULE_PX..=MAX_MODULE_PX).contains(&module_px) {
        return Err(QrImageError::ModuleSize(module_px));
    }
    let code = QrCode::with_error_correction_level(value.as_bytes(), EcLevel::M)
        .map_err(|e| QrImageError::TooLong(e.to_string()))?;
    let quiet_zone = if code.version().is_micro() { 2 } else { 4 };
    let modules = code.width() as u64 + 2 * quiet_zone;
    let side_px = modules * u64::from(module_px);
    if side_px > u64::from(MAX_SIDE_PX) {
        return Err(QrImageError::TooWide {
            module_px,
            value_bytes: value.len(),
            side_px,
            fits: u64::from(MAX_SIDE_PX) / modules,
        });
    }
    Ok(Plan { code, module_px })
}

impl Plan {
    pub fn svg(&self) -> Result<Vec<u8>, QrImageError> {
        let px = self.module_px;
        let svg = self
            .code
            .render::<svg::Color<'_>>()
            .module_dimensions(px, px)
            .quiet_zone(true)
            .build();
        capped(svg.into_bytes())
    }

    pub fn png(&self) -> Result<Vec<u8>, QrImageError> {
        let px = self.module_px;
        let img = self
            .code
            .render::<Luma<u8>>()
            .module_dimensions(px, px)
            .quiet_zone(true)
            .build();
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png)
            .map_err(|e| QrImageError::Png(e.to_string()))?;
        capped(out.into_inner())
    }
}

fn capped(bytes: Vec<u8>) -> Result<Vec<u8>, QrImageError> {
    if bytes.len() > MAX_BYTES {
        return Err(QrImageError::TooManyBytes(bytes.len()));
    }
    Ok(bytes)
}

pub fn svg(value: &str, module_px: u32) -> Result<String, QrImageError> {
    let bytes = plan(value, module_px)?.svg()?;
    // The renderer wrote a String; the bytes are its own.
    String::from_utf8(bytes).map_err(|e| QrImageError::Png(e.to_string()))
}

pub fn png(value: &str, module_px: u32) -> Result<Vec<u8>, QrImageError> {
    plan(value, module_px)?.png()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_refuses_what_cannot_fit() {
        assert!(svg("HLF-0001", 8).unwrap().starts_with("<?xml"));
        assert!(png("HLF-0001", 8).unwrap().starts_with(b"\x89PNG"));
        assert!(matches!(
            svg(&"x".repeat(5000), 8),
            Err(QrImageError::TooLong(_))
        ));
    }

    #[test]
    fn sizes_outside_the_range_and_images_past_the_cap_are_refused() {
        for size in [0, 1, 41, u32::MAX] {
            let err = plan("HLF-0001", size).err().unwrap();
            assert!(
                matches!(err, QrImageError::ModuleSize(s) if s == size),
                "{err}"
            );
        }
        // 2,000 bytes: one of the largest codes (version 38).
        let long = "x".repeat(2000);
        let modules = QrCode::with_error_correction_level(long.as_bytes(), EcLevel::M)
            .unwrap()
            .width() as u32
            + 8;
        let fits = MAX_SIDE_PX / modules;
        let err = plan(&long, 40).err().unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "size 40 with a 2000-byte code would be {} px wide; at most 4096: ask for size {fits} or less",
                modules * 40
            )
        );
        assert_eq!(err.code(), "qr_too_large");
        let png = plan(&long, fits).unwrap().png().unwrap();
        let img = image::load_from_memory(&png).unwrap();
        assert_eq!(
            (img.width(), img.height()),
            (modules * fits, modules * fits)
        );
        assert!(png.len() <= MAX_BYTES);
    }
}
