//! `passdesk scan VALUE`: decide, record, print the decision. With `-` (or no value) it reads one
//! value per line from stdin, like a keyboard-wedge scanner, and prints one decision per line,
//! each only after its transaction is on disk.
//!
//! Exit status for a single value: 0 accepted, 3 rejected, 1 could not decide (nothing recorded).

use crate::context::Context;
use crate::output::{decision_line, print_json, Format};
use passdesk_core::reader::Direction;
use passdesk_core::scan::{Medium, ReaderId, ScanInput, MAX_VALUE_BYTES};
use passdesk_core::{checkin, Decision, Store, Timestamp};
use std::ffi::OsString;
use std::io::{BufRead, Read, Write};
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

    /// One value per line. A line longer than a pass value can be is cut (and rejected as
    /// malformed) so that a scanner stuck sending garbage cannot exhaust memory.
    fn scan_lines(&mut self, mut input: impl BufRead) -> anyhow::Result<()> {
        let limit = (MAX_VALUE_BYTES * 4) as u64;
        loop {
            let mut line = Vec::new();
            let n = (&mut input).take(limit).read_until(b'\n', &mut line)?;
            if n == 0 {
                return Ok(());
            }
            if !line.ends_with(b"\n") && n as u64 == limit {
                // Skip the rest of the over-long line.
                let mut rest = Vec::new();
                input.read_until(b'\n', &mut rest)?;
                line.extend_from_slice(&rest[..rest.len().min(16)]);
            }
            while matches!(line.last(), Some(b'\n' | b'\r')) {
                line.pop();
            }
            if line.is_empty() {
                continue;
            }
            self.scan(line)?;
        }
    }
}

#[cfg(unix)]
fn os_bytes(v: OsString) -> Vec<u8> {
    std::os::unix::ffi::OsStringExt::into_vec(v)
}

#[cfg(not(unix))]
fn os_bytes(v: OsString) -> Vec<u8> {
    v.to_string_lossy().into_owned().into_bytes()
}
