//! `passdesk scan VALUE`: decide, record, print the decision. With `-` (or no value) it reads one
//! value per line from stdin, like a keyboard-wedge scanner, and prints one decision per line,
//! each only after its transaction is on disk. A line longer than a value can be
//! ([`MAX_VALUE_BYTES`]) is skipped, reported on its own output line and recorded nowhere; it
//! is never held in memory whole (a scanner stuck sending garbage cannot exhaust it).
//!
//! Exit status for a single value: 0 accepted, 3 rejected, 1 could not decide (nothing recorded).

use crate::context::Context;
use crate::output::{decision_line, print_json, Format};
use passdesk_core::reader::Direction;
use passdesk_core::scan::{Medium, ReaderId, ScanInput, MAX_VALUE_BYTES};
use passdesk_core::{checkin, Decision, Store, Timestamp};
use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::process::ExitCode;

pub const EXIT_REJECTED: u8 = 3;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scanned value. `-` or nothing: read values from stdin, one per line.
    pub value: Option<OsString>,
    /// The reader the value came from.
    #[arg(long, default_value = "counter-1")]
    pub reader: String,
    /// How it was read.
    #[arg(long, default_value = "manual", value_parser = parse_medium)]
    pub medium: Medium,
    /// An exit scan (entry / exit policies); default: the reader's direction.
    #[arg(long)]
    pub exit: bool,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

fn parse_medium(s: &str) -> Result<Medium, String> {
    s.parse()
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let reader_id = ReaderId::parse(&args.reader)?;
    let (mut store, node) = ctx.open_with_node()?;
    let mut scanner = Scanner {
        store: &mut store,
        node_id: &node.node_id,
        reader_id,
        medium: args.medium,
        direction: args.exit.then_some(Direction::Exit),
        format: args.format,
    };
    match args.value {
        Some(v) if v != "-" => {
            let d = scanner.scan(os_bytes(v))?;
            Ok(if d.accepted() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_REJECTED)
            })
        }
        _ => {
            scanner.scan_lines(std::io::stdin().lock())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

struct Scanner<'a> {
    store: &'a mut Store,
    node_id: &'a str,
    reader_id: ReaderId,
    medium: Medium,
    direction: Option<Direction>,
    format: Format,
}

impl Scanner<'_> {
    fn scan(&mut self, value: Vec<u8>) -> anyhow::Result<Decision> {
        let input = ScanInput {
            value,
            reader_id: self.reader_id.clone(),
            medium: self.medium,
            direction: self.direction,
            at: Timestamp::now(),
        };
        let decision = checkin(self.store, self.node_id, &input)?;
        match self.format {
            Format::Json => print_json(&decision)?,
            Format::Text => {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{}", decision_line(&decision))?;
                out.flush()?;
            }
        }
        Ok(decision)
    }

    /// One value per line (LF or CR LF); an empty line is nothing.
    fn scan_lines(&mut self, mut input: impl BufRead) -> anyhow::Result<()> {
        let mut number = 0u64;
        while let Some(line) = next_line(&mut input, MAX_VALUE_BYTES)? {
            number += 1;
            match line {
                Line::Value(v) if v.is_empty() => {}
                Line::Value(v) => {
                    self.scan(v)?;
                }
                Line::TooLong { bytes } => self.skipped(number, bytes)?,
            }
        }
        Ok(())
    }

    fn skipped(&self, line: u64, bytes: u64) -> anyhow::Result<()> {
        let message = format!(
            "line {line} is {bytes} bytes long, over the {MAX_VALUE_BYTES}-byte limit of a value: skipped, nothing recorded"
        );
        tracing::warn!(line, bytes, "over-long line skipped");
        match self.format {
            Format::Json => print_json(
                &serde_json::json!({ "line": line, "error": { "code": "line_too_long", "message": message } }),
            ),
            Format::Text => {
                let mut out = std::io::stdout().lock();
                writeln!(out, "[SKIPPED] {message}")?;
                out.flush()?;
                Ok(())
            }
        }
    }
}

/// One line of input, without its LF or CR LF.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    Value(Vec<u8>),
    /// Longer than the limit: its bytes were counted, never kept.
    TooLong {
        bytes: u64,
    },
}

/// Reads the next line holding at most `max + 1` bytes of it (the +1: a CR before the LF) in
/// memory: the rest of an over-long line is consumed from the reader's buffer and counted.
/// `None` at the end of the input.
fn next_line(input: &mut impl BufRead, max: usize) -> std::io::Result<Option<Line>> {
    let mut kept = Vec::new();
    let mut bytes = 0u64;
    let mut any = false;
    loop {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            break;
        }
        any = true;
        let (chunk, ends) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], true),
            None => (buf, false),
        };
        let room = (max + 1).saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
        bytes += chunk.len() as u64;
        let used = chunk.len() + usize::from(ends);
        input.consume(used);
        if ends {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if kept.last() == Some(&b'\r') && bytes <= max as u64 + 1 {
        kept.pop();
        bytes -= 1;
    }
    Ok(Some(if bytes > max as u64 {
        Line::TooLong { bytes }
    } else {
        Line::Value(kept)
    }))
}

#[cfg(unix)]
fn os_bytes(v: OsString) -> Vec<u8> {
    std::os::unix::ffi::OsStringExt::into_vec(v)
}

#[cfg(not(unix))]
fn os_bytes(v: OsString) -> Vec<u8> {
    v.to_string_lossy().into_owned().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Read};

    fn lines(input: &[u8], max: usize) -> Vec<Line> {
        let mut r = BufReader::with_capacity(8, input);
        std::iter::from_fn(|| next_line(&mut r, max).unwrap()).collect()
    }

    #[test]
    fn lines_end_at_lf_or_crlf_and_over_long_ones_are_counted_not_kept() {
        assert_eq!(
            lines(b"AB\r\n\nCDE\n0123456789ab\nlast", 10),
            [
                Line::Value(b"AB".to_vec()),
                Line::Value(Vec::new()),
                Line::Value(b"CDE".to_vec()),
                Line::TooLong { bytes: 12 },
                Line::Value(b"last".to_vec()),
            ]
        );
        // The limit itself is a value, with or without its CR; one byte more is not.
        assert_eq!(
            lines(b"0123456789\r\n", 10),
            [Line::Value(b"0123456789".to_vec())]
        );
        assert_eq!(lines(b"0123456789A\r\n", 10), [Line::TooLong { bytes: 12 }]);
        assert_eq!(lines(b"", 10), []);
    }

    /// 64 MiB without a newline, then a value: read through an 8 KiB buffer, the long line is
    /// never held (the line kept is at most the limit + 1 bytes).
    #[test]
    fn an_endless_line_is_skipped_in_bounded_memory() {
        let endless = std::io::repeat(b'Z').take(64 << 20);
        let mut input = BufReader::new(endless.chain(&b"\nHLF-0001\n"[..]));
        assert_eq!(
            next_line(&mut input, MAX_VALUE_BYTES).unwrap(),
            Some(Line::TooLong { bytes: 64 << 20 })
        );
        match next_line(&mut input, MAX_VALUE_BYTES).unwrap() {
            Some(Line::Value(v)) => {
                assert_eq!(v, b"HLF-0001");
                assert!(v.capacity() <= MAX_VALUE_BYTES + 1);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(next_line(&mut input, MAX_VALUE_BYTES).unwrap(), None);
    }
}
