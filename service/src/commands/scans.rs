//! `passdesk scans list`: the audit log, newest first.

use crate::context::Context;
use crate::output::print_json;
use passdesk_core::scan_log::{self, ScanFilter};
use passdesk_core::{Timestamp, Verdict};
use serde_json::json;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    List {
        #[arg(long)]
        pass: Option<String>,
        #[arg(long)]
        reader: Option<String>,
        #[arg(long, value_parser = parse_verdict)]
        verdict: Option<Verdict>,
        /// Only scans at or after this RFC 3339 time.
        #[arg(long, value_parser = parse_time)]
        since: Option<Timestamp>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

fn parse_verdict(s: &str) -> Result<Verdict, String> {
    s.parse()
}

pub fn parse_time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse_rfc3339(s).map_err(|e| e.to_string())
}

pub fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let store = ctx.open_store()?;
    let Cmd::List {
        pass,
        reader,
        verdict,
        since,
        limit,
    } = cmd;
    let filter = ScanFilter {
        pass_id: pass,
        reader_id: reader,
        verdict,
        since,
        limit,
        ..ScanFilter::default()
    };
    let scans = scan_log::list(store.conn(), &filter)?;
    print_json(
        &json!({ "data": scans, "meta": { "totalCount": scan_log::count(store.conn())? } }),
    )?;
    Ok(ExitCode::SUCCESS)
}
