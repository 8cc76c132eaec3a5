//! Bytes from a port to reads: framing, then affixes, then the VTAP / scanner mapping. Pure; the
//! port shell feeds it whatever `read` returned and when.

use super::framing::{Deframer, Terminator, DEFAULT_MAX_FRAME};
use super::message::Affixes;
use super::reject::Rejected;
use super::vtap::Mapping;
use crate::Medium;
use std::time::Instant;

/// How to read one serial device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadConfig {
    pub terminator: Terminator,
    /// Longest frame kept, terminator and nothing else excluded (prefix and postfix count).
    pub max_len: usize,
    pub affixes: Affixes,
    pub mapping: Mapping,
}

impl Default for ReadConfig {
    fn default() -> Self {
        Self {
            terminator: Terminator::Any,
            max_len: DEFAULT_MAX_FRAME,
            affixes: Affixes::default(),
            mapping: Mapping::default(),
        }
    }
}

/// One read: a value, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    Value { medium: Medium, value: String },
    Rejected(Rejected),
}

#[derive(Debug)]
pub struct Decoder {
    deframer: Deframer,
    affixes: Affixes,
    mapping: Mapping,
}

impl Decoder {
    pub fn new(cfg: &ReadConfig) -> Self {
        Self {
            deframer: Deframer::new(cfg.terminator, cfg.max_len),
            affixes: cfg.affixes.clone(),
            mapping: cfg.mapping,
        }
    }

    pub fn push(&mut self, bytes: &[u8], now: Instant) -> Vec<Read> {
        self.deframer
            .push(bytes, now)
            .into_iter()
            .map(|f| self.read(f))
            .collect()
    }

    pub fn flush_idle(&mut self, now: Instant) -> Option<Read> {
        self.deframer.flush_idle(now).map(|f| self.read(f))
    }

    pub fn idle_deadline(&self) -> Option<Instant> {
        self.deframer.idle_deadline()
    }

    pub fn reset(&mut self) {
        self.deframer.reset();
    }

    fn read(&self, frame: Result<Vec<u8>, Rejected>) -> Read {
        let frame = match frame {
            Ok(f) => f,
            Err(r) => return Read::Rejected(r),
        };
        match self
            .affixes
            .text(&frame)
            .and_then(|text| self.mapping.apply(text))
        {
            Ok((medium, value)) => Read::Value {
                medium,
                value: value.to_owned(),
            },
            Err(reason) => Read::Rejected(Rejected::new(reason, &frame)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serial::reject::RejectReason;
    use crate::serial::vtap::TypeCharAt;
    use crate::NfcKind;

    #[test]
    fn a_vtap_stream_with_affixes() {
        let cfg = ReadConfig {
            terminator: Terminator::Cr,
            affixes: Affixes {
                prefix: b"\x02".to_vec(),
                postfix: b"\x03".to_vec(),
            },
            mapping: Mapping::Vtap(TypeCharAt::Leading),
            ..ReadConfig::default()
        };
        let mut d = Decoder::new(&cfg);
        let now = Instant::now();
        let mut reads = d.push(b"\x02Apass-1\x03\r\x02Gpa", now);
        reads.extend(d.push(b"ss-2\x03\r\xFF\xFE\r\x02Xno\x03\r", now));
        let reasons: Vec<_> = reads
            .iter()
            .map(|r| match r {
                Read::Value { medium, value } => Ok((*medium, value.as_str())),
                Read::Rejected(r) => Err(r.reason.clone()),
            })
            .collect();
        assert_eq!(
            reasons,
            [
                Ok((Medium::Nfc(NfcKind::Vas), "pass-1")),
                Ok((Medium::Nfc(NfcKind::SmartTap), "pass-2")),
                Err(RejectReason::MissingPrefix),
                Err(RejectReason::UnknownPassType('X')),
            ]
        );
        if let Read::Rejected(r) = &reads[2] {
            assert_eq!(r.preview, b"\xFF\xFE");
        }
    }

    /// Line noise of every kind, cut at random places, through every configuration: no panic,
    /// every read a value or a reason, no value longer than the maximum.
    #[test]
    fn random_bytes_never_panic() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = move || {
            // xorshift64: deterministic, no dependency.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let terminators = [
            Terminator::Cr,
            Terminator::Lf,
            Terminator::CrLf,
            Terminator::Any,
            Terminator::Idle(std::time::Duration::from_millis(5)),
        ];
        let mappings = [
            Mapping::Vtap(TypeCharAt::Leading),
            Mapping::Vtap(TypeCharAt::Trailing),
            Mapping::Plain(Medium::Qr),
        ];
        let t0 = Instant::now();
        for (i, terminator) in terminators.into_iter().enumerate() {
            for mapping in mappings {
                let cfg = ReadConfig {
                    terminator,
                    max_len: 64,
                    affixes: Affixes {
                        prefix: b"\x02".to_vec(),
                        postfix: if i % 2 == 0 {
                            Vec::new()
                        } else {
                            b"\x03".to_vec()
                        },
                    },
                    mapping,
                };
                let mut d = Decoder::new(&cfg);
                let mut ms = 0;
                for _ in 0..2000 {
                    let len = (rnd() % 40) as usize;
                    // Biased towards terminators, prefixes and type characters.
                    let chunk: Vec<u8> = (0..len)
                        .map(|_| match rnd() % 8 {
                            0 => b'\r',
                            1 => b'\n',
                            2 => 0x02,
                            3 => b'A',
                            _ => rnd() as u8,
                        })
                        .collect();
                    ms += rnd() % 8;
                    let now = t0 + std::time::Duration::from_millis(ms);
                    for read in d.push(&chunk, now).into_iter().chain(d.flush_idle(now)) {
                        match read {
                            Read::Value { value, .. } => {
                                assert!(!value.is_empty() && value.len() <= 64)
                            }
                            Read::Rejected(r) => assert!(r.preview.len() <= 32, "{r:?}"),
                        }
                    }
                }
            }
        }
    }
}
