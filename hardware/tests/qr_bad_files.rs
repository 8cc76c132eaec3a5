//! Unreadable image files give errors that name the file, never a panic.

use passdesk_hardware::qr::{GrayFrame, QrError};
use std::path::Path;

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/testdata/qr/zxing-qrcode-1/1.png"
);

fn open(dir: &Path, name: &str, bytes: &[u8]) -> Result<GrayFrame, QrError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    GrayFrame::open(&path)
}

#[test]
fn bad_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let png = std::fs::read(SAMPLE).expect("test set sample");

    let err = open(dir.path(), "truncated.png", &png[..png.len() / 2]).unwrap_err();
    assert!(matches!(err, QrError::Image { .. }), "{err}");
    assert!(err.to_string().contains("truncated.png"), "{err}");

    let err = open(dir.path(), "empty.png", b"").unwrap_err();
    assert!(matches!(err, QrError::Image { .. }), "{err}");

    let err = open(dir.path(), "words.png", b"this is not a picture\n").unwrap_err();
    assert!(matches!(err, QrError::Image { .. }), "{err}");

    let err = open(dir.path(), "header-only.png", &png[..8]).unwrap_err();
    assert!(matches!(err, QrError::Image { .. }), "{err}");

    let err = GrayFrame::open(&dir.path().join("missing.png")).unwrap_err();
    assert!(matches!(err, QrError::Read { .. }), "{err}");

    let err = GrayFrame::open(dir.path()).unwrap_err();
    assert!(matches!(err, QrError::Read { .. }), "{err}");
}

#[test]
fn a_header_claiming_a_huge_image_is_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let mut png = Vec::new();
    image::GrayImage::from_pixel(4, 4, image::Luma([0u8]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    // IHDR: 8-byte signature, 4-byte length, "IHDR", width, height, ..., CRC over type+data.
    png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    let err = open(dir.path(), "huge.png", &png).unwrap_err();
    assert!(
        matches!(err, QrError::TooLarge { .. } | QrError::Image { .. }),
        "{err}"
    );
}

/// CRC-32 (IEEE), bit by bit: enough for one PNG chunk in a test.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
