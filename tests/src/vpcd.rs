//! Virtual cards on a real pcscd for the end-to-end tests. The vpcd client itself lives in
//! `passdesk_hardware::nfc::sim::vpcd` (the `bench nfc` command uses it too); this adds what
//! only tests do: take turns on the machine-wide readers and start pcscd when it is not running.

use crate::events::WAIT;
pub use passdesk_hardware::nfc::sim::vpcd::{InsertedCard, ATR, READERS};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

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
        "pcscd shows no \"{}\" reader: install vsmartcard-vpcd (scripts/test.sh does) and restart pcscd; \
         if it is installed, vpcd's ports 35963-35964 were taken when pcscd started (scripts/test.sh \
         reserves them: scripts/lib/apt.sh, passdesk_reserve_vpcd_ports)",
        READERS[0].0
    );
}

/// Takes `card` off `reader` and returns once pcscd reports the reader empty (at its next
/// presence poll, ~400 ms later): a card put on the reader after this is a new tap, never
/// the same one still there. Returns the APDUs the card answered.
pub fn take_away(card: InsertedCard, reader: &str) -> usize {
    let apdus = card.remove();
    let empty = passdesk_hardware::pcsc::Reader::open(reader)
        .and_then(|r| r.wait_for_absence(WAIT))
        .unwrap_or_else(|e| panic!("watching {reader} for the card to go: {e}"));
    assert!(
        empty,
        "pcscd still shows a card on {reader} {} s after it was taken away",
        WAIT.as_secs()
    );
    apdus
}
