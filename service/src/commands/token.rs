//! `passdesk token issue|revoke`: PD1 tokens that any counter trusting this node can validate
//! offline.

use crate::commands::scans::parse_time;
use crate::context::Context;
use crate::output::print_json;
use anyhow::{bail, Context as _};
use passdesk_core::token::{self, TokenClaims};
use passdesk_core::{catalog, keys, pass_store, Timestamp};
use serde_json::json;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Print a signed token for a pass: one in the cache (its template, event and validity are
    /// used), or, with --template, a pass issued elsewhere that no counter has cached yet.
    Issue {
        pass_id: String,
        /// Template id, for a pass that is not in the cache.
        #[arg(long)]
        template: Option<String>,
        /// Event id, for a pass that is not in the cache.
        #[arg(long, requires = "template")]
        event: Option<String>,
        /// Override the pass's own start of validity.
        #[arg(long, value_parser = parse_time)]
        valid_from: Option<Timestamp>,
        /// Override the pass's own end of validity (default: expiresAt / validUntil).
        #[arg(long, value_parser = parse_time)]
        valid_until: Option<Timestamp>,
    },
    /// Revoke a token, given the token itself or its id (`tid`).
    Revoke {
        token: String,
        #[arg(long)]
        reason: Option<String>,
    },
}

pub fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let (store, node) = ctx.open_with_node()?;
    let conn = store.conn();
    match cmd {
        Cmd::Issue {
            pass_id,
            template,
            event,
            valid_from,
            valid_until,
        } => {
            let (tpl, evt, from, until) = match (pass_store::get_pass(conn, &pass_id)?, template) {
                (Some(_), Some(_)) => bail!("pass {pass_id:?} is in the cache: leave out --template and --event"),
                (Some(p), None) => {
                    let until = match (p.expires_at, p.valid_until) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    (p.template_id, p.event_id, p.valid_from, until)
                }
                (None, Some(t)) => {
                    if catalog::get_template(conn, &t)?.is_none() {
                        bail!("no template {t:?}");
                    }
                    if let Some(e) = event.as_deref() {
                        if catalog::get_event(conn, e)?.is_none() {
                            bail!("no event {e:?}");
                        }
                    }
                    (t, event, None, None)
                }
                (None, None) => bail!("no pass with id {pass_id:?} in the cache (give --template to sign for a pass issued elsewhere)"),
            };
            let secs = |t: Timestamp| t.unix_ms().div_euclid(1000);
            let claims = TokenClaims {
                tid: uuid::Uuid::now_v7().to_string(),
                pid: pass_id.clone(),
                tpl,
                evt,
                nbf: valid_from.or(from).map(secs),
                exp: valid_until.or(until).map(secs),
                iat: secs(Timestamp::now()),
                kid: String::new(),
            };
            let tid = claims.tid.clone();
            let token = node.key.sign(claims);
            print_json(
                &json!({ "passId": pass_id, "tokenId": tid, "keyId": node.key.key_id(), "token": token }),
            )?;
        }
        Cmd::Revoke {
            token: given,
            reason,
        } => {
            let (tid, pid) = if token::looks_like_token(&given) {
                let parsed = token::parse(&given).context("cannot read that token")?;
                (parsed.claims.tid, Some(parsed.claims.pid))
            } else {
                (given, None)
            };
            let newly = keys::revoke_token(
                conn,
                &tid,
                pid.as_deref(),
                reason.as_deref(),
                Timestamp::now(),
            )?;
            print_json(
                &json!({ "tokenId": tid, "passId": pid, "revoked": true, "alreadyRevoked": !newly }),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
