//! What the camera sees, for the status screen: the latest decoded frame shrunk to at most
//! [`PREVIEW_MAX_WIDTH`] pixels wide (grey, as decoded), when it was taken, and the code read
//! in the last [`CODE_SHOWN_FOR`] with its outline scaled to the preview.
//!
//! The decode thread fills a one-slot [`PreviewSlot`]; a reader takes an `Arc` of the latest.
//! Cheap for the decode loop: one integer downscale per frame while someone asked for the
//! preview in the last [`WANTED_FOR`], else one every [`IDLE_EVERY`] frames (so a first
//! request finds a recent picture). JPEG encoding happens on request ([`Preview::to_jpeg`]).

use crate::qr::frame_source::Frame;
use crate::qr::gray::GrayFrame;
use crate::qr::preprocess::downscale;
use crate::qr::Outcome;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

/// The preview is at most this wide.
pub const PREVIEW_MAX_WIDTH: u32 = 640;
/// A code read this recently is shown on the preview.
pub const CODE_SHOWN_FOR: Duration = Duration::from_millis(1500);
/// After a request, every decoded frame makes a preview for this long.
pub const WANTED_FOR: Duration = Duration::from_secs(5);
/// Otherwise one frame in this many does.
pub const IDLE_EVERY: u64 = 30;

/// One preview picture.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// The frame, shrunk by an integer factor to at most [`PREVIEW_MAX_WIDTH`] wide.
    pub image: GrayFrame,
    /// When the frame was captured.
    pub at: SystemTime,
    /// The code read in the last [`CODE_SHOWN_FOR`], if any.
    pub code: Option<PreviewCode>,
}

/// A code on the preview.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewCode {
    pub text: String,
    /// The decoder's points (finder patterns or corners) in the preview's pixels; `None`
    /// when the stage that read it gives none.
    pub outline: Option<Vec<(f32, f32)>>,
    /// When the frame it was read in was captured.
    pub at: SystemTime,
}

impl Preview {
    /// The picture as a baseline JPEG; an encoder failure (or panic) is an error message.
    pub fn to_jpeg(&self, quality: u8) -> Result<Vec<u8>, String> {
        let image = &self.image;
        if image.is_empty() {
            return Err("the preview is empty".into());
        }
        let encode = || -> Result<Vec<u8>, String> {
            let mut out = Vec::with_capacity(image.pixels().len() / 8);
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
                .encode(
                    image.pixels(),
                    image.width(),
                    image.height(),
                    image::ExtendedColorType::L8,
                )
                .map_err(|e| e.to_string())?;
            Ok(out)
        };
        catch_unwind(AssertUnwindSafe(encode))
            .unwrap_or_else(|_| Err("the JPEG encoder panicked".into()))
    }
}

/// The one-slot hand-over from the decode thread to whoever shows the preview.
#[derive(Debug, Default)]
pub struct PreviewSlot {
    latest: Mutex<Option<Arc<Preview>>>,
    asked: Mutex<Option<Instant>>,
}

/// A poisoned lock only means a panic elsewhere; the data (an `Option`) is whole.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl PreviewSlot {
    /// The latest preview; asking makes the decode thread refresh it on every frame for the
    /// next [`WANTED_FOR`].
    pub fn get(&self) -> Option<Arc<Preview>> {
        *lock(&self.asked) = Some(Instant::now());
        lock(&self.latest).clone()
    }

    fn wanted(&self) -> bool {
        lock(&self.asked).is_some_and(|t| t.elapsed() < WANTED_FOR)
    }

    fn put(&self, preview: Preview) {
        *lock(&self.latest) = Some(Arc::new(preview));
    }
}

/// The decode thread's side: remembers the last read and fills the slot.
pub struct PreviewMaker {
    slot: Arc<PreviewSlot>,
    frames: u64,
    /// The last code read, its outline in the full frame's pixels, and when.
    last: Option<(PreviewCode, Instant)>,
}

impl PreviewMaker {
    pub fn new(slot: Arc<PreviewSlot>) -> Self {
        Self {
            slot,
            frames: 0,
            last: None,
        }
    }

    /// Called with every decoded frame and what the decoder made of it.
    pub fn observe(&mut self, frame: &Frame, outcome: &Outcome) {
        if let Some(read) = &outcome.read {
            let code = PreviewCode {
                text: read.text.clone(),
                outline: read.outline.clone(),
                at: frame.at,
            };
            self.last = Some((code, Instant::now()));
        }
        self.frames += 1;
        if !self.slot.wanted() && self.frames % IDLE_EVERY != 1 {
            return;
        }
        let full = &frame.image;
        let factor = full.width().div_ceil(PREVIEW_MAX_WIDTH).max(1);
        let image = downscale(full, factor);
        // `downscale` returns the frame as it is when it cannot shrink it.
        let scale = if image.width() == full.width() {
            1.0
        } else {
            1.0 / factor as f32
        };
        let code = self
            .last
            .as_ref()
            .filter(|(_, seen)| seen.elapsed() < CODE_SHOWN_FOR)
            .map(|(code, _)| PreviewCode {
                outline: code
                    .outline
                    .as_ref()
                    .map(|o| o.iter().map(|&(x, y)| (x * scale, y * scale)).collect()),
                ..code.clone()
            });
        self.slot.put(Preview {
            image,
            at: frame.at,
            code,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::{synth, FrameDecoder};

    fn frame(image: GrayFrame) -> Frame {
        Frame {
            image,
            at: SystemTime::now(),
            label: "frame 1".into(),
        }
    }

    #[test]
    fn a_read_is_outlined_on_the_shrunk_preview_and_encodes_as_jpeg() {
        let code = synth::render_qr("PD1.preview", 4).unwrap();
        let mut canvas = synth::blank(1280, 720, 200);
        synth::paste(&mut canvas, &code, 700, 300);
        let f = frame(canvas);
        let outcome = FrameDecoder::default().decode(&f.image);
        let slot = Arc::new(PreviewSlot::default());
        let mut maker = PreviewMaker::new(slot.clone());
        maker.observe(&f, &outcome);
        let p = slot.get().expect("the first frame makes a preview");
        assert_eq!((p.image.width(), p.image.height()), (640, 360));
        let c = p.code.as_ref().expect("the code");
        assert_eq!(c.text, "PD1.preview");
        let side = code.width() as f32 / 2.0;
        for &(x, y) in c.outline.as_ref().expect("an outline") {
            assert!((348.0..=352.0 + side).contains(&x), "{x}");
            assert!((148.0..=152.0 + side).contains(&y), "{y}");
        }
        let jpeg = p.to_jpeg(80).unwrap();
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
        let back = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (640, 360));
    }

    #[test]
    fn idle_previews_are_sparse_and_old_codes_fade() {
        let slot = Arc::new(PreviewSlot::default());
        let mut maker = PreviewMaker::new(slot.clone());
        let blank = frame(synth::blank(320, 240, 100));
        maker.observe(&blank, &Outcome::default());
        let first = lock(&slot.latest).clone().unwrap();
        assert_eq!(
            first.image.width(),
            320,
            "small frames are kept as they are"
        );
        // Nobody asked: the next frames leave the slot alone.
        let later = Frame {
            at: SystemTime::now() + Duration::from_secs(1),
            ..blank.clone()
        };
        maker.observe(&later, &Outcome::default());
        assert_eq!(lock(&slot.latest).as_ref().unwrap().at, first.at);
        // Asked: every frame.
        slot.get();
        maker.observe(&later, &Outcome::default());
        assert_eq!(lock(&slot.latest).as_ref().unwrap().at, later.at);
        // A read older than CODE_SHOWN_FOR is not shown.
        maker.last = Some((
            PreviewCode {
                text: "old".into(),
                outline: None,
                at: SystemTime::now(),
            },
            Instant::now() - CODE_SHOWN_FOR,
        ));
        maker.observe(&later, &Outcome::default());
        assert_eq!(slot.get().unwrap().code, None);
        assert!(Preview {
            image: GrayFrame::filled(0, 0, 0),
            at: SystemTime::now(),
            code: None
        }
        .to_jpeg(80)
        .is_err());
    }
}
