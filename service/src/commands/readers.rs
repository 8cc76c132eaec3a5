//! `passdesk readers list|watch`: the PC/SC readers pcscd sees, and what is tapped on them.
//! `passdesk readers show|add|set`: the configured readers and their permissions (what
//! `/api/v1/readers` manages). A reader first named by a scan only scans until enabled here.
//!
//! `watch` prints one JSON object per event (reader added or removed, a scan, a failed tap with
//! the words to show the customer, a failed init command) until `--count` taps or `--timeout`
//! seconds. Keys come from the command line; the readers' init commands from `[nfc]` in
//! passdesk.toml, as `passdesk serve` sends them.

use crate::context::Context;
use crate::output::print_json;
use anyhow::{bail, Context as _};
use passdesk_core::catalog::{self, ReaderError, SaveMode};
use passdesk_core::reader::{Direction, ReaderChanges};
use passdesk_core::scan::ReaderId;
use passdesk_core::Timestamp;
use passdesk_hardware::nfc::{
    vas, CollectorKey, SmartTapConfig, TapConfig, VasConfig, VasReaderKey,
};
use passdesk_hardware::pcsc::{self, ReaderEvent, Watcher};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// The readers pcscd knows, and whether a card is on each.
    List,
    /// Read taps: one JSON line per event.
    Watch(WatchArgs),
    /// The configured readers (every reader id a scan has named, and those added), with their
    /// permissions; or one of them.
    Show {
        /// Only this reader.
        id: Option<String>,
    },
    /// Add a reader. It scans, and does only what the options enable.
    Add(SetArgs),
    /// Change a reader's settings (those given; the others stay).
    Set(SetArgs),
}

/// A reader's settings, as `PATCH /api/v1/readers/{id}` names them.
#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// The reader id its scans carry (`gate-a`, `till-1`).
    pub id: String,
    /// The name gates and the audit log show ("already used at Gate B").
    #[arg(long)]
    pub name: Option<String>,
    /// PassEntry's reader type (`PassdeskCounter`, `VtapReader`, ...).
    #[arg(long = "type", value_name = "TYPE")]
    pub reader_type: Option<String>,
    /// Bind the reader to an event: it admits only that event's passes.
    #[arg(long, value_name = "EVENT_ID")]
    pub event: Option<String>,
    /// The direction of its scans (an exit reader also takes exit scans).
    #[arg(long, value_parser = parse_direction)]
    pub direction: Option<Direction>,
    /// It may scan at all (off: every scan there is refused, reader_not_allowed).
    #[arg(long, value_name = "BOOL")]
    pub scan_enabled: Option<bool>,
    /// Rewards may be redeemed in a scan's request (`POST /scans` with `loyalty`).
    #[arg(long, value_name = "BOOL")]
    pub redeem_enabled: Option<bool>,
    /// Points and stamps may be added in a scan's request.
    #[arg(long, value_name = "BOOL")]
    pub add_points_enabled: Option<bool>,
    /// A typed pass id or extId admits here (flagged for a look at the person).
    #[arg(long, value_name = "BOOL")]
    pub accept_ids: Option<bool>,
    /// A scan may give its direction here (exit scans at an entry reader).
    #[arg(long, value_name = "BOOL")]
    pub exit_enabled: Option<bool>,
}

fn parse_direction(s: &str) -> Result<Direction, String> {
    s.parse()
}

impl SetArgs {
    fn split(self) -> (String, ReaderChanges) {
        let changes = ReaderChanges {
            name: self.name,
            reader_type: self.reader_type,
            event_id: self.event,
            direction: self.direction,
            scan_enabled: self.scan_enabled,
            redeem_enabled: self.redeem_enabled,
            add_points_enabled: self.add_points_enabled,
            accept_ids: self.accept_ids,
            exit_enabled: self.exit_enabled,
        };
        (self.id, changes)
    }
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Only readers whose name contains this.
    #[arg(long)]
    pub reader: Option<String>,
    /// Stop after this many taps (scans and failed taps).
    #[arg(long)]
    pub count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Apple VAS reader private key (PEM or DER); repeat for several.
    #[arg(long = "vas-key", value_name = "FILE", requires = "pass_type_ids")]
    pub vas_keys: Vec<PathBuf>,
    /// Apple pass type identifier to ask for; repeat for several.
    #[arg(long = "pass-type-id", value_name = "ID", requires = "vas_keys")]
    pub pass_type_ids: Vec<String>,
    /// Apple VAS merchant in one go: `PASS_TYPE_ID=KEYFILE`; repeat for several (adds to
    /// --pass-type-id / --vas-key).
    #[arg(long = "vas", value_name = "PASS_TYPE_ID=KEYFILE")]
    pub vas: Vec<String>,
    /// Google Smart Tap collector in one go: `COLLECTOR_ID:KEY_VERSION=KEYFILE`.
    #[arg(
        long = "smarttap",
        value_name = "COLLECTOR_ID:KEY_VERSION=KEYFILE",
        conflicts_with = "collector_key"
    )]
    pub smarttap: Option<String>,
    /// Freshness window for Apple VAS reads.
    #[arg(long, value_name = "SECS", default_value_t = vas::DEFAULT_MAX_AGE.as_secs())]
    pub vas_max_age: u64,
    /// Google Smart Tap collector private key (PEM or DER).
    #[arg(long, value_name = "FILE", requires = "collector_id")]
    pub collector_key: Option<PathBuf>,
    /// Google Smart Tap collector id.
    #[arg(long, value_name = "ID", requires = "collector_key")]
    pub collector_id: Option<u32>,
    /// Version of the collector key registered with Google.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub collector_key_version: u32,
}

pub fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<ExitCode> {
    match cmd {
        Cmd::List => {
            let readers = pcsc::list()?;
            print_json(&json!({ "data": readers }))?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Watch(args) => watch(ctx, args),
        Cmd::Show { id } => show(ctx, id),
        Cmd::Add(args) => save(ctx, args, SaveMode::Create),
        Cmd::Set(args) => save(ctx, args, SaveMode::Update),
    }
}

fn show(ctx: &Context, id: Option<String>) -> anyhow::Result<ExitCode> {
    let store = ctx.open_store()?;
    match id {
        None => print_json(&json!({ "data": catalog::list_readers(store.conn())? }))?,
        Some(id) => match catalog::get_reader(store.conn(), &id)? {
            Some(r) => print_json(&json!({ "data": r }))?,
            None => bail!("no reader {id:?} (`passdesk readers show` lists them)"),
        },
    }
    Ok(ExitCode::SUCCESS)
}

fn save(ctx: &Context, args: SetArgs, mode: SaveMode) -> anyhow::Result<ExitCode> {
    ReaderId::parse(&args.id).with_context(|| format!("reader id {:?}", args.id))?;
    let mut store = ctx.open_store()?;
    let (id, changes) = args.split();
    let saved = store.write(|tx| catalog::save_reader(tx, &id, changes, mode, Timestamp::now()));
    match saved {
        Ok(r) => print_json(&json!({ "data": r }))?,
        Err(ReaderError::NotFound(id)) => {
            bail!("no reader {id:?}: `passdesk readers add {id}` adds it")
        }
        Err(ReaderError::Exists(id)) => {
            bail!("reader {id:?} exists already: `passdesk readers set {id}` changes it")
        }
        Err(ReaderError::Setting(e)) => bail!("--{}: {e}", cli_option(e.field())),
        Err(e) => return Err(e.into()),
    }
    Ok(ExitCode::SUCCESS)
}

/// The option that carries an API field (`exitEnabled` → `exit-enabled`).
fn cli_option(field: &str) -> String {
    field.chars().fold(String::new(), |mut out, c| {
        if c.is_ascii_uppercase() {
            out.push('-');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
        out
    })
}

fn tap_config(args: &WatchArgs) -> anyhow::Result<TapConfig> {
    let mut cfg = TapConfig::default();
    let mut pass_type_ids = args.pass_type_ids.clone();
    let mut key_files = args.vas_keys.clone();
    for v in &args.vas {
        let (id, file) = parse_vas(v)?;
        if !pass_type_ids.contains(&id) {
            pass_type_ids.push(id);
        }
        key_files.push(file);
    }
    if !key_files.is_empty() {
        cfg.vas = Some(VasConfig {
            pass_type_ids,
            keys: key_files
                .iter()
                .map(|p| {
                    VasReaderKey::from_file(p).with_context(|| format!("VAS key {}", p.display()))
                })
                .collect::<anyhow::Result<_>>()?,
            max_age: Duration::from_secs(args.vas_max_age),
        });
    }
    let collector = match (&args.smarttap, &args.collector_key, args.collector_id) {
        (Some(s), _, _) => Some(parse_smarttap(s)?),
        (None, Some(path), Some(id)) => Some((id, args.collector_key_version, path.clone())),
        _ => None,
    };
    if let Some((id, version, path)) = collector {
        let key = CollectorKey::from_file(id, version, &path)
            .with_context(|| format!("Smart Tap key {}", path.display()))?;
        cfg.smart_tap = Some(SmartTapConfig::new(key));
    }
    Ok(cfg)
}

/// `PASS_TYPE_ID=KEYFILE`.
fn parse_vas(s: &str) -> anyhow::Result<(String, PathBuf)> {
    match s.split_once('=') {
        Some((id, file)) if !id.is_empty() && !file.is_empty() => {
            Ok((id.to_owned(), PathBuf::from(file)))
        }
        _ => bail!("--vas {s:?}: expected PASS_TYPE_ID=KEYFILE"),
    }
}

/// `COLLECTOR_ID:KEY_VERSION=KEYFILE`.
fn parse_smarttap(s: &str) -> anyhow::Result<(u32, u32, PathBuf)> {
    let parsed = s.split_once('=').and_then(|(head, file)| {
        let (id, version) = head.split_once(':')?;
        Some((id.parse().ok()?, version.parse().ok()?, file))
    });
    match parsed {
        Some((id, version, file)) if !file.is_empty() => Ok((id, version, PathBuf::from(file))),
        _ => bail!(
            "--smarttap {s:?}: expected COLLECTOR_ID:KEY_VERSION=KEYFILE (numbers, then a file)"
        ),
    }
}

fn watch(ctx: &Context, args: WatchArgs) -> anyhow::Result<ExitCode> {
    let config = crate::config::Config::load(ctx.data_dir())?;
    let inits = crate::pipeline::pcsc::reader_inits(&config.nfc)?;
    let mut watcher = Watcher::new(tap_config(&args)?).with_reader_init(inits);
    if let Some(r) = &args.reader {
        watcher = watcher.only_readers_matching(r.clone());
    }
    let deadline = args
        .timeout
        .map(|s| Instant::now() + Duration::from_secs(s));
    let mut taps = 0u64;
    let (mut connected, mut lost) = (false, false);
    loop {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left == Some(Duration::ZERO) || args.count.is_some_and(|c| taps >= c) {
            return Ok(ExitCode::SUCCESS);
        }
        // Short waits keep --timeout and Ctrl-C prompt.
        let wait = left
            .unwrap_or(Duration::MAX)
            .min(Duration::from_millis(500));
        let events = match watcher.poll(wait) {
            Ok(events) => {
                if lost {
                    tracing::info!("PC/SC service back");
                }
                (connected, lost) = (true, false);
                events
            }
            // Not there at start: say so rather than wait silently.
            Err(e) if !connected => bail!(e),
            // Gone while watching (pcscd restarted): keep trying, log once.
            Err(e) => {
                if !lost {
                    tracing::warn!(error = %e, "PC/SC service lost; retrying");
                }
                lost = true;
                std::thread::sleep(wait);
                continue;
            }
        };
        for event in events {
            if matches!(event, ReaderEvent::Scan(_) | ReaderEvent::TapFailed { .. }) {
                taps += 1;
            }
            print_json(&event_json(&event))?;
        }
    }
}

fn event_json(event: &ReaderEvent) -> serde_json::Value {
    match event {
        ReaderEvent::ReaderAdded(r) => json!({ "event": "readerAdded", "reader": r }),
        ReaderEvent::ReaderRemoved(r) => json!({ "event": "readerRemoved", "reader": r }),
        ReaderEvent::Scan(s) => json!({
            "event": "scan",
            "reader": s.reader_id,
            "medium": s.medium,
            "value": std::str::from_utf8(&s.value).ok(),
            "valueHex": hex::encode(&s.value),
            "at": rfc3339(s.at),
        }),
        ReaderEvent::InitFailed { reader, error } => json!({
            "event": "readerInitFailed",
            "reader": reader,
            "error": error.to_string(),
        }),
        ReaderEvent::TapFailed { reader, error } => json!({
            "event": "tapFailed",
            "reader": reader,
            "error": error.to_string(),
            "message": error.user_message(),
            "tapAgain": error.tap_again(),
        }),
    }
}

fn rfc3339(t: SystemTime) -> Option<String> {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    chrono::DateTime::from_timestamp(d.as_secs() as i64, d.subsec_nanos())
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_key_forms_parse_or_say_what_they_expect() {
        assert_eq!(
            parse_vas("pass.com.example=/etc/pd/vas=1.pem").unwrap(),
            (
                "pass.com.example".into(),
                PathBuf::from("/etc/pd/vas=1.pem")
            )
        );
        assert_eq!(
            parse_smarttap("20180608:1=/etc/pd/c.pem").unwrap(),
            (20180608, 1, PathBuf::from("/etc/pd/c.pem"))
        );
        for bad in ["pass.com.example", "=key.pem", "pass.x="] {
            assert!(parse_vas(bad)
                .unwrap_err()
                .to_string()
                .contains("PASS_TYPE_ID=KEYFILE"));
        }
        for bad in ["20180608=c.pem", "x:1=c.pem", "1:2=", "1:2"] {
            assert!(parse_smarttap(bad)
                .unwrap_err()
                .to_string()
                .contains("COLLECTOR_ID:KEY_VERSION=KEYFILE"));
        }
    }
}
