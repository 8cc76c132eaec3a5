//! QR decoding for the camera pipeline: a cascade of decoders and image fixes that reads more
//! of the real-photo test set than any single decoder, QR codes only.

pub mod error;
pub mod gray;
pub mod guard;
pub mod preprocess;
pub mod rqrr_engine;
pub mod rxing_engine;
pub mod stage;
pub mod synth;

pub use error::QrError;
pub use gray::GrayFrame;
pub use stage::Stage;
