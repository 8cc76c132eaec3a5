//! Virtual serial cables for the serial reader tests: socat joins two ptys, one end plays the
//! device (a VTAP, a barcode scanner), `passdesk serial watch` reads the other. Killing socat
//! is unplugging the device; starting it again with the same link paths is plugging it back.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::channel;
use std::time::Duration;

pub struct PtyPair {
    device: PathBuf,
    host: PathBuf,
    socat: Option<Child>,
}

impl PtyPair {
    /// A plugged-in cable with its two ends linked in `dir` (`device` and `host`).
    pub fn start(dir: &Path) -> Self {
        Self::start_at(dir.join("device"), dir.join("host"))
    }

    /// A plugged-in cable with its ends linked at these paths.
    pub fn start_at(device: PathBuf, host: PathBuf) -> Self {
        let mut pair = Self {
            device,
            host,
            socat: None,
        };
        pair.plug();
        pair
    }

    /// The end the simulated device writes to.
    pub fn device_path(&self) -> PathBuf {
        self.device.clone()
    }

    /// The end passdesk reads, as if it were /dev/ttyACM0.
    pub fn host_path(&self) -> PathBuf {
        self.host.clone()
    }

    /// Where the host end appears at the next plug (a replugged USB device may get another
    /// tty number).
    pub fn set_host_path(&mut self, host: PathBuf) {
        self.host = host;
    }

    /// Starts socat and returns once it relays.
    pub fn plug(&mut self) {
        assert!(self.socat.is_none(), "already plugged in");
        let link = |p: PathBuf| format!("pty,raw,echo=0,link={}", p.display());
        let mut child = Command::new("socat")
            .args(["-d", "-d"])
            .arg(link(self.device_path()))
            .arg(link(self.host_path()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start socat (scripts/lib/apt.sh installs it)");
        let stderr = child.stderr.take().unwrap();
        let (tx, ready) = channel();
        // Read socat's log to its end, so that it never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("starting data transfer loop") {
                    let _ = tx.send(());
                }
            }
        });
        ready
            .recv_timeout(Duration::from_secs(20))
            .expect("socat relaying within 20 s");
        self.socat = Some(child);
    }

    /// Stops socat as a clean exit (SIGTERM: it removes its links), like pulling the USB cable.
    pub fn unplug(&mut self) {
        let Some(mut child) = self.socat.take() else {
            return;
        };
        // SAFETY: kill(2) on a child we started and have not reaped yet.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = child.wait();
        // Should socat have left a link behind, the next plug must not trip over it.
        let _ = std::fs::remove_file(self.device_path());
        let _ = std::fs::remove_file(self.host_path());
    }

    /// The device end, for writing. Keep it open while writing a sequence.
    pub fn device(&self) -> Device {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            // Never become the test process's controlling terminal.
            .custom_flags(libc::O_NOCTTY)
            .open(self.device_path())
            .expect("open the device end of the pty pair");
        Device(file)
    }
}

impl Drop for PtyPair {
    fn drop(&mut self) {
        self.unplug();
    }
}

/// The simulated device writing to its end of the cable.
pub struct Device(File);

impl Device {
    pub fn send(&mut self, bytes: &[u8]) {
        self.0.write_all(bytes).expect("write to the pty");
        self.0.flush().expect("flush the pty");
    }
}
