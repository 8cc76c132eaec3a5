//! The primary decoder: rxing, a Rust port of ZXing (both its Java QR reader and the
//! zxing-cpp one), asked for QR codes only so that noise can never turn into a 1D read.

use super::gray::GrayFrame;
use rxing::common::{GlobalHistogramBinarizer, HybridBinarizer};
use rxing::{
    BarcodeFormat, BinaryBitmap, DecodeHints, Luma8LuminanceSource, MultiFormatReader, Reader,
};
use std::collections::HashSet;

/// Which rxing binarizer turns grey into black and white.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binarizer {
    /// Local thresholds per 8x8 block: ZXing's default, good on uneven light.
    Hybrid,
    /// One threshold per row from a histogram: better on small, blurry or low-contrast codes.
    GlobalHistogram,
}

fn hints(also_inverted: bool) -> DecodeHints {
    DecodeHints {
        PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
        TryHarder: Some(true),
        AlsoInverted: Some(also_inverted),
        ..DecodeHints::default()
    }
}

/// Decodes one QR code, trying the inverted image too when `also_inverted`. Not guarded:
/// callers wrap it in [`super::guard::guarded`].
pub fn decode(frame: &GrayFrame, binarizer: Binarizer, also_inverted: bool) -> Option<String> {
    if frame.width() < 21 || frame.height() < 21 {
        return None; // smaller than the smallest QR code at one pixel per module
    }
    let source =
        Luma8LuminanceSource::new(frame.pixels().to_vec(), frame.width(), frame.height()).ok()?;
    let hints = hints(also_inverted);
    let mut reader = MultiFormatReader::default();
    let result = match binarizer {
        Binarizer::Hybrid => {
            reader.decode_with_hints(&mut BinaryBitmap::new(HybridBinarizer::new(source)), &hints)
        }
        Binarizer::GlobalHistogram => reader.decode_with_hints(
            &mut BinaryBitmap::new(GlobalHistogramBinarizer::new(source)),
            &hints,
        ),
    };
    let result = result.ok()?;
    // Belt and braces: the hints already exclude every other format.
    (*result.getBarcodeFormat() == BarcodeFormat::QR_CODE).then(|| result.getText().to_owned())
}
