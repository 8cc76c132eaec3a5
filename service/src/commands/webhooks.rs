//! `passdesk webhooks …`: webhook subscriptions and the delivery log, straight on the database
//! (what `/api/v1/webhook-subscriptions` and `/api/v1/webhook-deliveries` manage). A running
//! counter's delivery worker sends what these commands queue.
//!
//! Every result is JSON on stdout: one object, or one line per item for the lists. A
//! subscription's secret is printed by `add` and `rotate-secret` only.

use crate::context::Context;
use crate::output::print_json;
use anyhow::{bail, Context as _};
use passdesk_core::webhook::deliveries::{self, Delivery};
use passdesk_core::webhook::secret::Secret;
use passdesk_core::webhook::subscriptions::{
    self, Change, EventFilter, NewSubscription, Subscription, WebhookUrl,
};
use passdesk_core::webhook::{EventType, Format};
use passdesk_core::{Store, Timestamp};
use serde_json::{json, Value};
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Subscribe a URL to the counter's events; prints the subscription with its secretKey
    /// (shown this once).
    Add(AddArgs),
    /// Every subscription, one JSON line each, oldest first (no secrets).
    List,
    /// Delete a subscription and its delivery log.
    Remove {
        /// The subscription's id.
        id: String,
    },
    /// Turn a subscription on: its waiting deliveries are sent at once.
    Enable {
        /// The subscription's id.
        id: String,
    },
    /// Turn a subscription off: its deliveries wait until it is turned on again.
    Disable {
        /// The subscription's id.
        id: String,
    },
    /// Give a subscription a new secret (printed this once); the old one signs nothing from now
    /// on.
    RotateSecret {
        /// The subscription's id.
        id: String,
    },
    /// The delivery log, newest first, one JSON line per delivery.
    Deliveries(DeliveriesArgs),
    /// Send a delivery again (a failed or pending one; a delivered one never is).
    Retry {
        /// The delivery's id.
        delivery_id: String,
    },
    /// Queue the test event for a subscription, in its format.
    Test {
        /// The subscription's id.
        id: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Where the events are posted: an http or https URL.
    #[arg(value_parser = parse_url)]
    pub url: WebhookUrl,
    /// The body format: passentry, passcreator, skycore-xml, skycore-json or standard.
    #[arg(long, default_value = "passentry", value_parser = parse_format)]
    pub format: Format,
    /// The events it receives, comma-separated PassEntry names (passCreated, passUpdated,
    /// passVoided, passTapped or passScanned, passLoyaltyUpdated, passConflict); default: every
    /// event.
    #[arg(long, value_name = "EVENTS", value_delimiter = ',', value_parser = parse_event)]
    pub events: Vec<EventType>,
    /// The signing secret: `whsec_<base64>`, or 16 to 256 printable characters; default: a
    /// random one.
    #[arg(long, value_name = "SECRET")]
    pub secret: Option<String>,
    /// Made off: its deliveries wait until `passdesk webhooks enable`.
    #[arg(long)]
    pub disabled: bool,
}

#[derive(Debug, clap::Args)]
pub struct DeliveriesArgs {
    /// Only this subscription's deliveries.
    #[arg(long, value_name = "ID")]
    pub subscription: Option<String>,
    /// Only those given up after their last attempt (kept for `retry`).
    #[arg(long)]
    pub failed: bool,
    /// At most this many (the newest).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: u32,
}

fn parse_url(s: &str) -> Result<WebhookUrl, String> {
    WebhookUrl::parse(s)
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

fn parse_event(s: &str) -> Result<EventType, String> {
    EventType::parse_subscribed(s.trim())
}

pub fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<ExitCode> {
    match cmd {
        Cmd::Add(args) => add(ctx, args),
        Cmd::List => {
            let store = ctx.open_store()?;
            for sub in subscriptions::all(store.conn())? {
                print_json(&subscription_json(&sub, None))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Remove { id } => {
            let mut store = ctx.open_store()?;
            if !store.write(|tx| subscriptions::delete(tx, &id))? {
                return Err(no_subscription(&id));
            }
            print_json(&json!({ "id": id, "removed": true }))?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Enable { id } => switch(ctx, &id, true),
        Cmd::Disable { id } => switch(ctx, &id, false),
        Cmd::RotateSecret { id } => {
            let mut store = ctx.open_store()?;
            let rotated = store.write(|tx| -> anyhow::Result<_> {
                let Some(secret) = subscriptions::rotate_secret(tx, &id, Timestamp::now())? else {
                    return Ok(None);
                };
                Ok(subscriptions::get(tx, &id)?.map(|sub| (sub, secret)))
            })?;
            let (sub, secret) = rotated.ok_or_else(|| no_subscription(&id))?;
            print_json(&subscription_json(&sub, Some(&secret)))?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Deliveries(args) => list_deliveries(ctx, args),
        Cmd::Retry { delivery_id } => {
            let mut store = ctx.open_store()?;
            let delivery = store
                .write(|tx| deliveries::retry(tx, &delivery_id, Timestamp::now()))?
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "no webhook delivery {delivery_id:?} (`passdesk webhooks deliveries` lists them)"
                    )
                })?;
            if delivery.state == deliveries::State::Delivered {
                bail!(
                    "delivery {delivery_id:?} was answered with a 2xx already: it is never sent again"
                );
            }
            queued(&delivery)
        }
        Cmd::Test { id } => {
            let mut store = ctx.open_store()?;
            let delivery = store
                .write(|tx| deliveries::enqueue_test(tx, &id, Timestamp::now()))?
                .ok_or_else(|| no_subscription(&id))?;
            queued(&delivery)
        }
    }
}

fn add(ctx: &Context, args: AddArgs) -> anyhow::Result<ExitCode> {
    // Checked before the store is opened: bad input changes nothing.
    let secret = args
        .secret
        .as_deref()
        .map(Secret::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--secret: {e}"))?;
    let names: Vec<&str> = args.events.iter().map(|e| e.as_str()).collect();
    let events = EventFilter::parse(&names).map_err(|e| anyhow::anyhow!("--events: {e}"))?;
    let new = NewSubscription {
        url: args.url,
        format: args.format,
        events,
        enabled: !args.disabled,
        secret,
    };
    let mut store = ctx.open_store()?;
    let (sub, secret) = store.write(|tx| subscriptions::create(tx, new, Timestamp::now()))?;
    print_json(&subscription_json(&sub, Some(&secret)))?;
    Ok(ExitCode::SUCCESS)
}

fn switch(ctx: &Context, id: &str, enabled: bool) -> anyhow::Result<ExitCode> {
    let mut store = ctx.open_store()?;
    let change = Change {
        enabled: Some(enabled),
        ..Change::default()
    };
    let sub = store
        .write(|tx| subscriptions::update(tx, id, change, Timestamp::now()))?
        .ok_or_else(|| no_subscription(id))?;
    print_json(&subscription_json(&sub, None))?;
    Ok(ExitCode::SUCCESS)
}

fn list_deliveries(ctx: &Context, args: DeliveriesArgs) -> anyhow::Result<ExitCode> {
    let store = ctx.open_store()?;
    if let Some(id) = &args.subscription {
        known(&store, id)?;
    }
    let filter = deliveries::Filter {
        subscription_id: args.subscription,
        failed_only: args.failed,
    };
    let (found, _) = deliveries::page(store.conn(), &filter, 1, args.limit)
        .context("cannot read the delivery log")?;
    for d in &found {
        print_json(d)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints a delivery just queued and says who sends it.
fn queued(delivery: &Delivery) -> anyhow::Result<ExitCode> {
    print_json(delivery)?;
    eprintln!(
        "queued delivery {}: the running counter (passdesk serve) sends it",
        delivery.id
    );
    Ok(ExitCode::SUCCESS)
}

fn known(store: &Store, id: &str) -> anyhow::Result<()> {
    match subscriptions::get(store.conn(), id)? {
        Some(_) => Ok(()),
        None => Err(no_subscription(id)),
    }
}

fn no_subscription(id: &str) -> anyhow::Error {
    anyhow::anyhow!("no webhook subscription {id:?} (`passdesk webhooks list` lists them)")
}

/// A subscription as the CLI prints it: the stored fields, and `secretKey` when given.
fn subscription_json(sub: &Subscription, secret: Option<&Secret>) -> Value {
    let mut v = json!(sub);
    if let Some(secret) = secret {
        v["secretKey"] = json!(secret.expose());
    }
    v
}
