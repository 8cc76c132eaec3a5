//! `passdesk init`: the database and this node's key pair. Idempotent.

use crate::context::Context;
use crate::output::print_json;
use serde_json::json;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(ctx: &Context, _args: Args) -> anyhow::Result<ExitCode> {
    let (_store, node, created) = ctx.init_store()?;
    print_json(&json!({
        "dataDir": ctx.data_dir(),
        "database": ctx.db_path(),
        "nodeId": node.node_id,
        "keyId": node.key.key_id(),
        "created": created,
    }))?;
    Ok(ExitCode::SUCCESS)
}
