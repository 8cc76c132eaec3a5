//! `passdesk policy set|list`: how the passes of an event or a template are admitted.

use crate::commands::scans::parse_time;
use crate::context::Context;
use crate::output::print_json;
use anyhow::bail;
use passdesk_core::catalog;
use passdesk_core::policy::{CheckinPolicy, EntryMode, PolicyScope};
use passdesk_core::Timestamp;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Set (replace) the policy of one event or one template.
    Set {
        #[arg(
            long,
            conflicts_with = "template",
            required_unless_present = "template"
        )]
        event: Option<String>,
        #[arg(long)]
        template: Option<String>,
        /// single, multiple or entry_exit.
        #[arg(long, value_parser = parse_mode)]
        mode: EntryMode,
        /// For multiple / entry_exit: the most entries allowed.
        #[arg(long)]
        max_entries: Option<u32>,
        /// Repeated taps at the same reader within this many seconds return the first decision.
        #[arg(long, default_value_t = 10)]
        duplicate_window: u32,
        #[arg(long, value_parser = parse_time)]
        valid_from: Option<Timestamp>,
        #[arg(long, value_parser = parse_time)]
        valid_until: Option<Timestamp>,
        /// Only these readers may admit (repeat the flag); default: every reader.
        #[arg(long = "reader")]
        readers: Vec<String>,
    },
    List,
}

fn parse_mode(s: &str) -> Result<EntryMode, String> {
    s.parse()
}

pub fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let store = ctx.open_store()?;
    let conn = store.conn();
    match cmd {
        Cmd::Set {
            event,
            template,
            mode,
            max_entries,
            duplicate_window,
            valid_from,
            valid_until,
            readers,
        } => {
            let scope = match (event, template) {
                (Some(e), _) => {
                    if catalog::get_event(conn, &e)?.is_none() {
                        bail!("no event {e:?} (see the events in your import file)");
                    }
                    PolicyScope::Event(e)
                }
                (None, Some(t)) => {
                    if catalog::get_template(conn, &t)?.is_none() {
                        bail!("no template {t:?}");
                    }
                    PolicyScope::Template(t)
                }
                (None, None) => bail!("say --event ID or --template ID"),
            };
            if max_entries == Some(0) {
                bail!("--max-entries must be at least 1");
            }
            if let (Some(f), Some(u)) = (valid_from, valid_until) {
                if f > u {
                    bail!("--valid-from is after --valid-until");
                }
            }
            let policy = CheckinPolicy {
                scope,
                entry_mode: mode,
                max_entries,
                duplicate_window_ms: i64::from(duplicate_window) * 1000,
                valid_from,
                valid_until,
                allowed_readers: (!readers.is_empty()).then_some(readers),
            };
            catalog::set_policy(conn, &policy, Timestamp::now())?;
            print_json(&policy)?;
        }
        Cmd::List => print_json(&catalog::list_policies(conn)?)?,
    }
    Ok(ExitCode::SUCCESS)
}
