//! Virtual cards on a real pcscd: a simulated phone or tag plugged into vpcd (Debian
//! `vsmartcard-vpcd`), which shows up as the reader "Virtual PCD 00 00" (port 35963) or
//! "Virtual PCD 00 01" (port 35964).
//!
//! vpcd protocol: every message either way is `u16 BE length ‖ bytes`. A 1-byte message from
//! vpcd is control (`00` off, `01` on, `02` reset, `04` send your ATR); longer ones are command
//! APDUs, answered with `data ‖ SW`. Connecting inserts the card, closing removes it.

use passdesk_hardware::nfc::sim::VirtualCard;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub const READERS: [(&str, u16); 2] = [("Virtual PCD 00 00", 35963), ("Virtual PCD 00 01", 35964)];
/// An ATR as vpcd's own examples use.
pub const ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];

/// A virtual card in a vpcd reader, answering on its own thread until [`InsertedCard::remove`].
pub struct InsertedCard {
    stream: TcpStream,
    apdus: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl InsertedCard {
    pub fn insert(port: u16, mut card: impl VirtualCard + Send + 'static) -> io::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        let apdus = Arc::new(AtomicUsize::new(0));
        let (mut s, count) = (stream.try_clone()?, apdus.clone());
        let thread = std::thread::spawn(move || {
            // Ends when vpcd or `remove` closes the socket.
            let _ = serve(&mut s, &mut card, &count);
        });
        Ok(Self {
            stream,
            apdus,
            thread: Some(thread),
        })
    }

    /// Takes the card away; returns how many APDUs it answered.
    pub fn remove(mut self) -> usize {
        self.close();
        self.apdus.load(Ordering::SeqCst)
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

fn serve(s: &mut TcpStream, card: &mut dyn VirtualCard, count: &AtomicUsize) -> io::Result<()> {
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
                count.fetch_add(1, Ordering::SeqCst);
                card.respond(apdu)
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

/// The vpcd readers are machine-wide: tests that use them take turns.
pub fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes sure pcscd runs and shows the vpcd readers, starting it when it is not running (as
/// root, which CI is; `-x`: it exits by itself 60 s after its last client).
pub fn ensure_pcscd() {
    static STARTED: Mutex<bool> = Mutex::new(false);
    let mut started = STARTED.lock().unwrap_or_else(|e| e.into_inner());
    let has_vpcd = || {
        passdesk_hardware::pcsc::list()
            .map(|r| r.iter().any(|r| r.name == READERS[0].0))
            .unwrap_or(false)
    };
    if has_vpcd() {
        return;
    }
    if !*started && passdesk_hardware::pcsc::list().is_err() {
        let spawned = Command::new("pcscd")
            .args(["--foreground", "--auto-exit"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if let Err(e) = spawned {
            panic!("pcscd is not running and cannot be started ({e}): run scripts/test.sh, which installs pcscd and vsmartcard-vpcd");
        }
        *started = true;
    }
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if has_vpcd() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "pcscd shows no \"{}\" reader: install vsmartcard-vpcd (scripts/test.sh does) and restart pcscd",
        READERS[0].0
    );
}
