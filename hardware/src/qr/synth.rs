//! Synthetic frames for tests and benchmarks: rendered QR codes placed on a camera-sized
//! canvas, and frames with no QR code at all (noise, text, a 1D barcode, blank) that must
//! never produce a read. Deterministic: the same seed gives the same frame.

use super::gray::GrayFrame;
use rxing::qrcode::QRCodeWriter;
use rxing::{BarcodeFormat, EncodeHints, Writer};

/// A small deterministic generator (xorshift64*), so tests need no `rand` and repeat exactly.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * u64::from(n)) >> 32) as u32
    }
}

/// Renders `text` as a QR code (error correction M) with `module_px` pixels per module and a
/// four-module quiet zone, black on white. `None` if the text does not fit in a QR code.
pub fn render_qr(text: &str, module_px: u32) -> Option<GrayFrame> {
    render_qr_in(text, module_px, "UTF-8")
}

/// Like [`render_qr`], with the bytes of `text` in `charset` (e.g. "ISO-8859-1", the QR
/// default, which older generators use without saying so).
pub fn render_qr_in(text: &str, module_px: u32, charset: &str) -> Option<GrayFrame> {
    let hints = EncodeHints {
        ErrorCorrection: Some("M".into()),
        Margin: Some("0".into()),
        CharacterSet: Some(charset.into()),
        ..EncodeHints::default()
    };
    let matrix = QRCodeWriter
        .encode_with_hints(text, &BarcodeFormat::QR_CODE, 0, 0, &hints)
        .ok()?;
    let modules = matrix.getWidth();
    let m = module_px.max(1);
    let side = (modules + 8) * m;
    let mut frame = GrayFrame::filled(side, side, 255);
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = ((x / m).wrapping_sub(4), (y / m).wrapping_sub(4));
            if mx < modules && my < modules && matrix.get(mx, my) {
                frame.set(x, y, 0);
            }
        }
    }
    Some(frame)
}

/// Copies `src` onto `canvas` with its top-left corner at (x, y), clipped to the canvas.
pub fn paste(canvas: &mut GrayFrame, src: &GrayFrame, x: u32, y: u32) {
    for sy in 0..src.height() {
        let cy = y + sy;
        if cy >= canvas.height() {
            break;
        }
        for sx in 0..src.width() {
            let cx = x + sx;
            if cx >= canvas.width() {
                break;
            }
            canvas.set(cx, cy, src.get(sx, sy));
        }
    }
}

/// Roughly what a webcam makes of a printed or on-screen code: less contrast, light falling
/// off from one side, a little sensor noise.
pub fn camera_look(frame: &GrayFrame, rng: &mut Rng) -> GrayFrame {
    let mut out = frame.clone();
    let w = frame.width().max(1) as f32;
    for y in 0..frame.height() {
        for x in 0..frame.width() {
            let v = f32::from(frame.get(x, y));
            let light = 0.75 + 0.2 * (x as f32 / w);
            let noise = rng.below(17) as f32 - 8.0;
            out.set(
                x,
                y,
                (30.0 + v * 0.75 * light + noise).clamp(0.0, 255.0) as u8,
            );
        }
    }
    out
}

/// Uniform random grey levels: the worst case for finder-pattern searches.
pub fn noise(width: u32, height: u32, seed: u64) -> GrayFrame {
    let mut rng = Rng::new(seed);
    let data = (0..width as u64 * height as u64)
        .map(|_| rng.next_u64() as u8)
        .collect();
    GrayFrame::new(width, height, data).unwrap_or_else(|_| GrayFrame::filled(width, height, 0))
}

/// A frame of one grey level (a covered lens, an empty counter).
pub fn blank(width: u32, height: u32, level: u8) -> GrayFrame {
    GrayFrame::filled(width, height, level)
}

/// A 1D barcode: vertical bars of 1-4 units, as on a product or a paper ticket, on white.
pub fn barcode_1d(width: u32, height: u32, seed: u64) -> GrayFrame {
    let mut rng = Rng::new(seed);
    let mut frame = GrayFrame::filled(width, height, 250);
    let unit = 3;
    let (top, bottom) = (height / 4, height * 3 / 4);
    let mut x = width / 8;
    let mut black = true;
    while x < width * 7 / 8 {
        let w = unit * (1 + rng.below(4));
        if black {
            for xx in x..(x + w).min(width) {
                for y in top..bottom {
                    frame.set(xx, y, 20);
                }
            }
        }
        black = !black;
        x += w;
    }
    frame
}

/// Lines of text in a 5x7 pixel font scaled by `scale`: a receipt, a screen of words.
pub fn text(width: u32, height: u32, lines: &[&str], scale: u32) -> GrayFrame {
    let mut frame = GrayFrame::filled(width, height, 245);
    let s = scale.max(1);
    for (row, line) in lines.iter().enumerate() {
        let y0 = 10 + row as u32 * 9 * s;
        for (col, ch) in line.chars().enumerate() {
            let x0 = 10 + col as u32 * 6 * s;
            for (gy, bits) in glyph(ch).iter().enumerate() {
                for gx in 0..5u32 {
                    if bits & (0x10 >> gx) == 0 {
                        continue;
                    }
                    for dy in 0..s {
                        for dx in 0..s {
                            let (x, y) = (x0 + gx * s + dx, y0 + gy as u32 * s + dy);
                            if x < width && y < height {
                                frame.set(x, y, 15);
                            }
                        }
                    }
                }
            }
        }
    }
    frame
}

/// Rows of a 5x7 glyph, five low bits each, most significant bit on the left.
fn glyph(ch: char) -> [u8; 7] {
    match ch.to_ascii_uppercase() {
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        '.' => [0, 0, 0, 0, 0, 0x0C, 0x0C],
        ',' => [0, 0, 0, 0, 0x0C, 0x04, 0x08],
        ':' => [0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0],
        '-' => [0, 0, 0, 0x1F, 0, 0, 0],
        _ => [0; 7],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_qr_has_quiet_zone_and_modules() {
        let f = render_qr("PASSDESK", 3).unwrap();
        assert_eq!(f.width(), (21 + 8) * 3);
        assert_eq!(f.get(0, 0), 255);
        assert_eq!(f.get(12, 12), 0, "top-left finder pattern corner");
    }

    #[test]
    fn generators_are_deterministic() {
        assert_eq!(noise(40, 30, 7), noise(40, 30, 7));
        assert_ne!(noise(40, 30, 7), noise(40, 30, 8));
        assert_eq!(barcode_1d(200, 100, 1), barcode_1d(200, 100, 1));
        assert!(text(200, 40, &["HELLO 42"], 2).pixels().contains(&15));
    }
}
