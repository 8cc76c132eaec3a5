//! PC/SC NFC readers inside `passdesk serve`: a thread polls pcscd; taps are offered to the
//! PC/SC pipeline's [`Feed`] (the thread never waits for the database: it keeps polling, so a
//! reader's removal is seen even while the store is stuck), failed taps and reader changes
//! become events on the stream and lines in `/status`. pcscd missing or restarting, a reader
//! unplugged: a status, never a crash; recovery is automatic.

use super::feed::{Drain, Feed};
use super::{reader_id_from_name, DeviceStatus};
use crate::config::{NfcConfig, ReaderInitConfig};
use crate::server::routes::scans::publish;
use crate::server::state::AppState;
use anyhow::Context as _;
use passdesk_core::scan::ReaderId;
use passdesk_hardware::nfc::apdu::StatusWord;
use passdesk_hardware::nfc::{CollectorKey, SmartTapConfig, TapConfig, VasConfig, VasReaderKey};
use passdesk_hardware::pcsc::{EscapeCommand, InitApdu, ReaderEvent, ReaderInit, Watcher};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const SERVICE_KEY: &str = "pcsc:service";

/// The protocols, merchants and keys of the config, keys read from their files now so that a
/// missing key file stops the start with its name rather than failing every tap.
pub fn tap_config(cfg: &NfcConfig) -> anyhow::Result<TapConfig> {
    let mut tap = TapConfig {
        ndef: cfg.ndef,
        uid: cfg.uid,
        ..TapConfig::default()
    };
    if !cfg.vas_pass_type_ids.is_empty() || !cfg.vas_key_files.is_empty() {
        anyhow::ensure!(
            !cfg.vas_pass_type_ids.is_empty() && !cfg.vas_key_files.is_empty(),
            "nfc: Apple VAS needs both vas_pass_type_ids and vas_key_files"
        );
        let keys = cfg
            .vas_key_files
            .iter()
            .map(|p| {
                VasReaderKey::from_file(p).with_context(|| format!("nfc: VAS key {}", p.display()))
            })
            .collect::<anyhow::Result<_>>()?;
        tap.vas = Some(VasConfig {
            pass_type_ids: cfg.vas_pass_type_ids.clone(),
            keys,
            max_age: Duration::from_secs(cfg.vas_max_age_secs),
        });
    }
    if let Some(st) = &cfg.smart_tap {
        let key = CollectorKey::from_file(st.collector_id, st.key_version, &st.key_file)
            .with_context(|| format!("nfc: Smart Tap key {}", st.key_file.display()))?;
        tap.smart_tap = Some(SmartTapConfig::new(key));
    }
    Ok(tap)
}

/// The `[[nfc.reader_init]]` tables, their hex checked now so that a typo stops the start
/// with the entry named rather than failing on every reader.
pub fn reader_inits(cfg: &NfcConfig) -> anyhow::Result<Vec<ReaderInit>> {
    cfg.reader_init.iter().map(reader_init).collect()
}

fn reader_init(c: &ReaderInitConfig) -> anyhow::Result<ReaderInit> {
    let ctx = |what: String| format!("nfc.reader_init for {:?}: {what}", c.reader);
    anyhow::ensure!(
        !c.reader.is_empty(),
        ctx("reader must name a reader".into())
    );
    let escapes = c
        .escape
        .iter()
        .enumerate()
        .map(|(i, e)| {
            Ok(EscapeCommand {
                function: e.ctl_code,
                data: parse_hex(&e.hex).with_context(|| ctx(format!("escape #{}", i + 1)))?,
                expect: e
                    .expect
                    .as_deref()
                    .map(parse_hex)
                    .transpose()
                    .with_context(|| ctx(format!("escape #{} expect", i + 1)))?,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let apdus = c
        .apdu
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let apdu = parse_hex(&a.hex).with_context(|| ctx(format!("apdu #{}", i + 1)))?;
            anyhow::ensure!(
                apdu.len() >= 4,
                ctx(format!(
                    "apdu #{}: a command APDU has at least 4 bytes",
                    i + 1
                ))
            );
            let sw = parse_hex(&a.expect_sw)
                .ok()
                .and_then(|b| <[u8; 2]>::try_from(b).ok())
                .with_context(|| {
                    ctx(format!("apdu #{}: expect_sw must be 2 bytes of hex", i + 1))
                })?;
            Ok(InitApdu {
                apdu,
                expect_sw: StatusWord(u16::from_be_bytes(sw)),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(ReaderInit {
        reader: c.reader.clone(),
        escapes,
        apdus,
    })
}

/// Hex with optional spaces or colons between bytes (`FF 00 48 00 00`, `ff:00`).
pub fn parse_hex(s: &str) -> anyhow::Result<Vec<u8>> {
    let clean: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    hex::decode(&clean).map_err(|e| anyhow::anyhow!("{s:?} is not hex bytes: {e}"))
}

/// The running PC/SC thread; [`PcscReaders::stop`] ends it.
pub struct PcscReaders {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    drain: Option<Drain>,
}

impl PcscReaders {
    /// Ends the reader thread (within half a second): no new taps. The taps already queued are
    /// decided by the returned [`Drain`]. An error: the thread had panicked.
    pub fn stop(mut self) -> (anyhow::Result<()>, Option<Drain>) {
        self.stop.store(true, Ordering::Relaxed);
        let joined = super::join_thread(self.thread.take(), "the PC/SC reader thread");
        (joined, self.drain.take())
    }
}

/// A start that failed after the thread began must not leave it polling forever.
impl Drop for PcscReaders {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
impl PcscReaders {
    /// Stands for the reader thread in tests of the shutdown.
    pub(crate) fn from_thread(thread: std::thread::JoinHandle<()>) -> Self {
        Self {
            stop: Arc::new(AtomicBool::new(false)),
            thread: Some(thread),
            drain: None,
        }
    }
}

/// Starts the reader thread.
pub fn spawn(
    state: AppState,
    cfg: NfcConfig,
    tap: TapConfig,
    inits: Vec<ReaderInit>,
    runtime: &tokio::runtime::Handle,
) -> anyhow::Result<PcscReaders> {
    let stop = Arc::new(AtomicBool::new(false));
    let (feed, drain) = Feed::start(
        state.clone(),
        runtime,
        "pcsc",
        "Could not record this tap: please tap again",
    );
    let flag = stop.clone();
    // The feed lives in the thread: when it ends (even by a panic), the decider drains.
    let thread = std::thread::Builder::new()
        .name("passdesk-pcsc".into())
        .spawn(move || run(&state, &cfg, tap, inits, &feed, &flag))
        .context("start the PC/SC thread")?;
    Ok(PcscReaders {
        stop,
        thread: Some(thread),
        drain: Some(drain),
    })
}

fn run(
    state: &AppState,
    cfg: &NfcConfig,
    tap: TapConfig,
    inits: Vec<ReaderInit>,
    feed: &Feed,
    stop: &AtomicBool,
) {
    let mut watcher = Watcher::new(tap).with_reader_init(inits);
    if let Some(f) = &cfg.reader_filter {
        watcher = watcher.only_readers_matching(f.clone());
    }
    // What the status screen was last told of pcscd: `None` before the first poll, then
    // up, or down with the reason (told again when the reason changes, e.g. from "connection
    // reset" as pcscd leaves to "not running" once it is gone).
    let mut told: Option<Result<(), String>> = None;
    while !stop.load(Ordering::Relaxed) {
        let events = match watcher.poll(Duration::from_millis(500)) {
            Ok(events) => {
                if told != Some(Ok(())) {
                    set_service(state, true, None);
                    told = Some(Ok(()));
                }
                events
            }
            Err(e) => {
                let why = e.to_string();
                if told.as_ref().and_then(|t| t.as_ref().err()) != Some(&why) {
                    tracing::warn!(error = %why, "PC/SC service not available; retrying every 2 s");
                    set_service(state, false, Some(why.clone()));
                    mark_all_disconnected(state);
                    told = Some(Err(why));
                }
                sleep_unless_stopped(stop, Duration::from_secs(2));
                continue;
            }
        };
        for event in events {
            handle(state, cfg, feed, event);
        }
    }
}

fn handle(state: &AppState, cfg: &NfcConfig, feed: &Feed, event: ReaderEvent) {
    match event {
        ReaderEvent::ReaderAdded(name) => {
            let reader_id = reader_id_for(cfg, &name);
            tracing::info!(reader = %name, %reader_id, "NFC reader connected");
            state.devices.set(
                device_key(&name),
                DeviceStatus::new("pcsc", name.clone(), Some(reader_id.clone()), true, None),
            );
            publish(
                state,
                "device",
                &json!({ "kind": "pcsc", "name": name, "readerId": reader_id, "connected": true }),
            );
        }
        ReaderEvent::ReaderRemoved(name) => {
            tracing::warn!(reader = %name, "NFC reader disconnected");
            state.devices.update(&device_key(&name), |d| {
                d.connected = false;
                d.detail = Some("reader disconnected".into());
            });
            publish(
                state,
                "device",
                &json!({ "kind": "pcsc", "name": name, "connected": false, "detail": "reader disconnected" }),
            );
        }
        ReaderEvent::Scan(scan) => {
            let reader_id = reader_id_for(cfg, &scan.reader_id);
            let Ok(reader_id) = ReaderId::parse(&reader_id) else {
                tracing::error!(%reader_id, "configured reader id is invalid; tap dropped");
                return;
            };
            let input = super::scan_input(scan.value, scan.medium, scan.at, reader_id);
            feed.offer(&device_key(&scan.reader_id), input);
        }
        ReaderEvent::InitFailed { reader, error } => {
            // The reader stays connected and keeps reading; the status line says what failed.
            tracing::warn!(%reader, error = %error, "reader init command failed");
            let detail = format!("init command failed: {error}");
            state.devices.update(&device_key(&reader), |d| {
                d.detail = Some(detail.clone());
            });
            publish(
                state,
                "device",
                &json!({ "kind": "pcsc", "name": reader, "readerId": reader_id_for(cfg, &reader), "connected": true, "detail": detail }),
            );
        }
        ReaderEvent::TapFailed { reader, error } => {
            tracing::info!(%reader, error = %error, "tap failed");
            publish(
                state,
                "tapFailed",
                &json!({ "readerId": reader_id_for(cfg, &reader), "message": error.user_message(), "tapAgain": error.tap_again(), "error": error.to_string() }),
            );
        }
    }
}

fn device_key(name: &str) -> String {
    format!("pcsc:{name}")
}

fn reader_id_for(cfg: &NfcConfig, name: &str) -> String {
    cfg.reader_ids
        .iter()
        .find(|(part, _)| name.contains(part.as_str()))
        .map(|(_, id)| id.clone())
        .unwrap_or_else(|| reader_id_from_name("pcsc", name))
}

fn set_service(state: &AppState, up: bool, detail: Option<String>) {
    state.devices.set(
        SERVICE_KEY.into(),
        DeviceStatus::new(
            "pcsc",
            "PC/SC service".into(),
            None,
            up,
            detail.map(|d| format!("PC/SC service not running: {d}")),
        ),
    );
    publish(
        state,
        "device",
        &json!({ "kind": "pcsc", "name": "PC/SC service", "connected": up }),
    );
}

fn mark_all_disconnected(state: &AppState) {
    for d in state.devices.list() {
        if d.kind == "pcsc" && d.reader_id.is_some() {
            state.devices.update(&device_key(&d.name), |d| {
                d.connected = false;
                d.detail = Some("PC/SC service not running".into());
            });
        }
    }
}

fn sleep_unless_stopped(stop: &AtomicBool, total: Duration) {
    let step = Duration::from_millis(100);
    let mut slept = Duration::ZERO;
    while slept < total && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(step);
        slept += step;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn nfc(toml: &str) -> NfcConfig {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(crate::config::CONFIG_FILE), toml).unwrap();
        Config::load(dir.path()).unwrap().nfc
    }

    #[test]
    fn reader_init_tables_become_commands() {
        let cfg = nfc(r#"
[[nfc.reader_init]]
reader = "ACR1252"
escape = [{ hex = "E0 00 00 18 00", expect = "e1:00" }]
apdu = [{ hex = "FF CA 00 00 00" }, { hex = "00A4040000", expect_sw = "6A82" }]
"#);
        let inits = reader_inits(&cfg).unwrap();
        assert_eq!(inits.len(), 1);
        let i = &inits[0];
        assert!(i.applies_to("ACS ACR1252 Dual Reader PICC 00 00"));
        assert!(!i.applies_to("Virtual PCD 00 00"));
        assert_eq!(i.escapes[0].function, 3500);
        assert_eq!(i.escapes[0].data, [0xE0, 0, 0, 0x18, 0]);
        assert_eq!(i.escapes[0].expect.as_deref(), Some(&[0xE1, 0][..]));
        assert_eq!(i.apdus[0].expect_sw, StatusWord(0x9000));
        assert_eq!(i.apdus[1].expect_sw, StatusWord(0x6A82));
    }

    #[test]
    fn bad_init_hex_names_the_entry() {
        for (toml, needle) in [
            (
                "[[nfc.reader_init]]\nreader = \"X\"\napdu = [{ hex = \"FF C\" }]\n",
                "apdu #1",
            ),
            (
                "[[nfc.reader_init]]\nreader = \"X\"\napdu = [{ hex = \"FFCA\" }]\n",
                "at least 4 bytes",
            ),
            (
                "[[nfc.reader_init]]\nreader = \"X\"\napdu = [{ hex = \"FFCA0000\", expect_sw = \"90\" }]\n",
                "expect_sw",
            ),
            (
                "[[nfc.reader_init]]\nreader = \"X\"\nescape = [{ hex = \"zz\" }]\n",
                "escape #1",
            ),
            ("[[nfc.reader_init]]\nreader = \"\"\n", "must name a reader"),
        ] {
            let err = format!("{:#}", reader_inits(&nfc(toml)).unwrap_err());
            assert!(err.contains(needle), "{err}");
        }
    }
}
