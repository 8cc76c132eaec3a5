//! Third-party decoders run behind `catch_unwind`: a panic inside one (rqrr panics on some
//! real photos) becomes a failed attempt, not a dead process.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// What one guarded decoder call came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt<T> {
    Found(T),
    NotFound,
    /// The decoder panicked; the message is kept for the log.
    Panicked(String),
}

/// Runs `f`, turning a panic into [`Attempt::Panicked`]. The closure only reads the frame it
/// was given and builds its own state, so nothing half-updated can be observed after a panic
/// (which is why asserting unwind safety is sound here).
pub fn guarded<T>(f: impl FnOnce() -> Option<T>) -> Attempt<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Some(v)) => Attempt::Found(v),
        Ok(None) => Attempt::NotFound,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            tracing::warn!(panic = %msg, "QR decoder panicked; treated as no read");
            Attempt::Panicked(msg)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_attempt() {
        assert_eq!(guarded(|| Some(1)), Attempt::Found(1));
        assert_eq!(guarded::<u8>(|| None), Attempt::NotFound);
        let a = guarded::<u8>(|| panic!("boom {}", 7));
        assert_eq!(a, Attempt::Panicked("boom 7".into()));
    }
}
