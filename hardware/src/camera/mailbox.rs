//! A single-slot mailbox between the capture thread and the decoder: the newest frame replaces
//! the one waiting, so a slow decoder always works on what the camera sees now and memory
//! never grows, whatever the frame rate. (A channel would queue frames and fall behind.)

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What [`Mailbox::take`] came back with.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken<T> {
    Item(T),
    /// Nothing arrived within the wait.
    Empty,
    /// Closed: nothing will arrive any more.
    Closed,
}

#[derive(Debug)]
struct Slot<T> {
    item: Option<T>,
    closed: bool,
    put: u64,
    replaced: u64,
    /// Takers waiting for an item right now (what a test waits for before it puts one).
    waiting: usize,
}

/// Latest item wins; at most one item is ever held.
#[derive(Debug)]
pub struct Mailbox<T> {
    slot: Mutex<Slot<T>>,
    ready: Condvar,
}

impl<T> Default for Mailbox<T> {
    fn default() -> Self {
        Self {
            slot: Mutex::new(Slot {
                item: None,
                closed: false,
                put: 0,
                replaced: 0,
                waiting: 0,
            }),
            ready: Condvar::new(),
        }
    }
}

impl<T> Mailbox<T> {
    pub fn new() -> Self {
        Self::default()
    }

    // A panic while holding the lock cannot leave the slot half-written (every write is one
    // assignment), so a poisoned lock is still good to use.
    fn lock(&self) -> MutexGuard<'_, Slot<T>> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Leaves `item` for the taker, dropping the one still waiting (if any). Returns whether
    /// one was dropped. After [`Mailbox::close`] the item is dropped at once.
    pub fn put(&self, item: T) -> bool {
        let mut slot = self.lock();
        if slot.closed {
            return false;
        }
        slot.put += 1;
        let replaced = slot.item.replace(item).is_some();
        if replaced {
            slot.replaced += 1;
        }
        drop(slot);
        self.ready.notify_one();
        replaced
    }

    /// Takes the waiting item, waiting up to `wait` for one.
    pub fn take(&self, wait: Duration) -> Taken<T> {
        let deadline = Instant::now() + wait;
        let mut slot = self.lock();
        loop {
            if let Some(item) = slot.item.take() {
                return Taken::Item(item);
            }
            if slot.closed {
                return Taken::Closed;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Taken::Empty;
            }
            slot.waiting += 1;
            slot = self
                .ready
                .wait_timeout(slot, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
            slot.waiting -= 1;
        }
    }

    /// No more items: takers get [`Taken::Closed`] once the slot is empty. The waiting item,
    /// if any, is dropped.
    pub fn close(&self) {
        let mut slot = self.lock();
        slot.closed = true;
        slot.item = None;
        drop(slot);
        self.ready.notify_all();
    }

    /// Items put so far, and how many of them were replaced before being taken.
    pub fn counts(&self) -> (u64, u64) {
        let slot = self.lock();
        (slot.put, slot.replaced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn the_latest_item_wins_and_one_at_most_is_held() {
        let m = Mailbox::new();
        assert!(!m.put(1));
        assert!(m.put(2));
        assert!(m.put(3));
        assert_eq!(m.take(Duration::ZERO), Taken::Item(3));
        assert_eq!(m.take(Duration::from_millis(10)), Taken::Empty);
        assert_eq!(m.counts(), (3, 2));
    }

    /// Until a taker waits on the slot (each take below waits up to a minute, so a taker
    /// is there long before this gives up).
    fn until_a_taker_waits<T>(m: &Mailbox<T>) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while m.lock().waiting == 0 {
            assert!(Instant::now() < deadline, "no taker waited on the mailbox");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_waiting_taker_is_woken_and_close_ends_it() {
        let m = Arc::new(Mailbox::new());
        let (first_tx, first_rx) = std::sync::mpsc::channel();
        let taker = {
            let m = m.clone();
            std::thread::spawn(move || {
                first_tx
                    .send(m.take(Duration::from_secs(60)))
                    .expect("the test listens");
                m.take(Duration::from_secs(60))
            })
        };
        until_a_taker_waits(&m);
        m.put("frame");
        assert_eq!(
            first_rx.recv_timeout(Duration::from_secs(30)),
            Ok(Taken::Item("frame"))
        );
        until_a_taker_waits(&m);
        m.close();
        assert_eq!(taker.join().unwrap(), Taken::Closed);
        assert!(!m.put("late"));
        assert_eq!(m.take(Duration::ZERO), Taken::Closed);
    }

    #[test]
    fn a_fast_producer_never_grows_memory() {
        let m = Mailbox::new();
        for i in 0..100_000 {
            m.put(
                vec![0u8; 16]
                    .into_iter()
                    .chain([i as u8])
                    .collect::<Vec<_>>(),
            );
        }
        // One held, however many were put.
        assert!(matches!(m.take(Duration::ZERO), Taken::Item(_)));
        assert_eq!(m.take(Duration::ZERO), Taken::Empty);
    }
}
