//! `passdesk wallet pkpass|check`: a pass's signed `.pkpass` from the command line (the same
//! file `/p/{token}/pass.pkpass` serves), and whether `[wallet]`'s certificates load.

use crate::config::Config;
use crate::context::Context;
use crate::output::print_json;
use crate::wallet::{inputs, Readiness, WalletState, Wallets};
use anyhow::{bail, Context as _};
use passdesk_core::wallet::apple_token;
use passdesk_core::{pass_store, Timestamp};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Write a pass's signed .pkpass (Apple Wallet) to a file.
    Pkpass {
        /// The pass: its id, extId, barcode or NFC value.
        pass: String,
        /// Where to write it [default: <pass id>.pkpass in the current directory].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Load [wallet] as `passdesk serve` does and print each wallet's state, as /status shows
    /// it; exits 1 when a configured wallet cannot be used.
    Check,
}

pub fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let config = Config::load(ctx.data_dir())?;
    let wallets = Wallets::load(&config);
    match cmd {
        Cmd::Check => {
            let status = wallets.status();
            let broken = [&status.apple, &status.google]
                .iter()
                .any(|line| line.state == WalletState::Broken);
            print_json(&json!({ "wallet": status }))?;
            Ok(if broken {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Cmd::Pkpass { pass, out } => {
            let apple = match &wallets.apple {
                Readiness::Ready(apple) => apple,
                _ => bail!("{}", wallets.status().apple.detail.unwrap_or_default()),
            };
            let store = ctx.open_store()?;
            let conn = store.conn();
            let Some(found) = pass_store::find(conn, &pass)? else {
                bail!("no pass with id, extId, barcode or NFC value {pass:?}");
            };
            let id = found.pass.id;
            let mut record = inputs::read(conn, &id)?
                .with_context(|| format!("the pass {id} went away while it was read"))?;
            // As the service does: the pass's token is made once, the first time it is needed.
            if apple.web_service_url.is_some() && record.token.is_none() {
                record.token = Some(apple_token::token_for(conn, &id, Timestamp::now())?);
            }
            let pkpass = apple
                .build(&record, Timestamp::now())
                .with_context(|| format!("the .pkpass of pass {id}"))?;
            let out = out.unwrap_or_else(|| PathBuf::from(format!("{id}.pkpass")));
            std::fs::write(&out, &pkpass)
                .with_context(|| format!("cannot write {}", out.display()))?;
            print_json(&json!({
                "passId": id,
                "file": out.display().to_string(),
                "bytes": pkpass.len(),
                "passTypeIdentifier": apple.identity.pass_type_id,
            }))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
