//! The scan pipeline: devices → decisions. Each device family runs on its own thread (device
//! calls block), hands every scan to [`crate::server::routes::scans::decide`] (one durable
//! transaction, then the event stream) and keeps its status in [`Devices`] for `/status`.

pub mod camera;
pub mod pcsc;
pub mod serial;

use passdesk_core::scan::{Medium, ReaderId, ScanInput};
use passdesk_core::Timestamp;
use passdesk_hardware::{Medium as DeviceMedium, NfcKind};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::SystemTime;

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
    /// Words for a person: "reader disconnected", "PC/SC service not running".
    pub detail: Option<String>,
}

#[derive(Default)]
pub struct Devices(Mutex<BTreeMap<String, DeviceStatus>>);

impl Devices {
    pub fn set(&self, key: String, status: DeviceStatus) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, status);
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

    pub fn list(&self) -> Vec<DeviceStatus> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }
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
