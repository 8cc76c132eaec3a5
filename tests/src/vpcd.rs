//! Virtual cards on a real pcscd for the end-to-end tests. The vpcd client itself lives in
//! `passdesk_hardware::nfc::sim::vpcd` (the `bench nfc` command uses it too); this adds what
//! only tests do: take turns on the machine-wide readers and start pcscd when it is not running.

use crate::events::{until, WAIT};
use crate::service::TestApp;
pub use passdesk_hardware::nfc::sim::vpcd::{InsertedCard, ATR, READERS};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The vpcd readers are machine-wide: tests that use them take turns.
pub fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes sure pcscd runs and shows the vpcd readers, starting it when it is not running (as
/// root, which CI is), and keeps it running while this test process lives.
///
/// The test command holds one pcscd for its whole run (`scripts/lib/pcscd.sh`). A pcscd
/// started here, or the machine's own, runs with `--auto-exit`: it leaves 60 s after its last
/// client, so a test binary that starts just then finds a pcscd that answers and is gone a
/// moment later. This process therefore holds a PC/SC context from the first call on (pcscd
/// does not leave while a client is connected), and a pcscd that left all the same is started
/// again by the next call: [`until_reader_connected`] calls this while it waits.
pub fn ensure_pcscd() {
    static KEEPER: Mutex<Keeper> = Mutex::new(Keeper {
        context: None,
        child: None,
    });
    let mut keeper = KEEPER.lock().unwrap_or_else(|e| e.into_inner());
    let has_vpcd = || {
        passdesk_hardware::pcsc::list()
            .map(|r| r.iter().any(|r| r.name == READERS[0].0))
            .unwrap_or(false)
    };
    if has_vpcd() {
        keeper.hold();
        return;
    }
    if passdesk_hardware::pcsc::list().is_err() && !keeper.child_starting() {
        keeper.context = None;
        let spawned = Command::new("pcscd")
            .args(["--foreground", "--auto-exit"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match spawned {
            Ok(child) => keeper.child = Some(child),
            Err(e) => panic!("pcscd is not running and cannot be started ({e}): run scripts/test.sh, which installs pcscd and vsmartcard-vpcd"),
        }
    }
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if has_vpcd() {
            keeper.hold();
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "pcscd shows no \"{}\" reader: install vsmartcard-vpcd (scripts/test.sh does) and restart pcscd; \
         if it is installed, vpcd's ports 35963-35964 were taken when pcscd started (scripts/test.sh \
         reserves them: scripts/lib/pcscd.sh, passdesk_reserve_vpcd_ports)",
        READERS[0].0
    );
}

/// What this process keeps of pcscd: a context held open, and the pcscd it started, if any.
struct Keeper {
    context: Option<pcsc::Context>,
    child: Option<Child>,
}

impl Keeper {
    /// Holds a context on the running pcscd, unless the one held still answers.
    fn hold(&mut self) {
        let answers = |c: &pcsc::Context| match c.list_readers_len() {
            Ok(_) | Err(pcsc::Error::NoReadersAvailable) => true,
            Err(_) => false,
        };
        if !self.context.as_ref().is_some_and(answers) {
            self.context = pcsc::Context::establish(pcsc::Scope::User).ok();
        }
    }

    /// The pcscd this process started is still running (and may not be listening yet).
    fn child_starting(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }
}

/// Waits until the counter's `/status` shows the reader `reader_id` connected: taps from then
/// on reach its service. Sees to pcscd while it waits (see [`ensure_pcscd`]); the counter
/// reconnects to a pcscd started again at its next try, every 2 s.
#[track_caller]
pub fn until_reader_connected(app: &TestApp, reader_id: &str) {
    until(
        &format!("the reader {reader_id} connected on /status"),
        || {
            ensure_pcscd();
            let status = app.get("/api/v1/status", &app.reader_key);
            status.body["data"]["attributes"]["devices"]
                .as_array()?
                .iter()
                .any(|d| d["readerId"] == reader_id && d["connected"] == true)
                .then_some(())
        },
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
