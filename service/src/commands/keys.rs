//! `passdesk keys create|list|revoke`: API keys. A new key is printed once and stored hashed.

use crate::context::Context;
use crate::output::print_json;
use anyhow::bail;
use passdesk_core::api_keys::{self, Role};
use passdesk_core::Timestamp;
use serde_json::json;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Create a key; its text is shown this once.
    Create {
        /// reader (scans only), cashier (scans, loyalty), manager (issue, void, templates), admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        name: String,
    },
    /// Every key, without secrets.
    List,
    /// Revoke a key by id (or by its full text).
    Revoke { key: String },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

pub fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let store = ctx.open_store()?;
    match cmd {
        Cmd::Create { role, name } => {
            let name = name.trim();
            if name.is_empty() || name.len() > 100 {
                bail!("--name must be 1 to 100 characters");
            }
            let (key, text) = api_keys::create(store.conn(), name, role, Timestamp::now())?;
            print_json(
                &json!({ "id": key.id, "name": key.name, "role": key.role, "key": text.0 }),
            )?;
        }
        Cmd::List => print_json(&api_keys::list(store.conn())?)?,
        Cmd::Revoke { key } => {
            if !api_keys::revoke(store.conn(), &key, Timestamp::now())? {
                bail!("no live key {key:?}");
            }
            print_json(&json!({ "revoked": true }))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
