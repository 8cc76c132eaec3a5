//! QR images of pass values, for the pass page, the manager's screen and printing.

use image::{ImageFormat, Luma};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use std::io::Cursor;

/// Module size limits: a 21×21 code at 1 px is unreadable; 40 px modules on a version-15 code
/// make a 3,000 px image, enough for any printer.
pub const MIN_MODULE_PX: u32 = 2;
pub const MAX_MODULE_PX: u32 = 40;

#[derive(Debug, thiserror::Error)]
pub enum QrImageError {
    #[error("this value does not fit in a QR code: {0}")]
    TooLong(String),
    #[error("cannot encode the PNG: {0}")]
    Png(String),
}

/// Medium error correction: survives a scratched phone screen and a printout's crease, while a
/// ~300-byte PD1 token still fits a version that webcams read at a counter's distance.
fn code(value: &str) -> Result<QrCode, QrImageError> {
    QrCode::with_error_correction_level(value.as_bytes(), EcLevel::M)
        .map_err(|e| QrImageError::TooLong(e.to_string()))
}

pub fn svg(value: &str, module_px: u32) -> Result<String, QrImageError> {
    let px = module_px.clamp(MIN_MODULE_PX, MAX_MODULE_PX);
    Ok(code(value)?
        .render::<svg::Color<'_>>()
        .module_dimensions(px, px)
        .quiet_zone(true)
        .build())
}

pub fn png(value: &str, module_px: u32) -> Result<Vec<u8>, QrImageError> {
    let px = module_px.clamp(MIN_MODULE_PX, MAX_MODULE_PX);
    let img = code(value)?
        .render::<Luma<u8>>()
        .module_dimensions(px, px)
        .quiet_zone(true)
        .build();
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)
        .map_err(|e| QrImageError::Png(e.to_string()))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_and_refuses_what_cannot_fit() {
        assert!(super::svg("HLF-0001", 8).unwrap().starts_with("<?xml"));
        assert!(super::png("HLF-0001", 8).unwrap().starts_with(b"\x89PNG"));
        assert!(super::svg(&"x".repeat(5000), 8).is_err());
    }
}
