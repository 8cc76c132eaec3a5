//! `passdesk passes list|show`: the pass cache, in PassEntry's JSON:API shape.

use crate::context::Context;
use crate::output::print_json;
use anyhow::bail;
use passdesk_core::pass::{Pass, PassStatus};
use passdesk_core::pass_store::{self, PassFilter};
use passdesk_core::rusqlite::Connection;
use passdesk_core::{catalog, passentry};
use serde_json::{json, Value};
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Passes, newest first.
    List {
        #[arg(long, value_parser = parse_status)]
        status: Option<PassStatus>,
        /// Template id (passTemplateUuid).
        #[arg(long)]
        template: Option<String>,
        /// Event id (eventUuid).
        #[arg(long)]
        event: Option<String>,
        #[arg(long)]
        group_tag: Option<String>,
        /// Part of a holder name, extId, barcode or NFC value.
        #[arg(long)]
        search: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// One pass, by id, extId, barcode or NFC value.
    Show { pass: String },
}

fn parse_status(s: &str) -> Result<PassStatus, String> {
    s.parse()
        .map_err(|e: passdesk_core::pass::UnknownPassStatus| e.to_string())
}

pub fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let store = ctx.open_store()?;
    let conn = store.conn();
    match cmd {
        Cmd::List {
            status,
            template,
            event,
            group_tag,
            search,
            limit,
            offset,
        } => {
            let filter = PassFilter {
                status,
                template_id: template,
                event_id: event,
                group_tag,
                text: search,
                limit,
                offset,
                ..Default::default()
            };
            let passes = pass_store::list_passes(conn, &filter)?;
            let data = passes
                .iter()
                .map(|p| resource(conn, p))
                .collect::<anyhow::Result<Vec<_>>>()?;
            print_json(&json!({
                "data": data,
                "meta": { "totalCount": pass_store::count_passes(conn)?, "resultsPerPage": limit, "offset": offset },
            }))?;
        }
        Cmd::Show { pass } => {
            let Some(p) = pass_store::find(conn, &pass)?.map(|found| found.pass) else {
                bail!("no pass with id, extId, barcode or NFC value {pass:?}");
            };
            print_json(&json!({ "data": resource(conn, &p)? }))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn resource(conn: &Connection, p: &Pass) -> anyhow::Result<Value> {
    let template = catalog::get_template(conn, &p.template_id)?.map(|t| t.name);
    let event = match &p.event_id {
        Some(id) => catalog::get_event(conn, id)?.map(|e| e.name),
        None => None,
    };
    Ok(passentry::pass_resource(
        p,
        template.as_deref(),
        event.as_deref(),
    ))
}
