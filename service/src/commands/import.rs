//! `passdesk import FILE`: PassEntry-shaped JSON lines, one transaction, all or nothing.

use crate::context::Context;
use crate::output::print_json;
use anyhow::Context as _;
use passdesk_core::import::{import_lines, MAX_LINE_BYTES};
use passdesk_core::Timestamp;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A .jsonl file; `-` reads stdin.
    pub file: PathBuf,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let mut store = ctx.open_store()?;
    let input: Box<dyn Read> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(&args.file)
                .with_context(|| format!("cannot open {}", args.file.display()))?,
        )
    };
    let summary = import_lines(
        &mut store,
        bounded_lines(BufReader::new(input)),
        Timestamp::now(),
    )
    .with_context(|| {
        format!(
            "import of {} failed, database unchanged",
            args.file.display()
        )
    })?;
    print_json(&summary)?;
    Ok(ExitCode::SUCCESS)
}

/// Lines of at most [`MAX_LINE_BYTES`] (so a file without newlines cannot eat the memory),
/// each checked to be UTF-8.
pub(crate) fn bounded_lines(
    mut reader: impl BufRead,
) -> impl Iterator<Item = Result<String, String>> {
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut buf = Vec::new();
        let limit = MAX_LINE_BYTES as u64 + 1;
        match (&mut reader).take(limit).read_until(b'\n', &mut buf) {
            Ok(0) => None,
            Ok(_) if buf.len() as u64 >= limit && !buf.ends_with(b"\n") => {
                done = true;
                Some(Err(format!("line longer than {MAX_LINE_BYTES} bytes")))
            }
            Ok(_) => {
                while matches!(buf.last(), Some(b'\n' | b'\r')) {
                    buf.pop();
                }
                Some(String::from_utf8(buf).map_err(|e| {
                    format!(
                        "not UTF-8 text (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    )
                }))
            }
            Err(e) => {
                done = true;
                Some(Err(e.to_string()))
            }
        }
    })
}
