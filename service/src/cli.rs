//! The command line: one subcommand per file in `commands/`, each `Args` + `run`.

use crate::commands;
use crate::context::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "passdesk",
    version,
    about = "Wallet pass counter: offline check-in, loyalty, issuance"
)]
pub struct Cli {
    /// Where the database and keys live [default: the platform data dir, ~/.local/share/passdesk]
    #[arg(long, global = true, env = "PASSDESK_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database and this node's signing key (safe to run again).
    Init(commands::init::Args),
    /// Import passes, templates, events and readers from PassEntry-shaped JSON lines, all or nothing.
    Import(commands::import::Args),
    /// Decide on a scanned value (or on each line of stdin) and record it.
    Scan(commands::scan::Args),
    /// Look at the pass cache.
    #[command(subcommand)]
    Passes(commands::passes::Cmd),
    /// Look at the audit log of scans.
    #[command(subcommand)]
    Scans(commands::scans::Cmd),
    /// Check-in policies of events and templates.
    #[command(subcommand)]
    Policy(commands::policy::Cmd),
    /// Loyalty: programs, points, stamps, rewards, refunds.
    #[command(subcommand)]
    Loyalty(commands::loyalty::Cmd),
    /// Signed PD1 pass tokens.
    #[command(subcommand)]
    Token(commands::token::Cmd),
    /// Fill the database with a believable demo: a festival, a jazz night, a coffee shop.
    Demo(commands::demo::Args),
    /// Run the counter: the HTTP service, the readers and the camera.
    Serve(commands::serve::Args),
    /// API keys for the HTTP service.
    #[command(subcommand)]
    Keys(commands::keys::Cmd),
    /// Measure the scan path.
    #[command(subcommand)]
    Bench(commands::bench::Cmd),
    /// NFC wallet tools: decrypt an Apple VAS cryptogram, show a reader key's keyId.
    #[command(subcommand)]
    Nfc(commands::nfc::Cmd),
    /// Readers: the PC/SC readers (list, watch taps) and the configured ones (show, add, set).
    #[command(subcommand)]
    Readers(commands::readers::Cmd),
    /// Decode QR codes in image files.
    #[command(subcommand)]
    Qr(commands::qr::Cmd),
    /// Serial readers (VTAP, barcode scanners): list ports, watch reads.
    #[command(subcommand)]
    Serial(commands::serial::Cmd),
    /// Print the HTTP API's OpenAPI document (JSON).
    Openapi(commands::openapi::Args),
    /// The QR camera: list cameras, watch the codes one sees.
    #[command(subcommand)]
    Camera(commands::camera::Cmd),
    /// Copy the database to a file, consistently, even while the counter runs.
    Backup(commands::backup::Args),
    /// Replace the database with a backup (refused while a counter or command uses it).
    Restore(commands::restore::Args),
    /// Outbound webhooks: subscriptions, the delivery log, retry and test.
    #[command(subcommand)]
    Webhooks(commands::webhooks::Cmd),
    /// Sync with a hub: join it once, see the state, run a round now.
    #[command(subcommand)]
    Sync(commands::sync::Cmd),
    /// PassEntry as upstream ([upstream.passentry]): pull every pass now, push what waits,
    /// see the state.
    #[command(subcommand)]
    Upstream(commands::upstream::Cmd),
    /// The hub for several counters: serve its sync API, enroll counters, list nodes and
    /// conflicts, import passes (--database postgres://… or sqlite://PATH).
    #[command(subcommand)]
    Hub(commands::hub::Cmd),
    /// Wallet passes: a pass's signed .pkpass to a file, and whether [wallet] loads.
    #[command(subcommand)]
    Wallet(commands::wallet::Cmd),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let ctx = Context::new(cli.data_dir)?;
    match cli.command {
        Command::Init(a) => commands::init::run(&ctx, a),
        Command::Import(a) => commands::import::run(&ctx, a),
        Command::Scan(a) => commands::scan::run(&ctx, a),
        Command::Passes(c) => commands::passes::run(&ctx, c),
        Command::Scans(c) => commands::scans::run(&ctx, c),
        Command::Policy(c) => commands::policy::run(&ctx, c),
        Command::Loyalty(c) => commands::loyalty::run(&ctx, c),
        Command::Token(c) => commands::token::run(&ctx, c),
        Command::Demo(a) => commands::demo::run(&ctx, a),
        Command::Serve(a) => commands::serve::run(&ctx, a),
        Command::Keys(c) => commands::keys::run(&ctx, c),
        Command::Bench(c) => commands::bench::run(&ctx, c),
        Command::Nfc(c) => commands::nfc::run(&ctx, c),
        Command::Readers(c) => commands::readers::run(&ctx, c),
        Command::Qr(c) => commands::qr::run(&ctx, c),
        Command::Serial(c) => commands::serial::run(&ctx, c),
        Command::Openapi(a) => commands::openapi::run(&ctx, a),
        Command::Camera(c) => commands::camera::run(&ctx, c),
        Command::Backup(a) => commands::backup::run(&ctx, a),
        Command::Restore(a) => commands::restore::run(&ctx, a),
        Command::Webhooks(c) => commands::webhooks::run(&ctx, c),
        Command::Sync(c) => commands::sync::run(&ctx, c),
        Command::Upstream(c) => commands::upstream::run(&ctx, c),
        Command::Hub(c) => commands::hub::run(&ctx, c),
        Command::Wallet(c) => commands::wallet::run(&ctx, c),
    }
}
