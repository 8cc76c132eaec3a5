//! Inputs that make a decoder spend seconds (rqrr on concentric rings) cannot stall the
//! cascade: rqrr is held to a deadline and, while an abandoned call runs on, skipped.
//! Own test binary: the "rqrr busy" state is per process.

use passdesk_hardware::qr::guard::Attempt;
use passdesk_hardware::qr::stage::Effort;
use passdesk_hardware::qr::{rqrr_worker, Cascade, FrameDecoder, GrayFrame, Stage};

/// Concentric rings, like moiré on a screen or a patterned shirt: quirc-style detectors see
/// a finder pattern in every ring.
fn rings(w: u32, h: u32, k: f32) -> GrayFrame {
    let mut f = GrayFrame::filled(w, h, 0);
    for y in 0..h {
        for x in 0..w {
            let v = ((x * x + y * y) as f32 / k).sin() * 120.0 + 128.0;
            f.set(x, y, v as u8);
        }
    }
    f
}

#[test]
fn rqrr_on_rings_is_abandoned_and_then_skipped() {
    let frame = rings(640, 360, 30.0);
    let attempt = Stage::Rqrr.run(&frame, Effort::Quick);
    assert!(
        matches!(attempt, Attempt::NotFound | Attempt::Panicked(_)),
        "{attempt:?}"
    );
    // The abandoned call runs for seconds; meanwhile rqrr stages skip at once.
    if rqrr_worker::busy() {
        assert_eq!(
            Stage::RqrrInverted.run(&frame, Effort::Thorough),
            Attempt::NotFound
        );
    }
    // The frame decoder and the still cascade come back with no read.
    let mut decoder = FrameDecoder::default();
    for _ in 0..8 {
        assert_eq!(decoder.decode(&frame).read, None);
    }
    let big = rings(1809, 1932, 97.0);
    let outcome = Cascade::default().decode(&big);
    assert_eq!(outcome.read, None);
}
