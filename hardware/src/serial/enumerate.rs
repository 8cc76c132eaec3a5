//! Which serial ports there are, with their USB ids, read from sysfs. This is what libudev would
//! tell us, without linking it: one fewer system library to build against, and testable on a
//! fake sysfs tree.

use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};

/// A USB device's identity, as its descriptors give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsbIds {
    /// Vendor id, 4 lower-case hex digits (as lsusb shows it).
    pub vid: String,
    pub pid: String,
    pub serial: Option<String>,
    pub manufacturer: Option<String>,
    pub product: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortInfo {
    /// The device node, e.g. /dev/ttyACM0.
    pub path: PathBuf,
    /// The kernel driver (cdc_acm, ftdi_sio, serial, ...).
    pub driver: Option<String>,
    pub usb: Option<UsbIds>,
}

/// Where sysfs and the device nodes are: `/sys` and `/dev`, except in tests (a fake sysfs tree
/// whose nodes are pty links) and in containers that mount them elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roots {
    pub sys: PathBuf,
    pub dev: PathBuf,
}

impl Default for Roots {
    fn default() -> Self {
        Self {
            sys: "/sys".into(),
            dev: "/dev".into(),
        }
    }
}

/// The serial ports under `roots`, sorted by path.
pub fn list(roots: &Roots) -> Vec<PortInfo> {
    list_in(&roots.sys, &roots.dev)
}

/// The serial ports described in sysfs at `sys`, with their nodes in `dev`, sorted by path.
pub fn list_in(sys: &Path, dev: &Path) -> Vec<PortInfo> {
    let Ok(entries) = fs::read_dir(sys.join("class/tty")) else {
        return Vec::new();
    };
    let mut ports: Vec<PortInfo> = entries
        .filter_map(Result::ok)
        .filter_map(|e| port(&e.path(), dev))
        .collect();
    ports.sort_by(|a, b| a.path.cmp(&b.path));
    ports
}

fn port(class_entry: &Path, dev: &Path) -> Option<PortInfo> {
    let name = class_entry.file_name()?.to_str()?.to_owned();
    // Virtual terminals, ptys and the console have no device behind them.
    let device = fs::canonicalize(class_entry.join("device")).ok()?;
    let driver = link_name(&device.join("driver"));
    // The kernel creates placeholder ttyS0..31 under the legacy 8250 platform device whether
    // or not a UART is there (directly, or since 6.x through serial-base `port` devices below
    // it); real ones hang off pnp or pci. Telling a real legacy UART from a placeholder would
    // take opening it, which listing must not do.
    if device.components().any(|c| c.as_os_str() == "serial8250") {
        return None;
    }
    Some(PortInfo {
        path: dev.join(&name),
        driver,
        usb: usb_ids(&device),
    })
}

/// The USB device above a tty's device: ttyACM's parent is the interface, whose parent has the
/// descriptors; usb-serial (ttyUSB) adds one level. Walk up a few levels to the first `idVendor`.
fn usb_ids(device: &Path) -> Option<UsbIds> {
    let usb_dev = device
        .ancestors()
        .take(4)
        .find(|d| d.join("idVendor").is_file())?;
    let read = |f: &str| {
        fs::read_to_string(usb_dev.join(f))
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    Some(UsbIds {
        vid: read("idVendor")?.to_ascii_lowercase(),
        pid: read("idProduct")?.to_ascii_lowercase(),
        serial: read("serial"),
        manufacturer: read("manufacturer"),
        product: read("product"),
    })
}

fn link_name(link: &Path) -> Option<String> {
    fs::read_link(link)
        .ok()?
        .file_name()?
        .to_str()
        .map(str::to_owned)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A fake /sys with a VTAP on ttyACM0, an FTDI adapter on ttyUSB0, placeholders ttyS1 / ttyS2,
    /// a real ttyS0 and tty1 (no device).
    pub(crate) fn fake_sys() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        let mk = |p: &str| fs::create_dir_all(root.join(p)).unwrap();
        let write = |p: &str, s: &str| fs::write(root.join(p), s).unwrap();
        let ln = |target: &str, link: &str| symlink(root.join(target), root.join(link)).unwrap();
        mk("class/tty");
        mk("bus/usb/drivers/cdc_acm");
        mk("bus/usb-serial/drivers/ftdi_sio");
        mk("bus/platform/drivers/serial8250");
        mk("bus/pnp/drivers/serial");
        // VTAP: /devices/usb1/1-2 (device) / 1-2:1.0 (interface) / tty/ttyACM0
        let vtap = "devices/usb1/1-2";
        mk(&format!("{vtap}/1-2:1.0/tty/ttyACM0"));
        write(&format!("{vtap}/idVendor"), "1FC9\n");
        write(&format!("{vtap}/idProduct"), "0117\n");
        write(&format!("{vtap}/serial"), "VT-0042\n");
        write(&format!("{vtap}/product"), "VTAP100\n");
        ln("bus/usb/drivers/cdc_acm", &format!("{vtap}/1-2:1.0/driver"));
        ln(&format!("{vtap}/1-2:1.0/tty/ttyACM0"), "class/tty/ttyACM0");
        ln(
            &format!("{vtap}/1-2:1.0"),
            &format!("{vtap}/1-2:1.0/tty/ttyACM0/device"),
        );
        // FTDI: device / interface / ttyUSB0 (usb-serial port) / tty/ttyUSB0
        let ftdi = "devices/usb1/1-3";
        mk(&format!("{ftdi}/1-3:1.0/ttyUSB0/tty/ttyUSB0"));
        write(&format!("{ftdi}/idVendor"), "0403\n");
        write(&format!("{ftdi}/idProduct"), "6001\n");
        ln(
            "bus/usb-serial/drivers/ftdi_sio",
            &format!("{ftdi}/1-3:1.0/ttyUSB0/driver"),
        );
        ln(
            &format!("{ftdi}/1-3:1.0/ttyUSB0/tty/ttyUSB0"),
            "class/tty/ttyUSB0",
        );
        ln(
            &format!("{ftdi}/1-3:1.0/ttyUSB0"),
            &format!("{ftdi}/1-3:1.0/ttyUSB0/tty/ttyUSB0/device"),
        );
        // Placeholder and real 8250 UARTs, and a virtual console.
        mk("devices/platform/serial8250/tty/ttyS1");
        ln(
            "bus/platform/drivers/serial8250",
            "devices/platform/serial8250/driver",
        );
        ln("devices/platform/serial8250/tty/ttyS1", "class/tty/ttyS1");
        ln(
            "devices/platform/serial8250",
            "devices/platform/serial8250/tty/ttyS1/device",
        );
        // The 6.x layout: a serial-base port device below the platform device.
        let base = "devices/platform/serial8250/serial8250:0/serial8250:0.2";
        mk(&format!("{base}/tty/ttyS2"));
        ln(&format!("{base}/tty/ttyS2"), "class/tty/ttyS2");
        ln(base, &format!("{base}/tty/ttyS2/device"));
        mk("devices/pnp0/00:05/tty/ttyS0");
        ln("bus/pnp/drivers/serial", "devices/pnp0/00:05/driver");
        ln("devices/pnp0/00:05/tty/ttyS0", "class/tty/ttyS0");
        ln("devices/pnp0/00:05", "devices/pnp0/00:05/tty/ttyS0/device");
        mk("devices/virtual/tty/tty1");
        ln("devices/virtual/tty/tty1", "class/tty/tty1");
        t
    }

    #[test]
    fn lists_real_ports_with_usb_ids() {
        let sys = fake_sys();
        let ports = list_in(sys.path(), Path::new("/dev"));
        let paths: Vec<_> = ports.iter().map(|p| p.path.to_str().unwrap()).collect();
        assert_eq!(paths, ["/dev/ttyACM0", "/dev/ttyS0", "/dev/ttyUSB0"]);
        assert_eq!(
            ports[0].usb,
            Some(UsbIds {
                vid: "1fc9".into(),
                pid: "0117".into(),
                serial: Some("VT-0042".into()),
                manufacturer: None,
                product: Some("VTAP100".into()),
            })
        );
        assert_eq!(ports[0].driver.as_deref(), Some("cdc_acm"));
        assert_eq!(ports[1].usb, None);
        assert_eq!(ports[2].usb.as_ref().unwrap().vid, "0403");
        assert_eq!(ports[2].driver.as_deref(), Some("ftdi_sio"));
    }

    #[test]
    fn no_sysfs_no_ports() {
        assert!(list_in(Path::new("/nonexistent"), Path::new("/dev")).is_empty());
    }
}
