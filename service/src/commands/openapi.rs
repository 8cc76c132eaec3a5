//! `passdesk openapi`: prints the HTTP API's OpenAPI document (the one `passdesk serve` serves
//! at `/api/v1/openapi.json`) without starting anything. The UI generates its TypeScript types
//! from it (`ui/scripts/gen-types.mjs`).

use crate::context::Context;
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_ctx: &Context, _args: Args) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, crate::server::openapi::api())?;
    writeln!(out)?;
    Ok(ExitCode::SUCCESS)
}
