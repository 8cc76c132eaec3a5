//! The scan pipeline: devices → decisions. Each device family runs on its own thread (device
//! calls block) and offers every scan to its [`feed::Feed`], a bounded queue from which one
//! task hands them to [`crate::server::routes::scans::decide`] (one durable transaction, then
//! the event stream); the device thread never waits for the database. Each keeps its status in
//! [`Devices`] for `/status`, with the reads it had to drop.

pub mod camera;
pub mod feed;
pub mod pcsc;
pub mod serial;

use passdesk_core::scan::{Medium, ReaderId, ScanInput};
use passdesk_core::Timestamp;
use passdesk_hardware::{Medium as DeviceMedium, NfcKind};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::SystemTime;

/// Waits for a device family's thread (its reader loop or dispatcher) to end. One that
/// panicked is an error naming it (`what`), never a panic here: the shutdown that stops it goes
/// on with its next step.
fn join_thread(thread: Option<std::thread::JoinHandle<()>>, what: &str) -> anyhow::Result<()> {
    match thread {
        Some(t) => t.join().map_err(|_| anyhow::anyhow!("{what} panicked")),
        None => Ok(()),
    }
}

/// What the status screen shows of a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeviceStatus {
    /// `pcsc`, `serial` or `camera`.
    #[schema(value_type = String)]
    pub kind: &'static str,
    /// The device's own name (the PC/SC reader name).
    pub name: String,
    /// The reader id its scans carry.
    pub reader_id: Option<String>,
    pub connected: bool,
    /// Words for a person: "reader disconnected", "PC/SC service not running", "3 reads
    /// dropped: the database did not answer".
    pub detail: Option<String>,
    /// Reads from this device dropped since the service started because the database did not
    /// answer fast enough to take them (see [`feed`]).
    pub dropped_reads: u64,
}

impl DeviceStatus {
    /// A device as it is first seen: nothing dropped yet.
    pub fn new(
        kind: &'static str,
        name: String,
        reader_id: Option<String>,
        connected: bool,
        detail: Option<String>,
    ) -> Self {
        Self {
            kind,
            name,
            reader_id,
            connected,
            detail,
            dropped_reads: 0,
        }
    }
}

#[derive(Default)]
pub struct Devices(Mutex<BTreeMap<String, DeviceStatus>>);

impl Devices {
    /// Sets a device's line; the reads it dropped are kept (a replugged reader is still the
    /// reader that dropped them).
    pub fn set(&self, key: String, mut status: DeviceStatus) {
        let mut devices = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = devices.get(&key) {
            status.dropped_reads = old.dropped_reads;
        }
        devices.insert(key, status);
    }

    /// Counts a dropped read against a device; returns its count so far (0: no such device).
    pub fn count_dropped(&self, key: &str) -> u64 {
        let mut devices = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match devices.get_mut(key) {
            Some(d) => {
                d.dropped_reads += 1;
                d.dropped_reads
            }
            None => 0,
        }
    }

    pub fn update(&self, key: &str, f: impl FnOnce(&mut DeviceStatus)) {
        if let Some(s) = self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(key)
        {
            f(s);
        }
    }

    /// Every device's line; one that dropped reads says so in its `detail`, after what it says
    /// of its connection, so that a status screen showing the words shows that too.
    pub fn list(&self) -> Vec<DeviceStatus> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .map(|mut d| {
                if d.dropped_reads > 0 {
                    let words = dropped_words(d.dropped_reads);
                    d.detail = Some(match d.detail.take() {
                        Some(connection) => format!("{connection}; {words}"),
                        None => words,
                    });
                }
                d
            })
            .collect()
    }
}

/// "1 read dropped: …", "3 reads dropped: …".
pub fn dropped_words(n: u64) -> String {
    let reads = if n == 1 { "read" } else { "reads" };
    format!("{n} {reads} dropped: the database did not answer")
}

/// What the check-in engine takes, from what a device read.
pub fn scan_input(
    value: Vec<u8>,
    medium: DeviceMedium,
    at: SystemTime,
    reader_id: ReaderId,
) -> ScanInput {
    let medium = match medium {
        DeviceMedium::Nfc(NfcKind::Vas) => Medium::NfcVas,
        DeviceMedium::Nfc(NfcKind::SmartTap) => Medium::NfcSmartTap,
        DeviceMedium::Nfc(NfcKind::Ndef) => Medium::NfcNdef,
        DeviceMedium::Nfc(NfcKind::Uid) => Medium::NfcUid,
        DeviceMedium::Qr => Medium::Qr,
        DeviceMedium::Serial => Medium::Serial,
        DeviceMedium::Manual => Medium::Manual,
    };
    let at = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| Timestamp::from_unix_ms(d.as_millis() as i64))
        .unwrap_or_else(|_| Timestamp::now());
    ScanInput {
        value,
        reader_id,
        medium,
        direction: None,
        at,
    }
}

/// A reader id from a device name: lowercase letters and digits, other runs of characters
/// become one `-`, at most 64 characters, with a prefix saying what kind of device it is.
pub fn reader_id_from_name(prefix: &str, name: &str) -> String {
    let mut id = String::from(prefix);
    let mut dash = true;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if dash {
                id.push('-');
            }
            id.push(c.to_ascii_lowercase());
            dash = false;
        } else {
            dash = true;
        }
    }
    id.truncate(64);
    id.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_reads_are_counted_kept_and_said() {
        let devices = Devices::default();
        let line = |connected, detail: Option<&str>| {
            DeviceStatus::new(
                "serial",
                "/dev/ttyACM0".into(),
                Some("till-1".into()),
                connected,
                detail.map(str::to_owned),
            )
        };
        devices.set("serial:till-1".into(), line(true, None));
        assert_eq!(devices.count_dropped("serial:till-1"), 1);
        assert_eq!(devices.count_dropped("nothing:here"), 0);
        assert_eq!(
            devices.list()[0].detail.as_deref(),
            Some("1 read dropped: the database did not answer")
        );
        devices.count_dropped("serial:till-1");
        devices.count_dropped("serial:till-1");
        devices.set(
            "serial:till-1".into(),
            line(false, Some("scanner disconnected")),
        );
        let d = &devices.list()[0];
        assert_eq!(d.dropped_reads, 3);
        assert_eq!(
            d.detail.as_deref(),
            Some("scanner disconnected; 3 reads dropped: the database did not answer")
        );
    }

    #[test]
    fn reader_ids_from_names() {
        assert_eq!(
            super::reader_id_from_name("pcsc", "Virtual PCD 00 00"),
            "pcsc-virtual-pcd-00-00"
        );
        assert_eq!(
            super::reader_id_from_name(
                "pcsc",
                "ACS ACR1252 1S CL Reader [ACR1252 Dual Reader PICC] 00 00"
            ),
            "pcsc-acs-acr1252-1s-cl-reader-acr1252-dual-reader-picc-00-00"
        );
        assert!(super::reader_id_from_name("pcsc", &"x y ".repeat(100)).len() <= 64);
    }
}
