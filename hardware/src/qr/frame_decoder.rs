//! Decoding a stream of camera frames within a per-frame budget. The primary stage runs on
//! every frame; the fallbacks take turns, one per frame, so that a frame with no code costs
//! about one rxing pass plus one fallback instead of the whole cascade (which costs 25-54 ms
//! on a 720p frame). A code held up to the camera stays in view for dozens of frames, so
//! every fallback still gets several tries at it.

use super::cascade::{Outcome, Read};
use super::gray::GrayFrame;
use super::guard::Attempt;
use super::stage::Stage;

/// Fallbacks for camera frames, in turn. The upscale stages never apply to a 720p frame.
pub const FRAME_FALLBACKS: [Stage; 6] = [
    Stage::RxingGlobal,
    Stage::RxingThreshold,
    Stage::Rqrr,
    Stage::RxingContrast,
    Stage::RqrrThreshold,
    Stage::RxingDownscaled,
];

/// Per-camera decoder state: which fallback's turn it is.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    primary: Stage,
    fallbacks: Vec<Stage>,
    next: usize,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(Stage::Rxing, FRAME_FALLBACKS.to_vec())
    }
}

impl FrameDecoder {
    pub fn new(primary: Stage, fallbacks: Vec<Stage>) -> Self {
        Self {
            primary,
            fallbacks,
            next: 0,
        }
    }

    /// Decodes one frame: the primary stage, then (if it read nothing) the next fallback in
    /// turn that applies to this frame size.
    pub fn decode(&mut self, frame: &GrayFrame) -> Outcome {
        let mut outcome = Outcome::default();
        if run(self.primary, frame, &mut outcome) {
            return outcome;
        }
        for _ in 0..self.fallbacks.len() {
            let stage = self.fallbacks[self.next % self.fallbacks.len()];
            self.next = (self.next + 1) % self.fallbacks.len();
            if stage.applies_to(frame) {
                run(stage, frame, &mut outcome);
                break;
            }
        }
        outcome
    }
}

/// Runs one stage into `outcome`; true when it read a code.
fn run(stage: Stage, frame: &GrayFrame, outcome: &mut Outcome) -> bool {
    outcome.tried.push(stage);
    match stage.run(frame) {
        Attempt::Found(text) => {
            outcome.read = Some(Read { text, stage });
            true
        }
        Attempt::NotFound => false,
        Attempt::Panicked(msg) => {
            outcome.panics.push((stage, msg));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::synth;

    #[test]
    fn fallbacks_take_turns_on_code_free_frames() {
        let frame = synth::blank(640, 480, 128);
        let mut d = FrameDecoder::default();
        let mut seen = Vec::new();
        for _ in 0..FRAME_FALLBACKS.len() {
            let o = d.decode(&frame);
            assert_eq!(o.read, None);
            assert_eq!(o.tried[0], Stage::Rxing);
            seen.extend(o.tried[1..].iter().copied());
        }
        // RxingDownscaled does not apply to 640x480, so its turn goes to the next one.
        assert!(seen.contains(&Stage::RxingGlobal) && seen.contains(&Stage::Rqrr));
        assert!(!seen.contains(&Stage::RxingDownscaled));
    }

    #[test]
    fn a_clear_code_is_read_by_the_primary_stage() {
        let code = synth::render_qr("PD1.test", 4).unwrap();
        let mut canvas = synth::blank(1280, 720, 200);
        synth::paste(&mut canvas, &code, 500, 200);
        let o = FrameDecoder::default().decode(&canvas);
        assert_eq!(
            o.read,
            Some(Read {
                text: "PD1.test".into(),
                stage: Stage::Rxing
            })
        );
    }
}
