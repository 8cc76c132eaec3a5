//! The primary decoder: rxing, a Rust port of ZXing. It carries two QR readers: a port of
//! zxing-cpp's (finder patterns found on a few scan lines, fast) and of ZXing Java's (slower,
//! reads some codes the other misses). Asked for QR codes only, so that noise can never turn
//! into a 1D read.

use super::gray::GrayFrame;
use rxing::common::{GlobalHistogramBinarizer, HybridBinarizer};
use rxing::qrcode::cpp_port::QrReader;
use rxing::qrcode::QRCodeReader;
use rxing::{BarcodeFormat, BinaryBitmap, DecodeHints, Luma8LuminanceSource, RXingResult, Reader};
use std::collections::HashSet;

/// Which rxing binarizer turns grey into black and white.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binarizer {
    /// Local thresholds per 8x8 block: ZXing's default, good on uneven light.
    Hybrid,
    /// One threshold per row from a histogram: better on small, blurry or low-contrast codes.
    GlobalHistogram,
}

/// Which of rxing's QR readers to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readers {
    /// The zxing-cpp port only.
    Cpp,
    /// The ZXing Java port only.
    Java,
    /// The zxing-cpp port, then the Java port if it read nothing.
    Both,
}

/// Polarity of the code to look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    /// Dark on light only.
    Normal,
    /// Light on dark only (phone screens in dark mode).
    Inverted,
    /// Dark on light, then light on dark.
    Either,
}

/// One rxing configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxingConfig {
    pub binarizer: Binarizer,
    pub readers: Readers,
    pub polarity: Polarity,
    /// Scan every row for finder patterns instead of a sample of rows.
    pub try_harder: bool,
}

impl RxingConfig {
    /// Everything rxing has, on one binarizer: the configuration for still images.
    pub const fn thorough(binarizer: Binarizer) -> Self {
        Self {
            binarizer,
            readers: Readers::Both,
            polarity: Polarity::Either,
            try_harder: true,
        }
    }
}

/// A code rxing read, and where: its result points (finder patterns, alignment pattern or
/// corners, depending on the reader) in the pixel coordinates of the frame it was given.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub text: String,
    pub points: Vec<(f32, f32)>,
}

/// Decodes one QR code. Not guarded: callers wrap it in [`super::guard::guarded`].
pub fn decode(frame: &GrayFrame, config: RxingConfig) -> Option<String> {
    decode_located(frame, config).map(|d| d.text)
}

/// Like [`decode`], with the code's result points. Not guarded either.
pub fn decode_located(frame: &GrayFrame, config: RxingConfig) -> Option<Decoded> {
    if frame.width() < 21 || frame.height() < 21 {
        return None; // smaller than the smallest QR code at one pixel per module
    }
    let source =
        Luma8LuminanceSource::new(frame.pixels().to_vec(), frame.width(), frame.height()).ok()?;
    let result = match config.binarizer {
        Binarizer::Hybrid => {
            decode_bitmap(&mut BinaryBitmap::new(HybridBinarizer::new(source)), config)
        }
        Binarizer::GlobalHistogram => decode_bitmap(
            &mut BinaryBitmap::new(GlobalHistogramBinarizer::new(source)),
            config,
        ),
    }?;
    // Belt and braces: the hints already exclude every other format.
    (*result.getBarcodeFormat() == BarcodeFormat::QR_CODE).then(|| Decoded {
        text: result.getText().to_owned(),
        points: result
            .getPoints()
            .iter()
            .map(|p| (p.x, p.y))
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect(),
    })
}

fn decode_bitmap<B: rxing::Binarizer>(
    bitmap: &mut BinaryBitmap<B>,
    config: RxingConfig,
) -> Option<RXingResult> {
    let hints = DecodeHints {
        PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
        TryHarder: Some(config.try_harder),
        ..DecodeHints::default()
    };
    let read = |bitmap: &mut BinaryBitmap<B>| -> Option<RXingResult> {
        let cpp = matches!(config.readers, Readers::Cpp | Readers::Both)
            .then(|| QrReader.decode_with_hints(bitmap, &hints).ok())
            .flatten();
        if cpp.is_some() || config.readers == Readers::Cpp {
            return cpp;
        }
        QRCodeReader.decode_with_hints(bitmap, &hints).ok()
    };
    if config.polarity != Polarity::Inverted {
        if let Some(r) = read(bitmap) {
            return Some(r);
        }
        if config.polarity == Polarity::Normal {
            return None;
        }
    }
    bitmap.invert();
    read(bitmap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::preprocess::invert;
    use crate::qr::synth::render_qr_in;

    #[test]
    fn reads_latin1_and_utf8_and_inverted_only_when_asked() {
        for charset in ["ISO-8859-1", "UTF-8"] {
            let code = render_qr_in("Grüße, café", 4, charset).unwrap();
            let text = decode(&code, RxingConfig::thorough(Binarizer::Hybrid));
            assert_eq!(text.as_deref(), Some("Grüße, café"), "{charset}");
        }
        let dark = invert(&render_qr_in("dark", 4, "UTF-8").unwrap());
        let normal_only = RxingConfig {
            polarity: Polarity::Normal,
            ..RxingConfig::thorough(Binarizer::Hybrid)
        };
        assert_eq!(decode(&dark, normal_only), None);
        let inverted = RxingConfig {
            polarity: Polarity::Inverted,
            readers: Readers::Cpp,
            ..normal_only
        };
        assert_eq!(decode(&dark, inverted).as_deref(), Some("dark"));
    }
}
