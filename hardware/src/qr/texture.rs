//! A cheap look at a frame before decoding it: is it pixel-scale noise? On such frames the
//! finder-pattern searches find thousands of candidates and cost several times a normal
//! frame, yet no camera frame that holds a readable code looks like that (a code's edges
//! are at least a module apart; sensor noise is a few grey levels).

use super::gray::GrayFrame;

/// Neighbouring pixels this far apart in grey level form a strong edge.
const STRONG_EDGE: u8 = 48;
/// Rows sampled, spread over the frame.
const SAMPLE_ROWS: u32 = 24;
/// Above this share of strong edges between horizontal neighbours, a frame is noise. Uniform
/// noise gives about 0.66; a sharp code of 2-pixel modules filling the whole frame about
/// 0.25; ordinary scenes a few hundredths.
const NOISE_EDGE_SHARE: f32 = 0.35;

/// The share of horizontally adjacent pixel pairs, on a sample of rows, that differ by a
/// strong edge.
pub fn strong_edge_share(frame: &GrayFrame) -> f32 {
    let (w, h) = (frame.width() as usize, frame.height());
    if w < 2 || h == 0 {
        return 0.0;
    }
    let step = (h / SAMPLE_ROWS).max(1);
    let (mut edges, mut pairs) = (0u32, 0u32);
    for y in (step / 2..h).step_by(step as usize) {
        let row = &frame.pixels()[y as usize * w..(y as usize + 1) * w];
        edges += row
            .windows(2)
            .filter(|p| p[0].abs_diff(p[1]) >= STRONG_EDGE)
            .count() as u32;
        pairs += (w - 1) as u32;
    }
    if pairs == 0 {
        0.0
    } else {
        edges as f32 / pairs as f32
    }
}

/// Whether the frame is pixel-scale noise (see the module comment).
pub fn looks_like_noise(frame: &GrayFrame) -> bool {
    strong_edge_share(frame) > NOISE_EDGE_SHARE
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::synth;

    #[test]
    fn noise_is_noise_and_codes_are_not() {
        assert!(looks_like_noise(&synth::noise(1280, 720, 1)));
        assert!(!looks_like_noise(&synth::blank(1280, 720, 9)));
        assert!(!looks_like_noise(&synth::text(
            1280,
            720,
            &["HELLO WORLD"],
            1
        )));
        // A code of 2-pixel modules filling the frame is still a code.
        let code = synth::render_qr(&"PD1.".repeat(60), 2).unwrap();
        assert!(!looks_like_noise(&code), "{}", strong_edge_share(&code));
        let mut rng = synth::Rng::new(4);
        let camera = synth::camera_look(&synth::blank(640, 480, 200), &mut rng);
        assert!(!looks_like_noise(&camera));
    }
}
