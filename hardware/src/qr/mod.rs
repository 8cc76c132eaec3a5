//! QR decoding for the camera pipeline: a cascade of decoders and image fixes that reads more
//! of the real-photo test set than any single decoder, QR codes only, no panics.
//!
//! - [`GrayFrame`]: the pixels every stage works on; [`FrameSource`]: where frames come from.
//! - [`Stage`]: one decoder (rxing or rqrr) on one version of the frame, panics caught.
//! - [`Cascade`]: all stages in turn on a still image, within a time budget.
//! - [`FrameDecoder`]: camera frames, primary stage on each, fallbacks taking turns.
//! - [`QrDeduper`]: per-frame reads to one [`crate::Scan`] per presentation.
//! - [`QrScanner`]: all of it together, a frame source in, scans out.
//!
//! Decode rate and cost are measured, not asserted in tests: `passdesk bench qr` (release
//! build) reports the decode rate on `shared/testdata/qr`, which stage read each image, and
//! CPU time per 1280x720 frame with and without a code in view.

pub mod cascade;
pub mod cpu_clock;
pub mod dedup;
pub mod error;
pub mod frame_decoder;
pub mod frame_source;
pub mod gray;
pub mod guard;
pub mod preprocess;
pub mod rqrr_engine;
pub mod rqrr_worker;
pub mod rxing_engine;
pub mod scanner;
pub mod stage;
pub mod synth;
pub mod texture;

pub use cascade::{Cascade, Outcome, Read};
pub use dedup::{DedupPolicy, QrDeduper};
pub use error::QrError;
pub use frame_decoder::FrameDecoder;
pub use frame_source::{Clocked, Frame, FrameSource, ImageFiles};
pub use gray::GrayFrame;
pub use scanner::QrScanner;
pub use stage::Stage;
