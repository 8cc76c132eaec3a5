//! `passdesk keys create|list|revoke`: API keys. A new key is printed once and stored hashed.
//! `--reader` binds a key to readers: it then scans only as them.

use crate::context::Context;
use crate::output::print_json;
use anyhow::bail;
use passdesk_core::api_keys::{self, Role};
use passdesk_core::scan::ReaderId;
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
        /// Bind the key to this reader (repeat for several): it then scans only as them. Any
        /// role may be bound; unbound keys scan as any reader.
        #[arg(long = "reader", value_name = "READER_ID", value_parser = parse_reader)]
        readers: Vec<ReaderId>,
    },
    /// Every key, without secrets: role, bound readers, created, last used, revoked.
    List,
    /// Revoke a key by id (or by its full text).
    Revoke { key: String },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

fn parse_reader(s: &str) -> Result<ReaderId, String> {
    ReaderId::parse(s).map_err(|e| e.to_string())
}

pub fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let mut store = ctx.open_store()?;
    match cmd {
        Cmd::Create {
            role,
            name,
            readers,
        } => {
            let name = name.trim();
            if name.is_empty() || name.len() > 100 {
                bail!("--name must be 1 to 100 characters");
            }
            let (key, text) = store
                .write(|tx| api_keys::create_bound(tx, name, role, &readers, Timestamp::now()))?;
            print_json(&json!({
                "id": key.id, "name": key.name, "role": key.role, "readers": key.readers, "key": text.0,
            }))?;
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
