//! Image fixes tried when the decoders fail on the frame as it is. Each one is a plain
//! function from a frame to a new frame, linear in the number of pixels.

use super::gray::GrayFrame;

/// Light-on-dark codes (phone screens in dark mode) become dark-on-light.
pub fn invert(frame: &GrayFrame) -> GrayFrame {
    let mut out = frame.clone();
    for p in out.pixels_mut() {
        *p = 255 - *p;
    }
    out
}

/// Shrinks by an integer factor, each output pixel the mean of a `factor` x `factor` block.
/// Averaging (not skipping pixels) keeps thin modules grey instead of dropping them, and
/// smooths moiré. A factor of 0 or 1 returns a copy.
pub fn downscale(frame: &GrayFrame, factor: u32) -> GrayFrame {
    if factor <= 1 {
        return frame.clone();
    }
    let (w, h) = (frame.width() / factor, frame.height() / factor);
    if w == 0 || h == 0 {
        return frame.clone();
    }
    let src = frame.pixels();
    let stride = frame.width() as usize;
    let f = factor as usize;
    let area = (f * f) as u32;
    let mut sums = vec![0u32; w as usize];
    let mut out = Vec::with_capacity(w as usize * h as usize);
    for oy in 0..h as usize {
        sums.iter_mut().for_each(|s| *s = 0);
        for row in src[oy * f * stride..].chunks(stride).take(f) {
            for (ox, s) in sums.iter_mut().enumerate() {
                *s += row[ox * f..ox * f + f]
                    .iter()
                    .map(|&p| u32::from(p))
                    .sum::<u32>();
            }
        }
        out.extend(sums.iter().map(|&s| ((s + area / 2) / area) as u8));
    }
    GrayFrame::new(w, h, out).unwrap_or_else(|_| frame.clone())
}

/// The `w` x `h` window of `frame` at (x, y), clipped to the frame.
pub fn crop(frame: &GrayFrame, x: u32, y: u32, w: u32, h: u32) -> GrayFrame {
    let x = x.min(frame.width());
    let y = y.min(frame.height());
    let w = w.min(frame.width() - x);
    let h = h.min(frame.height() - y);
    let stride = frame.width() as usize;
    let mut out = Vec::with_capacity(w as usize * h as usize);
    for row in frame
        .pixels()
        .chunks(stride.max(1))
        .skip(y as usize)
        .take(h as usize)
    {
        out.extend_from_slice(&row[x as usize..(x + w) as usize]);
    }
    GrayFrame::new(w, h, out).unwrap_or_else(|_| GrayFrame::filled(0, 0, 0))
}

/// 3x3 mean filter (border pixels kept): takes the edge off JPEG blocking and sensor grain
/// in small photos, which otherwise break a module's run into several after enlarging.
pub fn box_blur(frame: &GrayFrame) -> GrayFrame {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let mut out = frame.clone();
    if w < 3 || h < 3 {
        return out;
    }
    let src = frame.pixels();
    let dst = out.pixels_mut();
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let mut sum = 0u32;
            for row in src[(y - 1) * w..(y + 2) * w].chunks(w) {
                sum += row[x - 1..x + 2].iter().map(|&p| u32::from(p)).sum::<u32>();
            }
            dst[y * w + x] = (sum / 9) as u8;
        }
    }
    out
}

/// The smallest integer factor that brings the longer side down to at most `max_side`.
pub fn factor_to_fit(frame: &GrayFrame, max_side: u32) -> u32 {
    let side = frame.width().max(frame.height());
    side.div_ceil(max_side.max(1)).max(1)
}

/// Enlarges by an integer factor with bilinear interpolation, so that modules of 1-3 pixels
/// become large enough for finder-pattern detection, with edges that still sit between pixels.
pub fn upscale(frame: &GrayFrame, factor: u32) -> GrayFrame {
    if factor <= 1 || frame.is_empty() {
        return frame.clone();
    }
    let (sw, sh) = (frame.width() as usize, frame.height() as usize);
    let (w, h) = (sw * factor as usize, sh * factor as usize);
    let src = frame.pixels();
    let mut out = Vec::with_capacity(w * h);
    let f = factor as f32;
    for y in 0..h {
        let fy = ((y as f32 + 0.5) / f - 0.5).max(0.0);
        let y0 = (fy as usize).min(sh - 1);
        let y1 = (y0 + 1).min(sh - 1);
        let ty = fy - y0 as f32;
        for x in 0..w {
            let fx = ((x as f32 + 0.5) / f - 0.5).max(0.0);
            let x0 = (fx as usize).min(sw - 1);
            let x1 = (x0 + 1).min(sw - 1);
            let tx = fx - x0 as f32;
            let p = |xx: usize, yy: usize| f32::from(src[yy * sw + xx]);
            let top = p(x0, y0) * (1.0 - tx) + p(x1, y0) * tx;
            let bottom = p(x0, y1) * (1.0 - tx) + p(x1, y1) * tx;
            out.push((top * (1.0 - ty) + bottom * ty + 0.5) as u8);
        }
    }
    GrayFrame::new(w as u32, h as u32, out).unwrap_or_else(|_| frame.clone())
}

/// Stretches the 1st..99th percentile of grey levels to 0..255: a washed-out or dark photo
/// gets full contrast. A flat frame is returned unchanged (nothing to stretch).
pub fn stretch_contrast(frame: &GrayFrame) -> GrayFrame {
    let mut hist = [0u32; 256];
    for &p in frame.pixels() {
        hist[p as usize] += 1;
    }
    let n = frame.pixels().len() as u64;
    let cut = n / 100;
    let mut acc = 0u64;
    let lo = (0..256).find(|&i| {
        acc += u64::from(hist[i]);
        acc > cut
    });
    acc = 0;
    let hi = (0..256).rev().find(|&i| {
        acc += u64::from(hist[i]);
        acc > cut
    });
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return frame.clone();
    };
    if hi <= lo + 8 {
        return frame.clone();
    }
    let span = (hi - lo) as f32;
    let lut: Vec<u8> = (0..256)
        .map(|i| ((i as f32 - lo as f32) * 255.0 / span).clamp(0.0, 255.0) as u8)
        .collect();
    let mut out = frame.clone();
    for p in out.pixels_mut() {
        *p = lut[*p as usize];
    }
    out
}

/// Local mean threshold: a pixel is black (0) when it is darker than the mean of the
/// `(2 * radius + 1)²` window around it minus `offset`, else white (255). Uneven light (a
/// shadow across the code, a glare spot) defeats one global threshold but not this. Uses an
/// integral image, so the cost does not depend on the radius.
pub fn adaptive_threshold(frame: &GrayFrame, radius: u32, offset: i32) -> GrayFrame {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    if w == 0 || h == 0 {
        return frame.clone();
    }
    let src = frame.pixels();
    // Integral image with a zero row and column in front: (w + 1) * (h + 1) sums. The sums
    // wrap on very large frames, but a window's sum (a difference of four) never exceeds
    // u32, and wrapping arithmetic gets differences right.
    let iw = w + 1;
    let mut integral = vec![0u32; iw * (h + 1)];
    for y in 0..h {
        let mut row_sum = 0u32;
        let (above, here) = integral.split_at_mut((y + 1) * iw);
        let above = &above[y * iw..];
        for x in 0..w {
            row_sum = row_sum.wrapping_add(u32::from(src[y * w + x]));
            here[x + 1] = above[x + 1].wrapping_add(row_sum);
        }
    }
    let r = radius as usize;
    let offset = offset.max(0) as u32;
    let mut out = vec![255u8; w * h];
    for (y, out_row) in out.chunks_mut(w).enumerate() {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        let top = &integral[y0 * iw..y0 * iw + iw];
        let bottom = &integral[y1 * iw..y1 * iw + iw];
        let row = &src[y * w..y * w + w];
        let rows = (y1 - y0) as u32;
        for (x, (o, &p)) in out_row.iter_mut().zip(row).enumerate() {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let sum = bottom[x1]
                .wrapping_add(top[x0])
                .wrapping_sub(top[x1])
                .wrapping_sub(bottom[x0]);
            let count = rows * (x1 - x0) as u32;
            // p < mean - offset, without a division per pixel. Fits in u32: (255 + offset)
            // times a window of at most a few hundred thousand pixels.
            if (u32::from(p) + offset).saturating_mul(count) < sum {
                *o = 0;
            }
        }
    }
    GrayFrame::new(w as u32, h as u32, out).unwrap_or_else(|_| frame.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(w: u32, h: u32, f: impl Fn(u32, u32) -> u8) -> GrayFrame {
        let data = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| f(x, y));
        GrayFrame::new(w, h, data.collect()).unwrap()
    }

    #[test]
    fn invert_flips_levels() {
        let f = frame(2, 1, |x, _| if x == 0 { 0 } else { 200 });
        assert_eq!(invert(&f).pixels(), &[255, 55]);
    }

    #[test]
    fn downscale_averages_blocks() {
        let f = frame(4, 2, |x, _| if x < 2 { 0 } else { 100 });
        let d = downscale(&f, 2);
        assert_eq!((d.width(), d.height()), (2, 1));
        assert_eq!(d.pixels(), &[0, 100]);
        assert_eq!(factor_to_fit(&frame(1809, 1932, |_, _| 0), 1000), 2);
        assert_eq!(factor_to_fit(&frame(640, 480, |_, _| 0), 1000), 1);
    }

    #[test]
    fn upscale_keeps_flat_areas_and_size() {
        let f = frame(3, 2, |_, _| 77);
        let u = upscale(&f, 3);
        assert_eq!((u.width(), u.height()), (9, 6));
        assert!(u.pixels().iter().all(|&p| p == 77));
    }

    #[test]
    fn crop_takes_a_window_and_clips() {
        let f = frame(4, 3, |x, y| (y * 10 + x) as u8);
        let c = crop(&f, 1, 1, 2, 5);
        assert_eq!((c.width(), c.height()), (2, 2));
        assert_eq!(c.pixels(), &[11, 12, 21, 22]);
        assert!(crop(&f, 9, 9, 2, 2).is_empty());
    }

    #[test]
    fn box_blur_averages_the_neighbourhood() {
        let f = frame(3, 3, |x, y| if (x, y) == (1, 1) { 90 } else { 0 });
        let b = box_blur(&f);
        assert_eq!(b.get(1, 1), 10);
        assert_eq!(box_blur(&frame(3, 3, |_, _| 8)).get(1, 1), 8);
        assert_eq!(b.get(0, 0), 0);
    }

    #[test]
    fn stretch_spreads_a_narrow_range() {
        let f = frame(100, 1, |x, _| 100 + (x % 50) as u8);
        let s = stretch_contrast(&f);
        assert!(s.pixels().iter().any(|&p| p < 10));
        assert!(s.pixels().iter().any(|&p| p > 245));
        let flat = frame(10, 10, |_, _| 9);
        assert_eq!(stretch_contrast(&flat), flat);
    }

    #[test]
    fn adaptive_threshold_follows_a_gradient() {
        // A dark dot on a bright-to-dark ramp: one global threshold loses it on one side.
        let f = frame(60, 20, |x, y| {
            let base = 250 - (x * 3) as u8;
            if (x % 20 == 10) && (y == 10) {
                base / 3
            } else {
                base
            }
        });
        let t = adaptive_threshold(&f, 4, 5);
        for x in [10, 30, 50] {
            assert_eq!(t.get(x, 10), 0, "dot at x={x}");
            assert_eq!(t.get(x, 2), 255, "background at x={x}");
        }
    }
}
