//! A fake sysfs for USB serial devices: what the kernel shows for a CDC ACM device (a VTAP),
//! enough for `passdesk serial` to find a port by VID:PID. Passdesk reads it when
//! `PASSDESK_SYS_ROOT` points at it.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

/// Adds USB device `vid:pid` (with `serial`) whose CDC interface is tty `tty`, as
/// `/sys/class/tty/<tty>` → `devices/usb1/1-2/1-2:1.0/tty/<tty>`.
pub fn plug_usb_tty(sys: &Path, tty: &str, vid: &str, pid: &str, serial: &str) {
    let usb = sys.join("devices/usb1/1-2");
    let iface = usb.join("1-2:1.0");
    let node = iface.join("tty").join(tty);
    fs::create_dir_all(&node).unwrap();
    fs::create_dir_all(sys.join("class/tty")).unwrap();
    for (file, text) in [("idVendor", vid), ("idProduct", pid), ("serial", serial)] {
        fs::write(usb.join(file), format!("{text}\n")).unwrap();
    }
    let _ = fs::remove_file(node.join("device"));
    symlink(&iface, node.join("device")).unwrap();
    symlink(&node, sys.join("class/tty").join(tty)).unwrap();
}

/// Removes what [`plug_usb_tty`] added, as the kernel does on unplug.
pub fn unplug_usb_tty(sys: &Path, tty: &str) {
    let _ = fs::remove_file(sys.join("class/tty").join(tty));
    let _ = fs::remove_dir_all(sys.join("devices/usb1/1-2"));
}
