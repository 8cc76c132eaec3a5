//! `passdesk qr decode FILE...`: runs the QR cascade on image files, one JSON line per file:
//! `{"file", "text" (or null), "ms", "decoder"}` or `{"file", "error", "ms"}`. A file that
//! cannot be read or decoded as an image is reported on its line and the others go on.
//!
//! Exit status: 0 when every file gave a code, 4 when some gave none or could not be read.

use crate::context::Context;
use crate::output::print_json;
use passdesk_hardware::qr::{Cascade, GrayFrame, Stage};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Some file had no readable code, or was not a readable image.
pub const EXIT_NOT_ALL_READ: u8 = 4;

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Decode the QR code in each image file (PNG or JPEG).
    Decode(DecodeArgs),
}

#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// Image files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Time budget per image: no new stage starts after it (a running one finishes).
    #[arg(long, default_value_t = 500, value_name = "MS")]
    pub budget_ms: u64,
}

pub fn run(_ctx: &Context, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let Cmd::Decode(args) = cmd;
    let cascade = Cascade::new(
        passdesk_hardware::qr::cascade::STILL_ORDER.to_vec(),
        Duration::from_millis(args.budget_ms),
    );
    let mut all_read = true;
    for file in &args.files {
        let started = Instant::now();
        let line = match GrayFrame::open(file) {
            Ok(frame) => {
                let outcome = cascade.decode(&frame);
                for (stage, msg) in &outcome.panics {
                    tracing::warn!(file = %file.display(), stage = stage.name(), panic = %msg, "QR decoder panicked");
                }
                all_read &= outcome.read.is_some();
                json!({
                    "file": file,
                    "text": outcome.read.as_ref().map(|r| r.text.as_str()),
                    "ms": ms(started),
                    "decoder": outcome.read.as_ref().map(|r| r.stage.name()),
                    "stagesTried": outcome.tried.iter().map(|s: &Stage| s.name()).collect::<Vec<_>>(),
                })
            }
            Err(e) => {
                all_read = false;
                json!({ "file": file, "error": e.to_string(), "ms": ms(started) })
            }
        };
        print_json(&line)?;
    }
    Ok(if all_read {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_NOT_ALL_READ)
    })
}

fn ms(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}
