//! Cutting a serial byte stream into frames (one frame, one read). Pure: bytes and instants in,
//! frames out, so split writes, bursts and over-long lines are unit-tested without a port.

use super::reject::{RejectReason, Rejected, PREVIEW_LEN};
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};
use thiserror::Error;

/// Where one read ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminator {
    Cr,
    Lf,
    CrLf,
    /// CR or LF, whichever comes: scanners that send "CR and/or LF" (blank frames are skipped).
    Any,
    /// No terminator byte: a frame ends after this long without a byte (devices that only
    /// pause between reads).
    Idle(Duration),
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("terminator must be cr, lf, crlf, any or idle:MS, not {0:?}")]
pub struct BadTerminator(String);

impl FromStr for Terminator {
    type Err = BadTerminator;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cr" => Ok(Self::Cr),
            "lf" => Ok(Self::Lf),
            "crlf" => Ok(Self::CrLf),
            "any" => Ok(Self::Any),
            other => other
                .strip_prefix("idle:")
                .and_then(|ms| ms.parse::<u64>().ok())
                .filter(|ms| *ms > 0)
                .map(|ms| Self::Idle(Duration::from_millis(ms)))
                .ok_or_else(|| BadTerminator(s.to_owned())),
        }
    }
}

impl fmt::Display for Terminator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cr => f.write_str("cr"),
            Self::Lf => f.write_str("lf"),
            Self::CrLf => f.write_str("crlf"),
            Self::Any => f.write_str("any"),
            Self::Idle(d) => write!(f, "idle:{}", d.as_millis()),
        }
    }
}

/// The same limit as the check-in engine's: a longer value could never be a pass.
pub const DEFAULT_MAX_FRAME: usize = 4096;

/// Splits a byte stream into frames. Holds at most `max_len` (+1) bytes whatever comes in.
#[derive(Debug)]
pub struct Deframer {
    terminator: Terminator,
    max_len: usize,
    buf: Vec<u8>,
    /// In an over-long frame: drop bytes until its end.
    discarding: bool,
    last_byte_at: Option<Instant>,
}

impl Deframer {
    pub fn new(terminator: Terminator, max_len: usize) -> Self {
        Self {
            terminator,
            max_len: max_len.max(1),
            buf: Vec::new(),
            discarding: false,
            last_byte_at: None,
        }
    }

    /// Feeds bytes read at `now`; returns the frames (or too-long rejections) they complete.
    pub fn push(&mut self, bytes: &[u8], now: Instant) -> Vec<Result<Vec<u8>, Rejected>> {
        let mut out = Vec::new();
        // Bytes after a pause longer than the idle time start a new frame, even when the
        // caller did not ask for the idle end in time.
        out.extend(self.flush_idle(now));
        for &b in bytes {
            self.byte(b, &mut out);
        }
        if !bytes.is_empty() {
            self.last_byte_at = Some(now);
        }
        out
    }

    /// With an idle terminator: the frame that ended because nothing came since its last byte.
    pub fn flush_idle(&mut self, now: Instant) -> Option<Result<Vec<u8>, Rejected>> {
        let idle = match self.terminator {
            Terminator::Idle(d) => d,
            _ => return None,
        };
        let last = self.last_byte_at?;
        if now.saturating_duration_since(last) < idle {
            return None;
        }
        self.last_byte_at = None;
        self.end_frame()
    }

    /// When [`Self::flush_idle`] may next return a frame (idle terminator with bytes pending).
    pub fn idle_deadline(&self) -> Option<Instant> {
        match self.terminator {
            Terminator::Idle(d) => self.last_byte_at.map(|t| t + d),
            _ => None,
        }
    }

    /// Forgets a partial frame (the port went away mid-read).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.discarding = false;
        self.last_byte_at = None;
    }

    fn byte(&mut self, b: u8, out: &mut Vec<Result<Vec<u8>, Rejected>>) {
        let ends = match self.terminator {
            Terminator::Cr => b == b'\r',
            Terminator::Lf => b == b'\n',
            Terminator::Any => b == b'\r' || b == b'\n',
            Terminator::CrLf => {
                if b == b'\n' && self.buf.last() == Some(&b'\r') {
                    self.buf.pop();
                    true
                } else {
                    false
                }
            }
            Terminator::Idle(_) => false,
        };
        if ends {
            out.extend(self.end_frame());
            return;
        }
        if self.discarding {
            // Keep only a trailing CR, to see a CRLF that ends the over-long frame.
            self.buf.clear();
            if b == b'\r' {
                self.buf.push(b);
            }
            return;
        }
        self.buf.push(b);
        // A CR may still turn out to be half of the CRLF terminator: it does not count.
        let content =
            self.buf.len() - usize::from(self.terminator == Terminator::CrLf && b == b'\r');
        if content > self.max_len {
            out.push(Err(Rejected::new(
                RejectReason::TooLong { max: self.max_len },
                &self.buf[..PREVIEW_LEN.min(self.buf.len())],
            )));
            self.buf.clear();
            self.discarding = true;
        }
    }

    fn end_frame(&mut self) -> Option<Result<Vec<u8>, Rejected>> {
        let frame = std::mem::take(&mut self.buf);
        if std::mem::take(&mut self.discarding) || frame.is_empty() {
            // The over-long frame was reported when it overflowed; blank lines are no reads.
            return None;
        }
        Some(Ok(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(t: Terminator, chunks: &[&[u8]]) -> Vec<Result<Vec<u8>, RejectReason>> {
        let mut d = Deframer::new(t, 8);
        let now = Instant::now();
        chunks
            .iter()
            .flat_map(|c| d.push(c, now))
            .map(|r| r.map_err(|e| e.reason))
            .collect()
    }

    fn ok(s: &str) -> Result<Vec<u8>, RejectReason> {
        Ok(s.as_bytes().to_vec())
    }

    #[test]
    fn terminators_parse_and_print() {
        for s in ["cr", "lf", "crlf", "any", "idle:150"] {
            assert_eq!(s.parse::<Terminator>().unwrap().to_string(), s);
        }
        assert!("idle:0".parse::<Terminator>().is_err());
        assert!("idle:x".parse::<Terminator>().is_err());
        assert!("tab".parse::<Terminator>().is_err());
    }

    #[test]
    fn each_terminator_cuts_where_it_should() {
        assert_eq!(frames(Terminator::Cr, &[b"ab\rcd\r"]), [ok("ab"), ok("cd")]);
        assert_eq!(frames(Terminator::Lf, &[b"ab\ncd\n"]), [ok("ab"), ok("cd")]);
        assert_eq!(
            frames(Terminator::CrLf, &[b"a\rb\r\ncd\r\n"]),
            [ok("a\rb"), ok("cd")]
        );
        assert_eq!(
            frames(Terminator::Any, &[b"ab\r\ncd\n\n\ref\r"]),
            [ok("ab"), ok("cd"), ok("ef")]
        );
    }

    #[test]
    fn split_writes_make_one_frame_and_bursts_several() {
        assert_eq!(
            frames(Terminator::CrLf, &[b"a", b"bc", b"\r", b"\n"]),
            [ok("abc")]
        );
        assert_eq!(
            frames(Terminator::Cr, &[b"12\r34\r5", b"6\r"]),
            [ok("12"), ok("34"), ok("56")]
        );
        // Nothing until the terminator arrives.
        assert!(frames(Terminator::Lf, &[b"abc"]).is_empty());
    }

    #[test]
    fn an_over_long_line_is_rejected_once_and_the_next_one_read() {
        let long = vec![b'x'; 65536];
        let got = frames(Terminator::Cr, &[&long, &long, b"\rok\r"]);
        assert_eq!(got, [Err(RejectReason::TooLong { max: 8 }), ok("ok")]);
        // Exactly the maximum is fine, one more is not; a CRLF's CR does not count.
        assert_eq!(
            frames(Terminator::CrLf, &[b"12345678\r\n"]),
            [ok("12345678")]
        );
        assert_eq!(
            frames(Terminator::CrLf, &[b"123456789\r\nok\r\n"]),
            [Err(RejectReason::TooLong { max: 8 }), ok("ok")]
        );
        // The CRLF ending an over-long frame may be split across reads.
        assert_eq!(
            frames(Terminator::CrLf, &[b"123456789abc\r", b"\nok\r\n"]),
            [Err(RejectReason::TooLong { max: 8 }), ok("ok")]
        );
    }

    #[test]
    fn memory_stays_bounded_without_terminators() {
        let mut d = Deframer::new(Terminator::Lf, 4096);
        let now = Instant::now();
        let chunk = vec![0xAB; 1000];
        let mut rejected = 0;
        for _ in 0..1000 {
            rejected += d.push(&chunk, now).len();
            assert!(d.buf.capacity() <= 8192, "{}", d.buf.capacity());
        }
        assert_eq!(rejected, 1);
    }

    #[test]
    fn idle_ends_a_frame_after_a_pause() {
        let ms = Duration::from_millis;
        let mut d = Deframer::new(Terminator::Idle(ms(50)), 16);
        let t0 = Instant::now();
        assert!(d.push(b"ab", t0).is_empty());
        assert!(d.push(b"cd", t0 + ms(30)).is_empty());
        assert_eq!(d.idle_deadline(), Some(t0 + ms(80)));
        assert_eq!(d.flush_idle(t0 + ms(79)), None);
        assert_eq!(d.flush_idle(t0 + ms(80)), Some(Ok(b"abcd".to_vec())));
        assert_eq!(d.idle_deadline(), None);
        // Bytes after a long pause end the pending frame first even without a flush.
        assert!(d.push(b"x", t0 + ms(100)).is_empty());
        assert_eq!(d.push(b"y", t0 + ms(200)), [Ok(b"x".to_vec())]);
        // An over-long idle frame: rejected once, then dropped until the pause.
        let mut d = Deframer::new(Terminator::Idle(ms(50)), 4);
        let got = d.push(b"0123456789", t0);
        assert_eq!(got.len(), 1);
        assert_eq!(d.flush_idle(t0 + ms(60)), None);
        assert_eq!(d.push(b"ok", t0 + ms(70)), []);
        assert_eq!(d.flush_idle(t0 + ms(200)), Some(Ok(b"ok".to_vec())));
    }

    #[test]
    fn reset_drops_a_partial_frame() {
        let mut d = Deframer::new(Terminator::Cr, 8);
        let now = Instant::now();
        d.push(b"half", now);
        d.reset();
        assert_eq!(d.push(b"new\r", now), [Ok(b"new".to_vec())]);
    }
}
