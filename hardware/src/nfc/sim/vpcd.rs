//! Virtual cards on a real pcscd: a simulated phone or tag plugged into vpcd (Debian
//! `vsmartcard-vpcd`), which shows up as the reader "Virtual PCD 00 00" (port 35963) or
//! "Virtual PCD 00 01" (port 35964). Used by the end-to-end tests and by `passdesk bench nfc`.
//!
//! vpcd protocol: every message either way is `u16 BE length ‖ bytes`. A 1-byte message from
//! vpcd is control (`00` off, `01` on, `02` reset, `04` send your ATR); longer ones are command
//! APDUs, answered with `data ‖ SW`. Connecting inserts the card, closing removes it.

use super::VirtualCard;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// vpcd's two default slots: reader name and the TCP port its driver listens on.
pub const READERS: [(&str, u16); 2] = [("Virtual PCD 00 00", 35963), ("Virtual PCD 00 01", 35964)];
/// An ATR as vpcd's own examples use.
pub const ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];

/// What the card on the other end of vpcd has seen so far.
#[derive(Debug, Default)]
struct Stats {
    apdus: AtomicUsize,
    /// Time spent inside the simulated card's `respond`: the phone's own work, which a real
    /// phone does on its own CPU, not the host's.
    card_nanos: AtomicU64,
    /// Every command APDU, when recording was asked for.
    log: Option<Mutex<Vec<Vec<u8>>>>,
}

/// A virtual card in a vpcd reader, answering on its own thread until [`InsertedCard::remove`].
pub struct InsertedCard {
    stream: TcpStream,
    stats: Arc<Stats>,
    thread: Option<JoinHandle<()>>,
}

impl InsertedCard {
    /// Plugs `card` into the vpcd slot listening on `port`.
    pub fn insert(port: u16, card: impl VirtualCard + Send + 'static) -> io::Result<Self> {
        Self::start(port, card, Stats::default())
    }

    /// Like [`InsertedCard::insert`], and keeps every command APDU for [`InsertedCard::commands`].
    pub fn insert_recording(
        port: u16,
        card: impl VirtualCard + Send + 'static,
    ) -> io::Result<Self> {
        Self::start(
            port,
            card,
            Stats {
                log: Some(Mutex::new(Vec::new())),
                ..Stats::default()
            },
        )
    }

    fn start(
        port: u16,
        mut card: impl VirtualCard + Send + 'static,
        stats: Stats,
    ) -> io::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        let stats = Arc::new(stats);
        let (mut s, st) = (stream.try_clone()?, stats.clone());
        let thread = std::thread::Builder::new()
            .name(format!("vpcd-card-{port}"))
            .spawn(move || {
                // Ends when vpcd or `remove` closes the socket.
                let _ = serve(&mut s, &mut card, &st);
            })?;
        Ok(Self {
            stream,
            stats,
            thread: Some(thread),
        })
    }

    /// Command APDUs answered so far.
    pub fn apdus(&self) -> usize {
        self.stats.apdus.load(Ordering::SeqCst)
    }

    /// Time the simulated card spent computing its answers so far.
    pub fn card_time(&self) -> Duration {
        Duration::from_nanos(self.stats.card_nanos.load(Ordering::SeqCst))
    }

    /// The command APDUs received so far (empty unless inserted with `insert_recording`).
    pub fn commands(&self) -> Vec<Vec<u8>> {
        self.stats
            .log
            .as_ref()
            .map(|l| l.lock().unwrap_or_else(|e| e.into_inner()).clone())
            .unwrap_or_default()
    }

    /// Takes the card away; returns how many APDUs it answered.
    pub fn remove(mut self) -> usize {
        self.close();
        self.apdus()
    }

    fn close(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for InsertedCard {
    fn drop(&mut self) {
        self.close();
    }
}

fn serve(s: &mut TcpStream, card: &mut dyn VirtualCard, stats: &Stats) -> io::Result<()> {
    loop {
        // Debian's vpcd writes the length and the body separately: without quick ACKs every
        // APDU would wait for the delayed-ACK timer (~40 ms).
        quickack(s);
        let mut len = [0u8; 2];
        s.read_exact(&mut len)?;
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        quickack(s);
        s.read_exact(&mut msg)?;
        let answer = match msg.as_slice() {
            [0x04] => ATR.to_vec(),
            [_] => continue, // power off / on / reset: nothing to answer
            apdu => {
                if let Some(log) = &stats.log {
                    log.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(apdu.to_vec());
                }
                let started = Instant::now();
                let answer = card.respond(apdu);
                stats
                    .card_nanos
                    .fetch_add(started.elapsed().as_nanos() as u64, Ordering::SeqCst);
                stats.apdus.fetch_add(1, Ordering::SeqCst);
                answer
            }
        };
        let mut out = (answer.len() as u16).to_be_bytes().to_vec();
        out.extend_from_slice(&answer);
        s.write_all(&out)?;
    }
}

fn quickack(s: &TcpStream) {
    let one: libc::c_int = 1;
    // SAFETY: a valid socket descriptor and a correctly sized int option value.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// Why the vpcd readers cannot be used, in words that say what to install or start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VpcdError {
    #[error(
        "{0}; start it: systemctl start pcscd.socket, or (as root) pcscd --foreground --auto-exit"
    )]
    NoPcscd(String),
    #[error("pcscd shows no \"{0}\" reader: install vsmartcard-vpcd (apt-get install vsmartcard-vpcd) and restart pcscd")]
    NoVpcd(&'static str),
}

/// The reader name and port of vpcd slot `slot` (0 or 1), checked to be there.
pub fn slot(slot: usize) -> Result<(&'static str, u16), VpcdError> {
    let (name, port) = READERS[slot.min(READERS.len() - 1)];
    let readers = crate::pcsc::list().map_err(|e| VpcdError::NoPcscd(e.to_string()))?;
    if !readers.iter().any(|r| r.name == name) {
        return Err(VpcdError::NoVpcd(name));
    }
    Ok((name, port))
}
