//! The cascade for a still image: every stage in turn until one reads the code or the time
//! budget is spent. Used for files (`passdesk qr decode`) and as the reference for what the
//! frame-by-frame decoder ([`super::FrameDecoder`]) spreads over several frames.

use super::gray::GrayFrame;
use super::guard::Attempt;
use super::stage::{Effort, Stage};
use std::time::{Duration, Instant};

/// Stages for still images (at thorough effort, so rxing's inverted and Java passes are part
/// of the first stage), cheapest and most productive first (measured on the real-photo
/// set: rxing alone reads 165 of 179; the global binarizer, the enlarged frame, the local
/// threshold and the smoothed enlargement add the rest; rqrr reads a few of them too, which
/// keeps a second opinion for photos unlike these).
pub const STILL_ORDER: [Stage; 12] = [
    Stage::Rxing,
    Stage::RxingGlobal,
    Stage::RxingUpscaled,
    Stage::RxingThreshold,
    Stage::RxingSmoothed,
    Stage::RxingTiles,
    Stage::RqrrThreshold,
    Stage::Rqrr,
    Stage::RxingContrast,
    Stage::RxingDownscaled,
    Stage::RqrrUpscaled,
    Stage::RqrrInverted,
];

/// A code that was read, by which stage, and where in the frame (see [`super::stage::Found`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    pub text: String,
    pub stage: Stage,
    /// The decoder's result points (finder patterns or corners) in the frame's pixels, when
    /// the stage knows them.
    pub outline: Option<Vec<(f32, f32)>>,
}

/// What running the cascade on one image came to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub read: Option<Read>,
    /// Stages that ran, in order (the last one read the code when `read` is set).
    pub tried: Vec<Stage>,
    /// Stages that panicked, with the panic message; each counted as "no read".
    pub panics: Vec<(Stage, String)>,
    /// Whether stages were left out because the time budget was spent.
    pub out_of_time: bool,
}

/// Runs stages in order on a still image within a time budget.
#[derive(Debug, Clone)]
pub struct Cascade {
    stages: Vec<Stage>,
    budget: Duration,
}

impl Default for Cascade {
    /// All stages, 500 ms: generous for a file, where reading matters more than latency.
    fn default() -> Self {
        Self::new(STILL_ORDER.to_vec(), Duration::from_millis(500))
    }
}

impl Cascade {
    pub fn new(stages: Vec<Stage>, budget: Duration) -> Self {
        Self { stages, budget }
    }

    /// Tries each stage until one reads a code. The budget is checked before each stage: a
    /// stage is never interrupted, but every stage's cost is bounded by the frame size.
    pub fn decode(&self, frame: &GrayFrame) -> Outcome {
        let started = Instant::now();
        let mut outcome = Outcome::default();
        for &stage in &self.stages {
            if !stage.applies_to(frame) {
                continue;
            }
            if started.elapsed() >= self.budget {
                outcome.out_of_time = true;
                break;
            }
            outcome.tried.push(stage);
            match stage.locate(frame, Effort::Thorough) {
                Attempt::Found(found) => {
                    outcome.read = Some(Read {
                        text: found.text,
                        stage,
                        outline: found.outline,
                    });
                    break;
                }
                Attempt::NotFound => {}
                Attempt::Panicked(msg) => outcome.panics.push((stage, msg)),
            }
        }
        outcome
    }
}
