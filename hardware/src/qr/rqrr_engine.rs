//! The second decoder: rqrr (a port of quirc). Different finder-pattern search and sampling
//! from ZXing's, so it reads some photos rxing misses. Never given more than
//! [`MAX_RQRR_SIDE`] pixels a side: on a large photo with moiré it can run for many seconds.

use super::gray::GrayFrame;

/// Longest side rqrr is allowed to see; larger frames are shrunk first by the caller.
pub const MAX_RQRR_SIDE: u32 = 1280;

/// Decodes the first readable grid of a grey frame (rqrr thresholds it itself).
pub fn decode_gray(frame: &GrayFrame) -> Option<String> {
    if !fits(frame) {
        return None;
    }
    let w = frame.width() as usize;
    let px = frame.pixels();
    let mut img =
        rqrr::PreparedImage::prepare_from_greyscale(w, frame.height() as usize, |x, y| {
            px[y * w + x]
        });
    first_text(img.detect_grids())
}

/// Decodes the first readable grid of an already black-and-white frame (0 = black).
pub fn decode_binary(frame: &GrayFrame) -> Option<String> {
    if !fits(frame) {
        return None;
    }
    let w = frame.width() as usize;
    let px = frame.pixels();
    let mut img = rqrr::PreparedImage::prepare_from_bitmap(w, frame.height() as usize, |x, y| {
        px[y * w + x] < 128
    });
    first_text(img.detect_grids())
}

fn fits(frame: &GrayFrame) -> bool {
    frame.width() >= 21
        && frame.height() >= 21
        && frame.width() <= MAX_RQRR_SIDE
        && frame.height() <= MAX_RQRR_SIDE
}

fn first_text<G: rqrr::BitGrid>(grids: Vec<rqrr::Grid<G>>) -> Option<String> {
    grids.into_iter().find_map(|grid| {
        let mut bytes = Vec::new();
        // `decode()` insists on UTF-8 and so fails on Latin-1 payloads; take the bytes.
        grid.decode_to(&mut bytes).ok()?;
        Some(transcode(bytes))
    })
}

/// QR byte mode has no declared charset unless an ECI says so; ISO-8859-1 is the standard's
/// default, but almost every code in the wild carries UTF-8. Valid UTF-8 wins, else Latin-1.
pub fn transcode(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => e.into_bytes().iter().map(|&b| char::from(b)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_and_utf8_payloads_read_back() {
        for charset in ["ISO-8859-1", "UTF-8"] {
            let code = crate::qr::synth::render_qr_in("Grüße, café", 4, charset).unwrap();
            assert_eq!(
                decode_gray(&code).as_deref(),
                Some("Grüße, café"),
                "{charset}"
            );
        }
    }

    #[test]
    fn transcode_prefers_utf8_then_latin1() {
        assert_eq!(transcode("grüß".as_bytes().to_vec()), "grüß");
        assert_eq!(transcode(vec![b'g', 0xFC, b'n']), "gün");
    }
}
