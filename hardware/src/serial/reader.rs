//! The port shell: one thread per port reads bytes, hands them to the pure [`Decoder`] and
//! sends what comes out, plus connection changes, over a channel. A port that goes away (USB
//! unplugged, pty closed) is reported once and reopened as soon as it is back.

use super::decode::{Decoder, Read, ReadConfig};
use super::enumerate::Roots;
use super::port::PortSpec;
use super::reject::Rejected;
use crate::Scan;
use serialport::SerialPort;
use std::io::{self, Read as _};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// How often a missing port is looked for again: a replugged reader works within this.
pub const RETRY: Duration = Duration::from_millis(250);
/// A port that hangs up sooner than this after opening is waited for longer before the next
/// try (a tty that opens but is dead would otherwise flap connected / disconnected 4 times a
/// second).
const FLAP: Duration = Duration::from_secs(1);
/// The longest a read waits, so that a stop request is seen this fast.
const READ_WAIT: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderConfig {
    /// What scans from this port are attributed to.
    pub reader_id: String,
    pub port: PortSpec,
    pub baud: u32,
    pub read: ReadConfig,
    /// Where to look a USB device up.
    pub roots: Roots,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SerialEvent {
    /// The port is open and being read.
    Connected {
        reader: String,
        path: PathBuf,
    },
    /// The port is not there (at start) or went away; it is being looked for again.
    Disconnected {
        reader: String,
        reason: String,
    },
    Scan(Scan),
    /// A read that gave no value.
    Rejected {
        reader: String,
        rejected: Rejected,
    },
}

/// A running reader thread. Stops when told to, when dropped, or when nobody listens any more.
pub struct SerialReader {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SerialReader {
    pub fn spawn(cfg: ReaderConfig, events: Sender<SerialEvent>) -> io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("serial {}", cfg.reader_id))
            .spawn(move || {
                Worker {
                    cfg,
                    events,
                    stop: flag,
                }
                .run()
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops reading and closes the port; returns once the thread is gone (within ~100 ms).
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SerialReader {
    fn drop(&mut self) {
        self.halt();
    }
}

struct Worker {
    cfg: ReaderConfig,
    events: Sender<SerialEvent>,
    stop: Arc<AtomicBool>,
}

/// Why the pump loop ended.
enum End {
    Stopped,
    Lost(String),
}

impl Worker {
    fn run(self) {
        let mut decoder = Decoder::new(&self.cfg.read);
        // Say "disconnected" once per outage, not once per retry.
        let mut down_reported = false;
        while !self.stopped() {
            match self.open() {
                Ok((port, path)) => {
                    if !self.send(SerialEvent::Connected {
                        reader: self.cfg.reader_id.clone(),
                        path,
                    }) {
                        return;
                    }
                    let opened_at = Instant::now();
                    let end = self.pump(port, &mut decoder);
                    // A half-read frame from before the outage must not prefix the next read.
                    decoder.reset();
                    match end {
                        End::Stopped => return,
                        End::Lost(reason) => {
                            if !self.disconnected(reason) {
                                return;
                            }
                            down_reported = true;
                            if opened_at.elapsed() < FLAP {
                                self.pause(FLAP);
                            }
                        }
                    }
                }
                Err(reason) => {
                    if !down_reported {
                        if !self.disconnected(reason) {
                            return;
                        }
                        down_reported = true;
                    }
                }
            }
            self.pause(RETRY);
        }
    }

    fn open(&self) -> Result<(Box<dyn SerialPort>, PathBuf), String> {
        let path = self
            .cfg
            .port
            .resolve(&self.cfg.roots)
            .ok_or_else(|| format!("no serial port for {} is plugged in", self.cfg.port))?;
        let port = serialport::new(path.to_string_lossy(), self.cfg.baud)
            .timeout(READ_WAIT)
            .open()
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        Ok((port, path))
    }

    fn pump(&self, mut port: Box<dyn SerialPort>, decoder: &mut Decoder) -> End {
        let mut buf = [0u8; 4096];
        loop {
            if self.stopped() {
                return End::Stopped;
            }
            // Wake up in time to end an idle-terminated frame.
            let wait = decoder
                .idle_deadline()
                .map(|d| d.saturating_duration_since(Instant::now()))
                .map_or(READ_WAIT, |d| d.clamp(Duration::from_millis(1), READ_WAIT));
            if port.timeout() != wait && port.set_timeout(wait).is_err() {
                return End::Lost("cannot set the read timeout".into());
            }
            let reads = match port.read(&mut buf) {
                // A tty read returning nothing without a timeout: the other end hung up.
                Ok(0) => return End::Lost("the port closed".into()),
                Ok(n) => decoder.push(&buf[..n], Instant::now()),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => Vec::new(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return End::Lost(format!("read failed: {e}")),
            };
            let idle = decoder.flush_idle(Instant::now());
            for read in reads.into_iter().chain(idle) {
                if !self.send(self.event(read)) {
                    return End::Stopped;
                }
            }
        }
    }

    fn event(&self, read: Read) -> SerialEvent {
        let reader = self.cfg.reader_id.clone();
        match read {
            Read::Value { medium, value } => SerialEvent::Scan(Scan {
                reader_id: reader,
                medium,
                value: value.into_bytes(),
                at: SystemTime::now(),
            }),
            Read::Rejected(rejected) => SerialEvent::Rejected { reader, rejected },
        }
    }

    fn disconnected(&self, reason: String) -> bool {
        self.send(SerialEvent::Disconnected {
            reader: self.cfg.reader_id.clone(),
            reason,
        })
    }

    /// False when nobody listens any more: the thread then ends.
    fn send(&self, event: SerialEvent) -> bool {
        self.events.send(event).is_ok()
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn pause(&self, total: Duration) {
        let until = Instant::now() + total;
        while !self.stopped() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(25).min(total));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serial::{Mapping, PortSpec, Terminator, TypeCharAt};
    use crate::{Medium, NfcKind};
    use std::io::Write;
    use std::sync::mpsc::{channel, Receiver};

    fn next(rx: &Receiver<SerialEvent>) -> SerialEvent {
        rx.recv_timeout(Duration::from_secs(20))
            .expect("an event within 20 s")
    }

    /// The shell on an in-process pty: connect, read, hang-up, stop.
    #[test]
    fn reads_a_pty_reports_its_hang_up_and_stops() {
        let (mut master, slave) = serialport::TTYPort::pair().expect("a pty pair");
        let path = PathBuf::from(slave.name().expect("the pty's name"));
        // Only the reader opens the device end.
        drop(slave);
        let (tx, rx) = channel();
        let reader = SerialReader::spawn(
            ReaderConfig {
                reader_id: "counter-1".into(),
                port: PortSpec::Path(path.clone()),
                baud: 9600,
                read: ReadConfig {
                    terminator: Terminator::Cr,
                    mapping: Mapping::Vtap(TypeCharAt::Leading),
                    ..ReadConfig::default()
                },
                roots: Roots::default(),
            },
            tx,
        )
        .unwrap();
        assert_eq!(
            next(&rx),
            SerialEvent::Connected {
                reader: "counter-1".into(),
                path
            }
        );
        master.write_all(b"Gpass-7\r\xFF\r").unwrap();
        match next(&rx) {
            SerialEvent::Scan(s) => {
                assert_eq!(s.reader_id, "counter-1");
                assert_eq!(s.medium, Medium::Nfc(NfcKind::SmartTap));
                assert_eq!(s.value, b"pass-7");
            }
            e => panic!("{e:?}"),
        }
        assert!(matches!(next(&rx), SerialEvent::Rejected { .. }));
        drop(master);
        assert!(matches!(next(&rx), SerialEvent::Disconnected { .. }));
        reader.stop();
        // The thread is gone and has dropped its sender: nothing more comes.
        assert!(rx.recv().is_err());
    }
}
