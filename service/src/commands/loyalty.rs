//! `passdesk loyalty ...`: programs, points, stamps, rewards, refunds, history, verification.
//!
//! Every mutation takes `--op-id UUID` (a fresh one when left out): sending the same command
//! with the same id again prints the first result and changes nothing. A refused operation
//! prints `{"error": {"code", "message"}}` and exits with status 4; nothing was changed.

use crate::context::Context;
use crate::output::print_json;
use anyhow::bail;
use passdesk_core::loyalty::{
    self, ledger, program, LoyaltyError, Operation, Program, RewardRef, RewardUnit, StampOverflow,
    Tier,
};
use passdesk_core::{pass_store, Timestamp};
use serde_json::json;
use std::process::ExitCode;

pub const EXIT_REFUSED: u8 = 4;

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// The loyalty program of a template.
    #[command(subcommand)]
    Program(ProgramCmd),
    /// Points for a purchase (--amount in minor units, through the program's rate) or given.
    Earn {
        pass: String,
        #[arg(
            long,
            conflicts_with = "points",
            required_unless_present = "points",
            allow_hyphen_values = true
        )]
        amount: Option<i64>,
        #[arg(long, allow_hyphen_values = true)]
        points: Option<i64>,
        #[command(flatten)]
        op: OpArgs,
    },
    /// Add stamps to the stamp card.
    Stamp {
        pass: String,
        #[arg(long, default_value_t = 1, allow_hyphen_values = true)]
        count: i64,
        #[command(flatten)]
        op: OpArgs,
    },
    /// A manual correction of the points, ± (cannot go below zero).
    Adjust {
        pass: String,
        #[arg(long, allow_hyphen_values = true)]
        points: i64,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        op: OpArgs,
    },
    /// Set the balance (PassEntry overrideBalance), recorded as an entry.
    Override {
        pass: String,
        #[arg(long, allow_hyphen_values = true)]
        balance: i64,
        #[command(flatten)]
        op: OpArgs,
    },
    /// Rewards: create (reserve a tier), redeem (once), delete (release).
    #[command(subcommand)]
    Reward(RewardCmd),
    /// Refund: compensate an earlier earn, stamp or adjust entry (may take the balance below zero).
    Reverse {
        entry_id: String,
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        op: OpArgs,
    },
    /// Balance, stamps, rewards of a pass.
    Show { pass: String },
    /// A pass's ledger, oldest first.
    History { pass: String },
    /// Recompute every balance from the ledger and report drift (exit status 5 if any).
    Verify,
}

#[derive(Debug, clap::Subcommand)]
pub enum ProgramCmd {
    /// Set (replace) a template's program.
    Set {
        template: String,
        /// Points per --unit-minor minor units spent.
        #[arg(long, default_value_t = 0)]
        points_per_unit: i64,
        /// The currency unit the rate counts in, in minor units (100: per pound / euro / dollar).
        #[arg(long, default_value_t = 100)]
        unit_minor: i64,
        #[arg(long)]
        card_size: Option<i64>,
        /// carry (extra stamps start the next card) or refuse.
        #[arg(long, default_value = "carry", value_parser = parse_overflow)]
        stamp_overflow: StampOverflow,
        /// NAME=THRESHOLD (points) or NAME=THRESHOLD:stamps; repeat for each tier.
        #[arg(long = "tier", value_parser = parse_tier)]
        tiers: Vec<Tier>,
        #[arg(long)]
        expiry_days: Option<i64>,
        #[arg(long)]
        offline_redemptions_per_day: Option<i64>,
    },
    Show {
        template: String,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum RewardCmd {
    Create {
        pass: String,
        #[arg(long)]
        tier: String,
        #[command(flatten)]
        op: OpArgs,
    },
    /// Redeem a created reward by id, or claim and redeem a tier at once with PASS --tier NAME.
    Redeem {
        /// A reward id, or a pass with --tier.
        target: String,
        #[arg(long)]
        tier: Option<String>,
        #[command(flatten)]
        op: OpArgs,
    },
    Delete {
        reward_id: String,
        #[command(flatten)]
        op: OpArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct OpArgs {
    /// The operation id (a UUID the client makes); the same id again is answered, not repeated.
    #[arg(long)]
    pub op_id: Option<String>,
}

fn parse_overflow(s: &str) -> Result<StampOverflow, String> {
    s.parse()
}

fn parse_tier(s: &str) -> Result<Tier, String> {
    let (name, rest) = s
        .rsplit_once('=')
        .ok_or("expected NAME=THRESHOLD or NAME=THRESHOLD:stamps")?;
    let (threshold, unit) = match rest.split_once(':') {
        Some((t, u)) => (t, u.parse::<RewardUnit>()?),
        None => (rest, RewardUnit::Points),
    };
    let threshold = threshold
        .trim()
        .parse::<i64>()
        .map_err(|e| format!("threshold {threshold:?}: {e}"))?;
    Ok(Tier {
        name: name.trim().to_owned(),
        threshold,
        unit,
    })
}

pub fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let (mut store, node) = ctx.open_with_node()?;
    let now = Timestamp::now();
    let (op, op_args) = match cmd {
        Cmd::Program(ProgramCmd::Set {
            template,
            points_per_unit,
            unit_minor,
            card_size,
            stamp_overflow,
            tiers,
            expiry_days,
            offline_redemptions_per_day,
        }) => {
            if passdesk_core::catalog::get_template(store.conn(), &template)?.is_none() {
                bail!("no template {template:?}");
            }
            let p = Program {
                template_id: template,
                points_per_unit,
                unit_minor,
                card_size,
                stamp_overflow,
                expiry_days,
                offline_redemptions_per_day,
                tiers,
            };
            let result = store.write(|tx| program::set_program(tx, &p, now));
            return finish(result.map(|()| json!(p)));
        }
        Cmd::Program(ProgramCmd::Show { template }) => {
            let Some(p) = program::get_program(store.conn(), &template)? else {
                bail!("template {template:?} has no loyalty program");
            };
            print_json(&p)?;
            return Ok(ExitCode::SUCCESS);
        }
        Cmd::Show { pass } => {
            let p = find(&store, &pass)?;
            let view = loyalty::view(store.conn(), &p.id, &p.template_id)?;
            print_json(&json!({ "passId": p.id, "loyalty": view }))?;
            return Ok(ExitCode::SUCCESS);
        }
        Cmd::History { pass } => {
            let p = find(&store, &pass)?;
            print_json(
                &json!({ "passId": p.id, "entries": ledger::history(store.conn(), &p.id)? }),
            )?;
            return Ok(ExitCode::SUCCESS);
        }
        Cmd::Verify => {
            let (checked, drift) = ledger::verify(store.conn())?;
            print_json(&json!({ "accountsChecked": checked, "drift": drift }))?;
            return Ok(if drift.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(5)
            });
        }
        Cmd::Earn {
            pass,
            amount,
            points,
            op,
        } => (
            Operation::Earn {
                pass,
                amount_minor: amount,
                points,
            },
            op,
        ),
        Cmd::Stamp { pass, count, op } => (Operation::Stamp { pass, count }, op),
        Cmd::Adjust {
            pass,
            points,
            reason,
            op,
        } => (
            Operation::Adjust {
                pass,
                points,
                reason,
            },
            op,
        ),
        Cmd::Override { pass, balance, op } => (Operation::Override { pass, balance }, op),
        Cmd::Reward(RewardCmd::Create { pass, tier, op }) => {
            (Operation::RewardCreate { pass, tier }, op)
        }
        Cmd::Reward(RewardCmd::Redeem { target, tier, op }) => {
            let reward = match tier {
                Some(tier) => RewardRef::Tier { pass: target, tier },
                None => RewardRef::Id(target),
            };
            (Operation::RewardRedeem { reward }, op)
        }
        Cmd::Reward(RewardCmd::Delete { reward_id, op }) => (
            Operation::RewardDelete {
                reward_id,
                pass: None,
            },
            op,
        ),
        Cmd::Reverse {
            entry_id,
            reason,
            op,
        } => (Operation::Reverse { entry_id, reason }, op),
    };
    let op_id = op_args
        .op_id
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    finish(loyalty::apply(&mut store, &node.node_id, &op_id, &op, now).map(|r| json!(r)))
}

fn find(
    store: &passdesk_core::Store,
    reference: &str,
) -> anyhow::Result<passdesk_core::pass::Pass> {
    match pass_store::find(store.conn(), reference)? {
        Some(found) => Ok(found.pass),
        None => bail!("no pass with id, extId, barcode or NFC value {reference:?}"),
    }
}

/// Prints the result, or the refusal as JSON (exit 4). Storage failures are errors (exit 1).
fn finish(result: Result<serde_json::Value, LoyaltyError>) -> anyhow::Result<ExitCode> {
    match result {
        Ok(v) => {
            print_json(&v)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(LoyaltyError::Store(e)) => Err(e.into()),
        Err(e) => {
            print_json(&json!({ "error": { "code": e.code(), "message": e.to_string() } }))?;
            eprintln!("refused: {e}");
            Ok(ExitCode::from(EXIT_REFUSED))
        }
    }
}
