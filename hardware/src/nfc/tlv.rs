//! BER-TLV (ISO 7816-4 / EMV) as phones send it in FCIs and VAS responses.
//!
//! Bounded: every length is checked against the bytes that are really there, tags are at most
//! 3 bytes, lengths at most 3 bytes (`82 xx xx`: more could never fit a response APDU), and
//! nesting is followed at most [`MAX_DEPTH`] levels. Garbage gives an error, never a panic.

use thiserror::Error;

/// How deep [`find`] descends into constructed objects. FCIs nest 3–4 levels; a deeper
/// structure is either hostile or not what we are looking for.
pub const MAX_DEPTH: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TlvError {
    #[error("TLV cut short at byte {0}")]
    Truncated(usize),
    #[error("TLV tag at byte {0} is longer than 3 bytes")]
    TagTooLong(usize),
    #[error("TLV length at byte {0} is indefinite or wider than 2 bytes")]
    BadLength(usize),
}

/// One data object; `value` borrows from the parsed buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag bytes as a big-endian number, e.g. `0x9F27`.
    pub tag: u32,
    pub value: &'a [u8],
}

impl Tlv<'_> {
    /// Bit 6 of the first tag byte: the value is itself a list of TLVs.
    pub fn is_constructed(&self) -> bool {
        let first = if self.tag > 0xFFFF {
            self.tag >> 16
        } else if self.tag > 0xFF {
            self.tag >> 8
        } else {
            self.tag
        };
        first & 0x20 != 0
    }
}

/// Parses a sequence of TLVs at one level. `00` and `FF` bytes between objects are padding
/// (ISO 7816-4 §5.2.2) and are skipped.
pub fn parse(input: &[u8]) -> Result<Vec<Tlv<'_>>, TlvError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < input.len() {
        if input[pos] == 0x00 || input[pos] == 0xFF {
            pos += 1;
            continue;
        }
        let (tlv, next) = parse_one(input, pos)?;
        out.push(tlv);
        pos = next;
    }
    Ok(out)
}

fn parse_one(input: &[u8], start: usize) -> Result<(Tlv<'_>, usize), TlvError> {
    let byte = |i: usize| input.get(i).copied().ok_or(TlvError::Truncated(i));
    let mut pos = start;
    let first = byte(pos)?;
    let mut tag = u32::from(first);
    pos += 1;
    if first & 0x1F == 0x1F {
        // Subsequent tag bytes while bit 8 is set.
        loop {
            if pos - start >= 3 {
                return Err(TlvError::TagTooLong(start));
            }
            let b = byte(pos)?;
            tag = (tag << 8) | u32::from(b);
            pos += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let len_at = pos;
    let l0 = byte(pos)?;
    pos += 1;
    let len = match l0 {
        0x00..=0x7F => usize::from(l0),
        0x81 => {
            let l = byte(pos)?;
            pos += 1;
            usize::from(l)
        }
        0x82 => {
            let l = u16::from_be_bytes([byte(pos)?, byte(pos + 1)?]);
            pos += 2;
            usize::from(l)
        }
        _ => return Err(TlvError::BadLength(len_at)),
    };
    let end = pos
        .checked_add(len)
        .filter(|&e| e <= input.len())
        .ok_or(TlvError::Truncated(input.len()))?;
    Ok((
        Tlv {
            tag,
            value: &input[pos..end],
        },
        end,
    ))
}

/// The first object with `tag`, searching depth-first through constructed objects (at most
/// [`MAX_DEPTH`] levels). Wallets disagree on where exactly they nest some tags (the label
/// sits in `A5` for one, in `BF0C/61` for another); searching the tree accepts both.
/// A malformed branch is an error: a half-read FCI must not be mistaken for a good one.
pub fn find(input: &[u8], tag: u32) -> Result<Option<&[u8]>, TlvError> {
    find_at(input, tag, 0)
}

fn find_at(input: &[u8], tag: u32, depth: usize) -> Result<Option<&[u8]>, TlvError> {
    for tlv in parse(input)? {
        if tlv.tag == tag {
            return Ok(Some(tlv.value));
        }
        if tlv.is_constructed() && depth + 1 < MAX_DEPTH {
            if let Some(v) = find_at(tlv.value, tag, depth + 1)? {
                return Ok(Some(v));
            }
        }
    }
    Ok(None)
}

/// Appends one TLV (tag of 1–3 bytes as written, definite length) to `out`.
pub fn encode_into(out: &mut Vec<u8>, tag: u32, value: &[u8]) {
    if tag > 0xFFFF {
        out.push((tag >> 16) as u8);
    }
    if tag > 0xFF {
        out.push((tag >> 8) as u8);
    }
    out.push(tag as u8);
    match value.len() {
        n @ 0..=0x7F => out.push(n as u8),
        n @ 0x80..=0xFF => out.extend_from_slice(&[0x81, n as u8]),
        n => {
            // Callers build APDU bodies (< 256 bytes) and simulated responses; anything
            // wider than 16 bits is a programming error, clamp instead of panicking.
            let n = u16::try_from(n).unwrap_or(u16::MAX);
            out.push(0x82);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
    out.extend_from_slice(value);
}

pub fn encode(tag: u32, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 4);
    encode_into(&mut out, tag, value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_fci_and_finds_deep_tags() {
        let inner = [encode(0x50, b"ApplePay"), encode(0x9F24, &[1, 2, 3, 4])].concat();
        let fci = encode(0x6F, &[encode(0x84, b"OSE"), encode(0xA5, &inner)].concat());
        let top = parse(&fci).unwrap();
        assert_eq!(top.len(), 1);
        assert!(top[0].is_constructed());
        assert_eq!(find(&fci, 0x50).unwrap(), Some(&b"ApplePay"[..]));
        assert_eq!(find(&fci, 0x9F24).unwrap(), Some(&[1u8, 2, 3, 4][..]));
        assert_eq!(find(&fci, 0x9F23).unwrap(), None);
    }

    #[test]
    fn long_lengths_round_trip() {
        for n in [0usize, 1, 127, 128, 255, 256, 1000] {
            let v = vec![7u8; n];
            let e = encode(0xBF0C, &v);
            let p = parse(&e).unwrap();
            assert_eq!(
                p,
                vec![Tlv {
                    tag: 0xBF0C,
                    value: &v[..]
                }]
            );
        }
    }

    #[test]
    fn padding_is_skipped() {
        let mut b = vec![0x00, 0xFF];
        b.extend(encode(0x9F27, &[1]));
        b.push(0);
        assert_eq!(parse(&b).unwrap().len(), 1);
    }

    #[test]
    fn garbage_is_an_error_never_a_panic() {
        assert_eq!(parse(&[0x9F]), Err(TlvError::Truncated(1)));
        assert_eq!(parse(&[0x9F, 0x27]), Err(TlvError::Truncated(2)));
        assert_eq!(
            parse(&[0x9F, 0x27, 0x05, 1, 2]),
            Err(TlvError::Truncated(5))
        );
        assert_eq!(
            parse(&[0x5F, 0x81, 0x81, 0x01, 0]),
            Err(TlvError::TagTooLong(0))
        );
        assert_eq!(parse(&[0x50, 0x80]), Err(TlvError::BadLength(1)));
        assert_eq!(
            parse(&[0x50, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]),
            Err(TlvError::BadLength(1))
        );
        assert_eq!(parse(&[0x50, 0x82, 0xFF]), Err(TlvError::Truncated(3)));
        assert!(find(&[0x6F, 0x03, 0x50, 0x05, 0x41], 0x9F27).is_err());
        // Every prefix and every single-byte corruption of a real FCI, and pseudo-random bytes.
        let fci = encode(
            0x6F,
            &[encode(0x50, b"AndroidPay"), encode(0xC2, &[9; 32])].concat(),
        );
        for i in 0..fci.len() {
            let _ = find(&fci[..i], 0xC2);
            for x in [0x00, 0x1F, 0x7F, 0x80, 0x81, 0x82, 0xFF] {
                let mut c = fci.clone();
                c[i] = x;
                let _ = find(&c, 0xC2);
            }
        }
        let mut seed = 0x2545F491u32;
        for _ in 0..2000 {
            let bytes: Vec<u8> = (0..(seed % 64))
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    seed as u8
                })
                .collect();
            let _ = find(&bytes, 0x9F27);
        }
    }

    #[test]
    fn depth_is_bounded() {
        // 200 nested constructed objects: found only within MAX_DEPTH, no stack blow-up.
        let mut v = encode(0x50, b"x");
        for _ in 0..200 {
            v = encode(0xA5, &v);
        }
        assert_eq!(find(&v, 0x50).unwrap(), None);
    }
}
