//! The camera pipeline's QR half, end to end: frames in, scans out. A [`FrameSource`] feeds
//! a [`FrameDecoder`]; a [`QrDeduper`] turns reads into one [`Scan`] per presentation. The
//! service runs one per camera on a blocking thread and forwards the scans to its pipeline.

use super::cascade::Outcome;
use super::dedup::QrDeduper;
use super::error::QrError;
use super::frame_decoder::FrameDecoder;
use super::frame_source::{Frame, FrameSource};
use crate::scan::Scan;

/// Called with every decoded frame and what the decoder made of it.
type Observer = Box<dyn FnMut(&Frame, &Outcome) + Send>;

/// Frames from `source` to scans. As an iterator it yields each new scan, and each frame
/// that could not be had (an error about that frame only), and ends with the source.
pub struct QrScanner<S> {
    source: S,
    decoder: FrameDecoder,
    deduper: QrDeduper,
    /// The label of the frame the last scan came from.
    last_label: String,
    frames: u64,
    observer: Option<Observer>,
}

impl<S: FrameSource> QrScanner<S> {
    pub fn new(source: S, decoder: FrameDecoder, deduper: QrDeduper) -> Self {
        Self {
            source,
            decoder,
            deduper,
            last_label: String::new(),
            frames: 0,
            observer: None,
        }
    }

    /// Calls `f` with every decoded frame and the decoder's outcome (the camera's preview).
    pub fn with_observer(mut self, f: impl FnMut(&Frame, &Outcome) + Send + 'static) -> Self {
        self.observer = Some(Box::new(f));
        self
    }

    /// The label of the frame the last scan was read in (a file name, a frame number).
    pub fn last_label(&self) -> &str {
        &self.last_label
    }

    /// Frames decoded so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }
}

impl<S: FrameSource> Iterator for QrScanner<S> {
    type Item = Result<Scan, QrError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let frame = match self.source.next_frame()? {
                Ok(frame) => frame,
                Err(e) => return Some(Err(e)),
            };
            self.frames += 1;
            let outcome = self.decoder.decode(&frame.image);
            for (stage, msg) in &outcome.panics {
                tracing::warn!(frame = %frame.label, stage = stage.name(), panic = %msg, "QR decoder panicked");
            }
            if let Some(observe) = self.observer.as_mut() {
                observe(&frame, &outcome);
            }
            let text = outcome.read.as_ref().map(|r| r.text.as_str());
            if let Some(scan) = self.deduper.observe(text, frame.at) {
                self.last_label = frame.label;
                return Some(Ok(scan));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::frame_source::Frame;
    use crate::qr::{synth, DedupPolicy, GrayFrame};
    use crate::scan::Medium;
    use std::time::{Duration, SystemTime};

    /// Frames 33 ms apart from a list (`None`: a frame that could not be captured).
    struct Scripted(std::vec::IntoIter<Option<GrayFrame>>, u64);

    impl FrameSource for Scripted {
        fn next_frame(&mut self) -> Option<Result<Frame, QrError>> {
            let image = self.0.next()?;
            self.1 += 1;
            let at = SystemTime::UNIX_EPOCH + Duration::from_millis(33 * self.1);
            Some(image.map_or_else(
                || {
                    Err(QrError::FrameSize {
                        width: 1,
                        height: 1,
                        expected: 1,
                        actual: 0,
                    })
                },
                |image| {
                    Ok(Frame {
                        image,
                        at,
                        label: format!("frame {}", self.1),
                    })
                },
            ))
        }
    }

    fn on_canvas(text: &str) -> GrayFrame {
        let mut canvas = synth::blank(640, 480, 220);
        synth::paste(&mut canvas, &synth::render_qr(text, 4).unwrap(), 150, 100);
        canvas
    }

    #[test]
    fn frames_become_one_scan_per_presentation() {
        let (a, b, empty) = (
            on_canvas("PD1.a"),
            on_canvas("PD1.b"),
            synth::blank(640, 480, 220),
        );
        let frames = vec![
            Some(a.clone()),
            Some(a.clone()),
            Some(empty.clone()),
            Some(a),
            None,
            Some(b.clone()),
            Some(b),
            Some(empty),
        ];
        let scanner = QrScanner::new(
            Scripted(frames.into_iter(), 0),
            FrameDecoder::default(),
            QrDeduper::new("cam-1", DedupPolicy::default()),
        );
        let items: Vec<_> = scanner.collect();
        assert_eq!(items.len(), 3, "{items:?}");
        let a = items[0].as_ref().unwrap();
        assert_eq!((a.value.as_slice(), a.medium), (&b"PD1.a"[..], Medium::Qr));
        assert_eq!(a.reader_id, "cam-1");
        assert!(items[1].is_err());
        assert_eq!(items[2].as_ref().unwrap().value, b"PD1.b");
    }
}
