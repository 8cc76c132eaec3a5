//! Decoding a stream of camera frames within a per-frame budget. The primary stage runs on
//! every frame at quick effort; the fallbacks take turns, at most one per frame, so that a
//! frame with no code costs about one rxing pass plus one cheap fallback instead of the whole
//! cascade (25-54 ms on a 720p frame). A code held up to the camera stays in view for dozens
//! of frames, so every fallback still gets several tries at it.
//!
//! The budget is CPU time of the decoding thread (see [`super::cpu_clock`]), kept by
//! measurement, not by hope: a frame whose primary pass alone took
//! half the budget (noise, heavy clutter) gets no fallback, and a fallback whose measured
//! cost would overrun the budget waits; its estimate decays each time it waits, so it still
//! runs now and then (rarely enough not to move the 95th percentile).
//!
//! A frame that is pixel-scale noise ([`super::texture::looks_like_noise`]) costs the
//! finder-pattern search several times a normal frame: it gets one thorough rxing pass on a
//! half-size copy instead (averaging quiets the noise), and no fallback.

use super::cascade::{Outcome, Read};
use super::cpu_clock::CpuStopwatch;
use super::gray::GrayFrame;
use super::guard::Attempt;
use super::stage::{Effort, Stage};
use super::texture::looks_like_noise;
use std::time::Duration;

/// Fallbacks for camera frames, in turn: the ones that read codes the primary misses, at a
/// few milliseconds each on a 720p frame. The windows come often: a small code among text
/// is the commonest miss of the primary. (Contrast stretching read nothing extra on the
/// real-photo set, and rqrr on a threshold only what rxing on it reads too: stills only.)
pub const FRAME_FALLBACKS: [Stage; 9] = [
    Stage::RxingTileRow(0),
    Stage::RxingInverted,
    Stage::RxingTileRow(1),
    Stage::RxingGlobal,
    Stage::RxingTileRow(2),
    Stage::RxingJava,
    Stage::RxingDownscaled,
    Stage::Rqrr,
    Stage::RxingThreshold,
];

/// Default time per frame for decoding: the 10 ms p95 target less room for a busy machine
/// (a stage is never interrupted, so its cost can exceed its estimate).
pub const FRAME_BUDGET: Duration = Duration::from_millis(6);

/// Per-camera decoder state: whose turn it is and what each fallback has been costing.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    primary: Stage,
    fallbacks: Vec<Stage>,
    /// Estimated cost of each fallback (same index), from its recent runs.
    estimates: Vec<Duration>,
    next: usize,
    budget: Duration,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(Stage::Rxing, FRAME_FALLBACKS.to_vec(), FRAME_BUDGET)
    }
}

impl FrameDecoder {
    pub fn new(primary: Stage, fallbacks: Vec<Stage>, budget: Duration) -> Self {
        Self {
            primary,
            estimates: vec![Duration::ZERO; fallbacks.len()],
            fallbacks,
            next: 0,
            budget,
        }
    }

    /// Decodes one frame: the primary stage, then (if it read nothing and time allows) the
    /// next fallback in turn that applies to this frame size.
    pub fn decode(&mut self, frame: &GrayFrame) -> Outcome {
        let started = CpuStopwatch::start();
        let mut outcome = Outcome::default();
        if looks_like_noise(frame) {
            if Stage::RxingDownscaled.applies_to(frame) {
                run(Stage::RxingDownscaled, frame, &mut outcome);
            }
            return outcome;
        }
        if run(self.primary, frame, &mut outcome) || self.fallbacks.is_empty() {
            return outcome;
        }
        let spent = started.elapsed();
        if spent > self.budget / 2 {
            outcome.out_of_time = true;
            return outcome;
        }
        for _ in 0..self.fallbacks.len() {
            let i = self.next;
            self.next = (self.next + 1) % self.fallbacks.len();
            let stage = self.fallbacks[i];
            if !stage.applies_to(frame) {
                continue;
            }
            if spent + self.estimates[i] > self.budget {
                // Too dear for now: let the estimate decay so the stage is retried later.
                self.estimates[i] = self.estimates[i] * 7 / 8;
                outcome.out_of_time = true;
                continue;
            }
            let t = CpuStopwatch::start();
            run(stage, frame, &mut outcome);
            let cost = t.elapsed();
            // Moving average, but a sudden expensive run counts at once.
            self.estimates[i] = cost.max((self.estimates[i] + cost) / 2);
            break;
        }
        outcome
    }
}

/// Runs one stage into `outcome` at quick effort; true when it read a code.
fn run(stage: Stage, frame: &GrayFrame, outcome: &mut Outcome) -> bool {
    outcome.tried.push(stage);
    match stage.locate(frame, Effort::Quick) {
        Attempt::Found(found) => {
            outcome.read = Some(Read {
                text: found.text,
                stage,
                outline: found.outline,
            });
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

    fn unbudgeted() -> FrameDecoder {
        FrameDecoder::new(Stage::Rxing, FRAME_FALLBACKS.to_vec(), Duration::MAX / 4)
    }

    #[test]
    fn fallbacks_take_turns_on_code_free_frames() {
        let frame = synth::blank(640, 480, 128);
        let mut d = unbudgeted();
        let mut seen = Vec::new();
        for _ in 0..FRAME_FALLBACKS.len() {
            let o = d.decode(&frame);
            assert_eq!(o.read, None);
            assert_eq!(o.tried[0], Stage::Rxing);
            assert_eq!(o.tried.len(), 2, "{:?}", o.tried);
            seen.extend(o.tried[1..].iter().copied());
        }
        // RxingDownscaled does not apply to 640x480, so its turn goes to the next one.
        assert!(seen.contains(&Stage::RxingInverted) && seen.contains(&Stage::Rqrr));
        assert!(!seen.contains(&Stage::RxingDownscaled));
    }

    #[test]
    fn no_time_no_fallback() {
        let frame = synth::blank(640, 480, 128);
        let mut d = FrameDecoder::new(Stage::Rxing, FRAME_FALLBACKS.to_vec(), Duration::ZERO);
        let o = d.decode(&frame);
        assert_eq!(o.tried, vec![Stage::Rxing]);
        assert!(o.out_of_time);
    }

    #[test]
    fn a_clear_code_is_read_by_the_primary_stage() {
        let code = synth::render_qr("PD1.test", 4).unwrap();
        let mut canvas = synth::blank(1280, 720, 200);
        synth::paste(&mut canvas, &code, 500, 200);
        let o = FrameDecoder::default().decode(&canvas);
        let read = o.read.expect("read");
        assert_eq!((read.text.as_str(), read.stage), ("PD1.test", Stage::Rxing));
    }

    /// Every outline point lies on the pasted code (its quiet zone included, a few pixels
    /// of slack), and the points spread over it: finder patterns sit near three corners.
    fn assert_outline_on(read: &Read, (x, y, side): (f32, f32, f32)) {
        let points = read.outline.as_ref().expect("an outline");
        assert!(points.len() >= 3, "{points:?}");
        for &(px, py) in points {
            assert!(
                (x - 4.0..=x + side + 4.0).contains(&px)
                    && (y - 4.0..=y + side + 4.0).contains(&py),
                "{px},{py} outside the code at {x},{y} side {side}: {points:?}"
            );
        }
        let xs = points.iter().map(|p| p.0);
        let spread = xs.clone().fold(f32::MIN, f32::max) - xs.fold(f32::MAX, f32::min);
        assert!(spread > side / 3.0, "{points:?}");
    }

    #[test]
    fn the_primary_stage_outlines_the_code_where_it_is() {
        let code = synth::render_qr("PD1.where", 4).unwrap();
        let mut canvas = synth::blank(1280, 720, 200);
        synth::paste(&mut canvas, &code, 700, 300);
        let read = FrameDecoder::default().decode(&canvas).read.expect("read");
        assert_eq!(read.stage, Stage::Rxing);
        assert_outline_on(&read, (700.0, 300.0, code.width() as f32));
    }

    #[test]
    fn downscaled_and_windowed_stages_map_the_outline_back() {
        let code = synth::render_qr("PD1.scaled", 8).unwrap();
        let mut canvas = synth::blank(2600, 1800, 200);
        synth::paste(&mut canvas, &code, 1500, 900);
        let square = (1500.0, 900.0, code.width() as f32);
        for stage in [
            Stage::RxingDownscaled,
            Stage::RxingTileRow(2),
            Stage::RxingTiles,
        ] {
            assert!(stage.applies_to(&canvas));
            let found = match stage.locate(&canvas, Effort::Quick) {
                crate::qr::guard::Attempt::Found(f) => f,
                other => panic!("{} read nothing: {other:?}", stage.name()),
            };
            let read = Read {
                text: found.text,
                stage,
                outline: found.outline,
            };
            assert_eq!(read.text, "PD1.scaled");
            assert_outline_on(&read, square);
        }
    }

    #[test]
    fn rqrr_reads_carry_no_outline() {
        let code = synth::render_qr("PD1.rqrr", 4).unwrap();
        let mut canvas = synth::blank(640, 480, 220);
        synth::paste(&mut canvas, &code, 100, 100);
        match Stage::Rqrr.locate(&canvas, Effort::Thorough) {
            crate::qr::guard::Attempt::Found(f) => assert_eq!(f.outline, None),
            other => panic!("rqrr read nothing: {other:?}"),
        }
    }

    #[test]
    fn a_dark_mode_code_is_read_by_a_fallback() {
        let code = crate::qr::preprocess::invert(&synth::render_qr("PD1.dark", 4).unwrap());
        let mut canvas = synth::blank(1280, 720, 30);
        synth::paste(&mut canvas, &code, 100, 100);
        let mut d = unbudgeted();
        let read = (0..FRAME_FALLBACKS.len())
            .find_map(|_| d.decode(&canvas).read)
            .expect("read");
        assert_eq!(read.text, "PD1.dark");
        assert_ne!(read.stage, Stage::Rxing);
    }
}
