//! The steps of the cascade: one decoder on one version of the frame. Each has a stable name
//! (reported by `passdesk qr decode` and counted by the bench) and a bounded cost.

use super::gray::GrayFrame;
use super::guard::{guarded, Attempt};
use super::preprocess::{
    adaptive_threshold, downscale, factor_to_fit, invert, stretch_contrast, upscale,
};
use super::rqrr_engine::{self, MAX_RQRR_SIDE};
use super::rxing_engine::{self, Binarizer};

/// Frames whose longer side is below this are enlarged for the "upscaled" stages.
const SMALL_SIDE: u32 = 320;
/// rxing's own search is fine on large photos, but its downscaled stage targets this side.
const RXING_DOWNSCALED_SIDE: u32 = 800;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// rxing, hybrid binarizer, the frame as it is and inverted.
    Rxing,
    /// rxing, global-histogram binarizer, as it is and inverted.
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
    /// rxing on a shrunk frame: large photos of small-ish codes, moiré.
    RxingDownscaled,
    /// rxing on a 2-3x enlarged frame: tiny images with 1-3 pixel modules.
    RxingUpscaled,
    /// rqrr on a 2-3x enlarged frame.
    RqrrUpscaled,
}

impl Stage {
    pub const ALL: [Stage; 10] = [
        Stage::Rxing,
        Stage::RxingGlobal,
        Stage::Rqrr,
        Stage::RqrrInverted,
        Stage::RqrrThreshold,
        Stage::RxingThreshold,
        Stage::RxingContrast,
        Stage::RxingDownscaled,
        Stage::RxingUpscaled,
        Stage::RqrrUpscaled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Rxing => "rxing",
            Stage::RxingGlobal => "rxing_global",
            Stage::Rqrr => "rqrr",
            Stage::RqrrInverted => "rqrr_inverted",
            Stage::RqrrThreshold => "rqrr_threshold",
            Stage::RxingThreshold => "rxing_threshold",
            Stage::RxingContrast => "rxing_contrast",
            Stage::RxingDownscaled => "rxing_downscaled",
            Stage::RxingUpscaled => "rxing_upscaled",
            Stage::RqrrUpscaled => "rqrr_upscaled",
        }
    }

    /// Whether the stage has anything to do on a frame of this size (an upscale stage on a
    /// 720p frame, a downscale stage on a small one would only repeat another stage).
    pub fn applies_to(self, frame: &GrayFrame) -> bool {
        let side = frame.width().max(frame.height());
        match self {
            Stage::RxingDownscaled => side > RXING_DOWNSCALED_SIDE * 3 / 2,
            Stage::RxingUpscaled | Stage::RqrrUpscaled => side < SMALL_SIDE,
            _ => true,
        }
    }

    /// Runs the stage on `frame`, panics caught.
    pub fn run(self, frame: &GrayFrame) -> Attempt<String> {
        guarded(|| self.run_unguarded(frame))
    }

    fn run_unguarded(self, frame: &GrayFrame) -> Option<String> {
        match self {
            Stage::Rxing => rxing_engine::decode(frame, Binarizer::Hybrid, true),
            Stage::RxingGlobal => rxing_engine::decode(frame, Binarizer::GlobalHistogram, true),
            Stage::Rqrr => rqrr_engine::decode_gray(&fit_for_rqrr(frame)),
            Stage::RqrrInverted => rqrr_engine::decode_gray(&invert(&fit_for_rqrr(frame))),
            Stage::RqrrThreshold => rqrr_engine::decode_binary(&threshold(&fit_for_rqrr(frame))),
            Stage::RxingThreshold => {
                rxing_engine::decode(&threshold(frame), Binarizer::GlobalHistogram, true)
            }
            Stage::RxingContrast => {
                rxing_engine::decode(&stretch_contrast(frame), Binarizer::Hybrid, true)
            }
            Stage::RxingDownscaled => {
                let f = downscale(frame, factor_to_fit(frame, RXING_DOWNSCALED_SIDE));
                rxing_engine::decode(&f, Binarizer::Hybrid, true)
            }
            Stage::RxingUpscaled => {
                rxing_engine::decode(&enlarge(frame), Binarizer::GlobalHistogram, true)
            }
            Stage::RqrrUpscaled => rqrr_engine::decode_gray(&enlarge(frame)),
        }
    }
}

fn fit_for_rqrr(frame: &GrayFrame) -> GrayFrame {
    downscale(frame, factor_to_fit(frame, MAX_RQRR_SIDE))
}

fn enlarge(frame: &GrayFrame) -> GrayFrame {
    let side = frame.width().max(frame.height()).max(1);
    upscale(frame, (SMALL_SIDE * 2 / side).clamp(2, 3))
}

/// The local window scales with the frame so it spans a few modules of a code that fills a
/// good part of it; the offset keeps flat paper from turning into salt and pepper.
fn threshold(frame: &GrayFrame) -> GrayFrame {
    let radius = (frame.width().min(frame.height()) / 24).max(6);
    adaptive_threshold(frame, radius, 6)
}
