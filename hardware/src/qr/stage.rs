//! The steps of the cascade: one decoder on one version of the frame. Each has a stable name
//! (reported by `passdesk qr decode` and counted by the bench) and a cost bounded by the
//! frame size. Every stage runs at one of two efforts: thorough for still images, quick for
//! camera frames (where the next frame is 33 ms away and brings another chance).

use super::gray::GrayFrame;
use super::guard::{guarded, Attempt};
use super::preprocess::{
    adaptive_threshold, box_blur, crop, downscale, factor_to_fit, invert, stretch_contrast, upscale,
};
use super::rqrr_engine::MAX_RQRR_SIDE;
use super::rqrr_worker::{self, Input};
use super::rxing_engine::{self, Binarizer, Decoded, Polarity, Readers, RxingConfig};
use std::time::Duration;

/// Frames whose longer side is below this are enlarged for the "upscaled" stages.
const SMALL_SIDE: u32 = 320;
/// The downscaled stage targets this longer side.
const DOWNSCALED_SIDE: u32 = 800;
/// At quick effort rqrr sees at most this longer side: its cost grows fast with the area
/// and with clutter (12-35 ms on a code-free 720p frame, 3-4x less at half size).
const QUICK_RQRR_SIDE: u32 = 700;
/// Frames whose shorter side is below this are not cut into windows: too little to gain.
const TILED_MIN_SIDE: u32 = 400;
/// How long a still image waits for one rqrr call (normally 2-20 ms).
const THOROUGH_RQRR_DEADLINE: Duration = Duration::from_millis(300);
/// How long a camera frame waits for one rqrr call (normally 2-4 ms at half size).
const QUICK_RQRR_DEADLINE: Duration = Duration::from_millis(8);

/// A code a stage read, and its outline in the pixel coordinates of the frame the stage was
/// given: the decoder's result points mapped back through the stage's own transform
/// (downscale, enlargement, window offset). `None` when the decoder gives no points (rqrr's
/// stages): never a guessed outline.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub text: String,
    pub outline: Option<Vec<(f32, f32)>>,
}

/// How hard a stage tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    /// Both rxing readers, both polarities: for a still image, read it if at all possible.
    Thorough,
    /// The fast rxing reader, dark-on-light only (inversion is a stage of its own), rqrr at
    /// reduced size: for one camera frame among many.
    Quick,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// rxing, hybrid binarizer, the frame as it is.
    Rxing,
    /// rxing looking for light-on-dark codes only.
    RxingInverted,
    /// rxing's port of the ZXing Java reader alone (at quick effort the primary uses the
    /// zxing-cpp port only).
    RxingJava,
    /// rxing, global-histogram binarizer.
    RxingGlobal,
    /// rqrr on the frame (shrunk to at most [`MAX_RQRR_SIDE`]).
    Rqrr,
    /// rqrr on the inverted frame: rqrr only finds dark-on-light codes.
    RqrrInverted,
    /// rqrr on a local-mean threshold of the frame (uneven light, low contrast).
    RqrrThreshold,
    /// rxing on the same local-mean threshold.
    RxingThreshold,
    /// rxing on a contrast-stretched frame.
    RxingContrast,
    /// rxing on a shrunk frame: large photos of large codes, moiré, blur.
    RxingDownscaled,
    /// rxing on a 2-3x enlarged frame: tiny images with 1-3 pixel modules.
    RxingUpscaled,
    /// rqrr on a 2-3x enlarged frame.
    RqrrUpscaled,
    /// rxing on a smoothed, then 2-3x enlarged frame: small, grainy photos.
    RxingSmoothed,
    /// rxing on nine overlapping half-size windows of the frame: a small code among text or
    /// other clutter whose finder-pattern look-alikes win over the code's on the whole frame.
    RxingTiles,
    /// The same, one row of three windows (0 = top, 1 = middle, 2 = bottom): for camera
    /// frames, where the nine together cost too much for one frame.
    RxingTileRow(u8),
}

impl Stage {
    pub const ALL: [Stage; 17] = [
        Stage::Rxing,
        Stage::RxingInverted,
        Stage::RxingJava,
        Stage::RxingGlobal,
        Stage::Rqrr,
        Stage::RqrrInverted,
        Stage::RqrrThreshold,
        Stage::RxingThreshold,
        Stage::RxingContrast,
        Stage::RxingDownscaled,
        Stage::RxingUpscaled,
        Stage::RqrrUpscaled,
        Stage::RxingSmoothed,
        Stage::RxingTiles,
        Stage::RxingTileRow(0),
        Stage::RxingTileRow(1),
        Stage::RxingTileRow(2),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Rxing => "rxing",
            Stage::RxingInverted => "rxing_inverted",
            Stage::RxingJava => "rxing_java",
            Stage::RxingGlobal => "rxing_global",
            Stage::Rqrr => "rqrr",
            Stage::RqrrInverted => "rqrr_inverted",
            Stage::RqrrThreshold => "rqrr_threshold",
            Stage::RxingThreshold => "rxing_threshold",
            Stage::RxingContrast => "rxing_contrast",
            Stage::RxingDownscaled => "rxing_downscaled",
            Stage::RxingUpscaled => "rxing_upscaled",
            Stage::RqrrUpscaled => "rqrr_upscaled",
            Stage::RxingSmoothed => "rxing_smoothed",
            Stage::RxingTiles => "rxing_tiles",
            Stage::RxingTileRow(_) => "rxing_tile_row",
        }
    }

    /// Whether the stage has anything to do on a frame of this size (an upscale stage on a
    /// 720p frame, a downscale stage on a small one would only repeat another stage).
    pub fn applies_to(self, frame: &GrayFrame) -> bool {
        let side = frame.width().max(frame.height());
        match self {
            Stage::RxingDownscaled => side > DOWNSCALED_SIDE * 3 / 2,
            Stage::RxingTiles | Stage::RxingTileRow(_) => {
                frame.width().min(frame.height()) >= TILED_MIN_SIDE
            }
            Stage::RxingUpscaled | Stage::RqrrUpscaled | Stage::RxingSmoothed => side < SMALL_SIDE,
            _ => true,
        }
    }

    /// Runs the stage on `frame`, panics caught (and rqrr held to a deadline).
    pub fn run(self, frame: &GrayFrame, effort: Effort) -> Attempt<String> {
        match self.locate(frame, effort) {
            Attempt::Found(found) => Attempt::Found(found.text),
            Attempt::NotFound => Attempt::NotFound,
            Attempt::Panicked(msg) => Attempt::Panicked(msg),
        }
    }

    /// Like [`Self::run`], with the code's outline in `frame`'s coordinates when known.
    pub fn locate(self, frame: &GrayFrame, effort: Effort) -> Attempt<Found> {
        let no_outline = |a: Attempt<String>| match a {
            Attempt::Found(text) => Attempt::Found(Found {
                text,
                outline: None,
            }),
            Attempt::NotFound => Attempt::NotFound,
            Attempt::Panicked(msg) => Attempt::Panicked(msg),
        };
        let (rqrr_side, deadline) = match effort {
            Effort::Thorough => (MAX_RQRR_SIDE, THOROUGH_RQRR_DEADLINE),
            Effort::Quick => (QUICK_RQRR_SIDE, QUICK_RQRR_DEADLINE),
        };
        let for_rqrr = || downscale(frame, factor_to_fit(frame, rqrr_side));
        let rqrr = |f: GrayFrame, input| rqrr_worker::decode(f, input, deadline);
        match self {
            Stage::Rqrr => no_outline(rqrr(for_rqrr(), Input::Gray)),
            Stage::RqrrInverted => no_outline(rqrr(invert(&for_rqrr()), Input::Gray)),
            Stage::RqrrThreshold => no_outline(rqrr(threshold(&for_rqrr(), effort), Input::Binary)),
            Stage::RqrrUpscaled => no_outline(rqrr(enlarge(frame), Input::Gray)),
            _ => guarded(|| self.run_rxing(frame, effort)),
        }
    }

    fn run_rxing(self, frame: &GrayFrame, effort: Effort) -> Option<Found> {
        let rx = |f: &GrayFrame, binarizer: Binarizer| {
            rxing_engine::decode_located(f, rxing_config(binarizer, effort))
        };
        let same = |d: Decoded| found(d, 1.0, (0.0, 0.0));
        match self {
            Stage::Rxing => rx(frame, Binarizer::Hybrid).map(same),
            Stage::RxingInverted => rxing_engine::decode_located(
                frame,
                RxingConfig {
                    polarity: Polarity::Inverted,
                    ..rxing_config(Binarizer::Hybrid, Effort::Quick)
                },
            )
            .map(same),
            Stage::RxingJava => rxing_engine::decode_located(
                frame,
                RxingConfig {
                    readers: Readers::Java,
                    ..rxing_config(Binarizer::Hybrid, effort)
                },
            )
            .map(same),
            Stage::RxingGlobal => rx(frame, Binarizer::GlobalHistogram).map(same),
            // Same size as the frame: thresholding and stretching move no pixel.
            Stage::RxingThreshold => {
                rx(&threshold(frame, effort), Binarizer::GlobalHistogram).map(same)
            }
            Stage::RxingContrast => rx(&stretch_contrast(frame), Binarizer::Hybrid).map(same),
            Stage::RxingDownscaled => {
                let factor = factor_to_fit(frame, DOWNSCALED_SIDE);
                let small = downscale(frame, factor);
                // `downscale` keeps the frame as it is when it cannot shrink it.
                let scale = if small.width() == frame.width() {
                    1.0
                } else {
                    factor as f32
                };
                rx(&small, Binarizer::Hybrid).map(|d| found(d, scale, (0.0, 0.0)))
            }
            Stage::RxingUpscaled => {
                let big = enlarge(frame);
                let scale = frame.width() as f32 / big.width().max(1) as f32;
                rx(&big, Binarizer::GlobalHistogram).map(|d| found(d, scale, (0.0, 0.0)))
            }
            // Run by `run` on the rqrr worker.
            Stage::Rqrr | Stage::RqrrInverted | Stage::RqrrThreshold | Stage::RqrrUpscaled => None,
            Stage::RxingSmoothed => {
                let big = enlarge(&box_blur(frame));
                let scale = frame.width() as f32 / big.width().max(1) as f32;
                rx(&big, Binarizer::GlobalHistogram).map(|d| found(d, scale, (0.0, 0.0)))
            }
            Stage::RxingTiles => (0..3).find_map(|row| tile_row(frame, row, &rx)),
            Stage::RxingTileRow(row) => tile_row(frame, u32::from(row), &rx),
        }
    }
}

/// A decoder's read with its points mapped to the original frame: `scale` original pixels
/// per pixel of the image the decoder saw, whose top-left corner sat at `offset`.
fn found(d: Decoded, scale: f32, offset: (f32, f32)) -> Found {
    let outline = (!d.points.is_empty()).then(|| {
        d.points
            .iter()
            .map(|&(x, y)| (x * scale + offset.0, y * scale + offset.1))
            .collect()
    });
    Found {
        text: d.text,
        outline,
    }
}

/// rxing on the three windows of one row of a 3x3 grid of half-size windows at quarter
/// steps: any code up to a quarter of the frame lies wholly inside one of the nine.
fn tile_row(
    frame: &GrayFrame,
    row: u32,
    rx: &impl Fn(&GrayFrame, Binarizer) -> Option<Decoded>,
) -> Option<Found> {
    let (w, h) = (frame.width() / 2, frame.height() / 2);
    (0..3).find_map(|col| {
        let (x, y) = (col * w / 2, row.min(2) * h / 2);
        rx(&crop(frame, x, y, w, h), Binarizer::Hybrid).map(|d| found(d, 1.0, (x as f32, y as f32)))
    })
}

fn rxing_config(binarizer: Binarizer, effort: Effort) -> RxingConfig {
    match effort {
        Effort::Thorough => RxingConfig::thorough(binarizer),
        Effort::Quick => RxingConfig {
            binarizer,
            readers: Readers::Cpp,
            polarity: Polarity::Normal,
            try_harder: true,
        },
    }
}

fn enlarge(frame: &GrayFrame) -> GrayFrame {
    let side = frame.width().max(frame.height()).max(1);
    upscale(frame, (SMALL_SIDE * 2 / side).clamp(2, 3))
}

/// The local window scales with the frame so it spans a few modules of a code that fills a
/// good part of it; the offset keeps flat paper from turning into salt and pepper. Camera
/// frames carry more sensor noise than the photos, and speckle makes the finder-pattern
/// search slow, hence the larger offset at quick effort.
fn threshold(frame: &GrayFrame, effort: Effort) -> GrayFrame {
    let radius = (frame.width().min(frame.height()) / 24).max(6);
    let offset = match effort {
        Effort::Thorough => 6,
        Effort::Quick => 10,
    };
    adaptive_threshold(frame, radius, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degenerate_frames_are_no_read_never_a_panic() {
        let shapes = [
            (0, 0),
            (1, 1),
            (1, 900),
            (900, 1),
            (2, 2),
            (21, 21),
            (3, 2000),
        ];
        for (w, h) in shapes {
            for level in [0, 255] {
                let frame = GrayFrame::filled(w, h, level);
                for stage in Stage::ALL {
                    for effort in [Effort::Thorough, Effort::Quick] {
                        let a = stage.run(&frame, effort);
                        assert_eq!(a, Attempt::NotFound, "{} on {w}x{h}", stage.name());
                    }
                }
                let mut decoder = crate::qr::FrameDecoder::default();
                assert_eq!(decoder.decode(&frame).read, None);
                assert_eq!(crate::qr::Cascade::default().decode(&frame).read, None);
            }
        }
    }
}
