//! Serial readers inside `passdesk serve` (`[[serial]]` in passdesk.toml): a thread per port
//! (the hardware crate's), and one dispatcher here offering their reads to the serial
//! pipeline's [`Feed`] (never waiting for the database, so the ports' channel never backs up)
//! and turning their comings and goings into `/status` lines and stream events ("scanner
//! disconnected").

use super::feed::{Drain, Feed};
use super::DeviceStatus;
use crate::config::SerialConfig;
use crate::server::routes::scans::publish;
use crate::server::state::AppState;
use anyhow::Context as _;
use passdesk_core::scan::ReaderId;
use passdesk_hardware::serial::{
    unescape, Affixes, Mapping, PortSpec, ReadConfig, ReaderConfig, Roots, SerialEvent,
    SerialReader, Terminator, TypeCharAt, DEFAULT_MAX_FRAME,
};
use passdesk_hardware::Medium as DeviceMedium;
use serde_json::json;
use std::sync::mpsc::channel;

/// Checks a `[[serial]]` table and turns it into the reader's settings; errors name the field.
pub fn reader_config(c: &SerialConfig) -> anyhow::Result<ReaderConfig> {
    ReaderId::parse(&c.reader_id)
        .with_context(|| format!("serial: reader_id {:?}", c.reader_id))?;
    let port = match (&c.port, &c.usb) {
        (Some(p), None) => PortSpec::path(p),
        (None, Some(u)) => {
            PortSpec::usb(u).with_context(|| format!("serial {}: usb", c.reader_id))?
        }
        _ => anyhow::bail!("serial {}: give exactly one of port or usb", c.reader_id),
    };
    let terminator: Terminator = c
        .terminator
        .parse()
        .with_context(|| format!("serial {}: terminator", c.reader_id))?;
    let mapping = if c.vtap {
        Mapping::Vtap(if c.type_char_last {
            TypeCharAt::Trailing
        } else {
            TypeCharAt::Leading
        })
    } else {
        Mapping::Plain(match c.medium.as_str() {
            "serial" => DeviceMedium::Serial,
            "qr" => DeviceMedium::Qr,
            other => anyhow::bail!(
                "serial {}: medium {other:?} (expected serial or qr)",
                c.reader_id
            ),
        })
    };
    Ok(ReaderConfig {
        reader_id: c.reader_id.clone(),
        port,
        baud: c.baud,
        read: ReadConfig {
            terminator,
            max_len: DEFAULT_MAX_FRAME,
            affixes: Affixes {
                prefix: unescape(&c.prefix)
                    .with_context(|| format!("serial {}: prefix", c.reader_id))?,
                postfix: unescape(&c.postfix)
                    .with_context(|| format!("serial {}: postfix", c.reader_id))?,
            },
            mapping,
        },
        roots: Roots::default(),
    })
}

/// The running serial readers; dropping it (or [`SerialReaders::stop`]) closes every port.
pub struct SerialReaders {
    readers: Vec<SerialReader>,
    dispatcher: Option<std::thread::JoinHandle<()>>,
    drain: Option<Drain>,
}

impl SerialReaders {
    /// Closes every port and ends the dispatcher: no new reads. The reads already queued are
    /// decided by the returned [`Drain`]. An error: the dispatcher had panicked.
    pub fn stop(mut self) -> (anyhow::Result<()>, Option<Drain>) {
        for r in self.readers.drain(..) {
            r.stop();
        }
        let joined = super::join_thread(self.dispatcher.take(), "the serial dispatcher thread");
        (joined, self.drain.take())
    }
}

pub fn spawn(
    state: AppState,
    configs: Vec<ReaderConfig>,
    runtime: tokio::runtime::Handle,
) -> anyhow::Result<SerialReaders> {
    let (tx, rx) = channel();
    let mut readers = Vec::new();
    for cfg in configs {
        state.devices.set(
            device_key(&cfg.reader_id),
            DeviceStatus::new(
                "serial",
                cfg.port.to_string(),
                Some(cfg.reader_id.clone()),
                false,
                Some("opening".into()),
            ),
        );
        readers.push(SerialReader::spawn(cfg, tx.clone()).context("start a serial reader thread")?);
    }
    drop(tx); // the dispatcher ends when the last reader does
    let (feed, drain) = Feed::start(
        state.clone(),
        &runtime,
        "serial",
        "Could not record this scan: please scan again",
    );
    // The feed lives in the dispatcher: when it ends (even by a panic), the decider drains.
    let dispatcher = std::thread::Builder::new()
        .name("passdesk-serial".into())
        .spawn(move || {
            for event in rx {
                handle(&state, &feed, event);
            }
        })
        .context("start the serial dispatcher")?;
    Ok(SerialReaders {
        readers,
        dispatcher: Some(dispatcher),
        drain: Some(drain),
    })
}

fn device_key(reader_id: &str) -> String {
    format!("serial:{reader_id}")
}

fn handle(state: &AppState, feed: &Feed, event: SerialEvent) {
    match event {
        SerialEvent::Connected { reader, path } => {
            tracing::info!(reader_id = %reader, path = %path.display(), "serial reader connected");
            state.devices.update(&device_key(&reader), |d| {
                d.connected = true;
                d.name = path.display().to_string();
                d.detail = None;
            });
            publish(
                state,
                "device",
                &json!({ "kind": "serial", "readerId": reader, "connected": true }),
            );
        }
        SerialEvent::Disconnected { reader, reason } => {
            tracing::warn!(reader_id = %reader, %reason, "serial reader disconnected");
            state.devices.update(&device_key(&reader), |d| {
                d.connected = false;
                d.detail = Some(format!("scanner disconnected: {reason}"));
            });
            publish(
                state,
                "device",
                &json!({ "kind": "serial", "readerId": reader, "connected": false, "detail": "scanner disconnected" }),
            );
        }
        SerialEvent::Scan(scan) => {
            let Ok(reader_id) = ReaderId::parse(&scan.reader_id) else {
                return;
            };
            let input = super::scan_input(scan.value, scan.medium, scan.at, reader_id);
            feed.offer(&device_key(&scan.reader_id), input);
        }
        SerialEvent::Rejected { reader, rejected } => {
            tracing::info!(reader_id = %reader, reason = rejected.reason.code(), "serial read rejected");
            publish(
                state,
                "tapFailed",
                &json!({ "readerId": reader, "message": "Could not read that: please scan again", "tapAgain": true, "error": rejected.reason.to_string() }),
            );
        }
    }
}
