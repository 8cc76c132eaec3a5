//! `passdesk serial list|watch`: serial ports (VTAP readers, barcode scanners) and what they read.
//!
//! `watch` prints one JSON object per event, like `passdesk readers watch`: `connected` /
//! `disconnected` (the port comes and goes; it is reopened when it is back), `scan`, and
//! `rejected` (a read that gave no value, with the reason), until `--count` reads (scans and
//! rejected reads) or `--timeout` seconds.

use crate::context::Context;
use crate::output::print_json;
use anyhow::Context as _;
use passdesk_hardware::serial::{
    self, unescape, Affixes, Mapping, PortSpec, ReadConfig, ReaderConfig, Roots, SerialEvent,
    SerialReader, Terminator, TypeCharAt, DEFAULT_MAX_FRAME,
};
use passdesk_hardware::Medium;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Serial ports on this machine, with their USB ids.
    List,
    /// Read a serial reader: one JSON line per event.
    Watch(WatchArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlainMedium {
    Serial,
    Qr,
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// The port's device path (e.g. /dev/ttyACM0).
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "usb",
        conflicts_with = "usb"
    )]
    pub port: Option<PathBuf>,
    /// The USB device, whatever tty number it gets: VID:PID or VID:PID/SERIAL, hex.
    #[arg(long, value_name = "VID:PID[/SERIAL]", value_parser = PortSpec::usb)]
    pub usb: Option<PortSpec>,
    #[arg(long, default_value_t = 9600)]
    pub baud: u32,
    /// Where a read ends: cr, lf, crlf, any (CR or LF) or idle:MS (a pause of MS milliseconds).
    #[arg(long, default_value = "any")]
    pub terminator: Terminator,
    /// Bytes before every read, stripped (escapes: \r \n \t \\ \xHH).
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// Bytes after every read, before the terminator, stripped (same escapes).
    #[arg(long, default_value = "")]
    pub postfix: String,
    /// A VTAP: every read starts with its pass-type character (A Apple, G Google, 0/2/4/6 cards,
    /// Q scanner).
    #[arg(long)]
    pub vtap: bool,
    /// With --vtap: the pass-type character ends the read instead of starting it.
    #[arg(long, requires = "vtap")]
    pub type_char_last: bool,
    /// Without --vtap: the medium of the scanner's reads.
    #[arg(long, value_enum, default_value_t = PlainMedium::Serial, conflicts_with = "vtap")]
    pub medium: PlainMedium,
    /// Longest read in bytes; longer ones are rejected.
    #[arg(long, default_value_t = DEFAULT_MAX_FRAME)]
    pub max_len: usize,
    /// The reader id scans carry [default: the port path or usb:VID:PID].
    #[arg(long = "reader", value_name = "ID")]
    pub reader_id: Option<String>,
    /// Stop after this many reads (scans and rejected reads).
    #[arg(long)]
    pub count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
}

pub fn run(_ctx: &Context, cmd: Cmd) -> anyhow::Result<ExitCode> {
    match cmd {
        Cmd::List => {
            print_json(&json!({ "data": serial::list(&roots()) }))?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Watch(args) => watch(args),
    }
}

/// `/sys` and `/dev`, unless `PASSDESK_SYS_ROOT` / `PASSDESK_DEV_ROOT` say otherwise: the
/// end-to-end tests renumber a fake USB tty this way, and a container may mount them elsewhere.
fn roots() -> Roots {
    let mut roots = Roots::default();
    if let Some(sys) = std::env::var_os("PASSDESK_SYS_ROOT") {
        roots.sys = sys.into();
    }
    if let Some(dev) = std::env::var_os("PASSDESK_DEV_ROOT") {
        roots.dev = dev.into();
    }
    roots
}

fn reader_config(args: &WatchArgs) -> anyhow::Result<ReaderConfig> {
    let port = match (&args.port, &args.usb) {
        (Some(p), _) => PortSpec::path(p),
        (None, Some(u)) => u.clone(),
        (None, None) => anyhow::bail!("give --port PATH or --usb VID:PID"),
    };
    let mapping = if args.vtap {
        Mapping::Vtap(if args.type_char_last {
            TypeCharAt::Trailing
        } else {
            TypeCharAt::Leading
        })
    } else {
        Mapping::Plain(match args.medium {
            PlainMedium::Serial => Medium::Serial,
            PlainMedium::Qr => Medium::Qr,
        })
    };
    Ok(ReaderConfig {
        reader_id: args.reader_id.clone().unwrap_or_else(|| port.to_string()),
        port,
        baud: args.baud,
        read: ReadConfig {
            terminator: args.terminator,
            max_len: args.max_len,
            affixes: Affixes {
                prefix: unescape(&args.prefix).context("--prefix")?,
                postfix: unescape(&args.postfix).context("--postfix")?,
            },
            mapping,
        },
        roots: roots(),
    })
}

fn watch(args: WatchArgs) -> anyhow::Result<ExitCode> {
    let cfg = reader_config(&args)?;
    let (tx, rx) = channel();
    let reader = SerialReader::spawn(cfg, tx).context("start the serial reader thread")?;
    let deadline = args
        .timeout
        .map(|s| Instant::now() + Duration::from_secs(s));
    let mut reads = 0u64;
    while args.count.is_none_or(|c| reads < c) {
        let wait = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()),
            None => Duration::from_secs(3600),
        };
        if wait.is_zero() {
            break;
        }
        let event = match rx.recv_timeout(wait) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if matches!(event, SerialEvent::Scan(_) | SerialEvent::Rejected { .. }) {
            reads += 1;
        }
        log(&event);
        print_json(&event_json(&event))?;
    }
    reader.stop();
    Ok(ExitCode::SUCCESS)
}

fn log(event: &SerialEvent) {
    match event {
        SerialEvent::Connected { reader, path } => {
            tracing::info!(reader_id = %reader, path = %path.display(), "serial reader connected")
        }
        SerialEvent::Disconnected { reader, reason } => {
            tracing::warn!(reader_id = %reader, %reason, "serial reader disconnected")
        }
        SerialEvent::Rejected { reader, rejected } => {
            tracing::warn!(reader_id = %reader, reason = %rejected.reason, "serial read rejected")
        }
        SerialEvent::Scan(_) => {}
    }
}

fn event_json(event: &SerialEvent) -> serde_json::Value {
    match event {
        SerialEvent::Connected { reader, path } => {
            json!({ "event": "connected", "reader": reader, "path": path })
        }
        SerialEvent::Disconnected { reader, reason } => {
            json!({ "event": "disconnected", "reader": reader, "message": "scanner disconnected", "reason": reason })
        }
        SerialEvent::Scan(s) => json!({
            "event": "scan",
            "reader": s.reader_id,
            "medium": s.medium,
            "value": std::str::from_utf8(&s.value).ok(),
            "valueHex": hex::encode(&s.value),
            "at": rfc3339(s.at),
        }),
        SerialEvent::Rejected { reader, rejected } => json!({
            "event": "rejected",
            "reader": reader,
            "reason": rejected.reason.code(),
            "error": rejected.reason.to_string(),
            "previewHex": hex::encode(&rejected.preview),
        }),
    }
}

fn rfc3339(t: SystemTime) -> Option<String> {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    chrono::DateTime::from_timestamp(d.as_secs() as i64, d.subsec_nanos())
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}
