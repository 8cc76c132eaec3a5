//! Frames without a QR code must never produce a read, whatever the stages make of them.

use passdesk_hardware::qr::stage::Effort;
use passdesk_hardware::qr::synth::{self, Rng};
use passdesk_hardware::qr::{Cascade, FrameDecoder, GrayFrame, Stage};
use std::time::Duration;

fn code_free_frames() -> Vec<(String, GrayFrame)> {
    let mut frames = Vec::new();
    for seed in 0..6 {
        frames.push((
            format!("noise 640x480 #{seed}"),
            synth::noise(640, 480, seed),
        ));
    }
    frames.push(("noise 1280x720".into(), synth::noise(1280, 720, 99)));
    frames.push(("noise 97x61".into(), synth::noise(97, 61, 5)));
    for level in [0, 128, 255] {
        frames.push((format!("blank {level}"), synth::blank(1280, 720, level)));
    }
    frames.push(("tiny blank".into(), synth::blank(3, 2, 0)));
    // Small frames get the enlarging stages too.
    frames.push(("small noise".into(), synth::noise(240, 240, 11)));
    frames.push(("small barcode".into(), synth::barcode_1d(300, 150, 12)));
    frames.push((
        "small text".into(),
        synth::text(300, 200, &["RECEIPT 42", "TOTAL 9.99"], 2),
    ));
    for seed in 0..4 {
        frames.push((
            format!("1d barcode #{seed}"),
            synth::barcode_1d(1280, 720, seed),
        ));
    }
    let lines = [
        "PASSDESK COUNTER 3",
        "TOTAL 12.50 EUR",
        "THANK YOU, SEE YOU SOON.",
        "0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    ];
    for scale in [1, 2, 4] {
        frames.push((
            format!("text x{scale}"),
            synth::text(1280, 720, &lines, scale),
        ));
    }
    // A checkerboard has the dark-light-dark rhythm finder-pattern searches look for.
    let mut board = synth::blank(640, 480, 255);
    for y in 0..480 {
        for x in 0..640 {
            if (x / 8 + y / 8) % 2 == 0 {
                board.set(x, y, 0);
            }
        }
    }
    frames.push(("checkerboard".into(), board));
    // A webcam-looking text frame.
    let mut rng = Rng::new(3);
    frames.push((
        "camera text".into(),
        synth::camera_look(&synth::text(640, 480, &lines, 3), &mut rng),
    ));
    frames
}

#[test]
fn no_stage_reads_anything_in_code_free_frames() {
    for (name, frame) in code_free_frames() {
        for stage in Stage::ALL {
            if !stage.applies_to(&frame) {
                continue;
            }
            for effort in [Effort::Thorough, Effort::Quick] {
                let attempt = stage.run(&frame, effort);
                assert!(
                    !matches!(attempt, passdesk_hardware::qr::guard::Attempt::Found(_)),
                    "{} ({effort:?}) read {attempt:?} in {name}",
                    stage.name()
                );
            }
        }
    }
}

#[test]
fn the_frame_decoder_reads_nothing_in_code_free_frames() {
    // No time limit: every fallback takes its turn on every frame, however slow the build.
    let mut decoder = FrameDecoder::new(
        Stage::Rxing,
        passdesk_hardware::qr::frame_decoder::FRAME_FALLBACKS.to_vec(),
        Duration::MAX / 4,
    );
    for (name, frame) in code_free_frames() {
        for _ in 0..passdesk_hardware::qr::frame_decoder::FRAME_FALLBACKS.len() {
            let o = decoder.decode(&frame);
            assert_eq!(o.read, None, "{name}");
            assert!(o.panics.is_empty(), "{name}: {:?}", o.panics);
        }
    }
    let cascade = Cascade::default();
    let (_, noise) = &code_free_frames()[0];
    assert_eq!(cascade.decode(noise).read, None);
}

#[test]
fn a_generated_code_on_a_720p_canvas_is_read() {
    let token = format!("PD1.{}.{}", "A".repeat(180), "b".repeat(86));
    let code = synth::render_qr(&token, 3).unwrap();
    let mut canvas = synth::text(1280, 720, &["NEXT PLEASE"], 3);
    synth::paste(&mut canvas, &code, 400, 100);
    let mut rng = Rng::new(1);
    let frame = synth::camera_look(&canvas, &mut rng);
    let mut decoder = FrameDecoder::default();
    let read = (0..6)
        .find_map(|_| decoder.decode(&frame).read)
        .expect("read");
    assert_eq!(read.text, token);
}
