//! NFC Forum Type 4 tags: the NDEF application (`D2760000850101`), its capability container
//! and NDEF file, read with short READ BINARY commands.

use crate::nfc::apdu::{self, Command, StatusWord};
use crate::nfc::error::TapError;
use crate::nfc::ndef::{self, Record};
use crate::nfc::transport::{exchange, ApduTransport};

pub const NDEF_AID: [u8; 7] = [0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01];
pub const CC_FILE: [u8; 2] = [0xE1, 0x03];
/// Loyalty tags hold a few hundred bytes; refuse to read more than this from any tag.
pub const MAX_NDEF: usize = 8 * 1024;

pub fn select_file(id: [u8; 2]) -> Command {
    // P2 = 0C: no FCI wanted.
    Command::new(0x00, 0xA4, 0x00, 0x0C).with_data(id.to_vec())
}

pub fn read_binary(offset: u16, len: u8) -> Command {
    let [hi, lo] = offset.to_be_bytes();
    Command::new(0x00, 0xB0, hi, lo).with_le(len)
}

/// What the capability container says about the NDEF file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapabilityContainer {
    /// Largest READ BINARY answer the tag supports.
    pub max_le: u16,
    pub ndef_file: [u8; 2],
    pub ndef_max_size: u16,
}

pub fn parse_cc(cc: &[u8]) -> Result<CapabilityContainer, TapError> {
    let b = |i: usize| {
        cc.get(i).copied().ok_or_else(|| {
            TapError::malformed("Type 4 capability container", format!("{} bytes", cc.len()))
        })
    };
    // CCLEN(2) version(1) MLe(2) MLc(2) then the NDEF File Control TLV 04 06 id(2) size(2) r w.
    if b(7)? != 0x04 || b(8)? < 6 {
        return Err(TapError::malformed(
            "Type 4 capability container",
            "no NDEF file control TLV",
        ));
    }
    Ok(CapabilityContainer {
        max_le: u16::from_be_bytes([b(3)?, b(4)?]),
        ndef_file: [b(9)?, b(10)?],
        ndef_max_size: u16::from_be_bytes([b(11)?, b(12)?]),
    })
}

/// Reads the NDEF message of a Type 4 tag. `Ok(None)`: the card has no NDEF application (or an
/// empty one); a broken one is an error.
pub fn read<T: ApduTransport + ?Sized>(t: &mut T) -> Result<Option<Vec<Record>>, TapError> {
    if !exchange(t, &apdu::select_aid(&NDEF_AID))?.sw.is_ok() {
        return Ok(None);
    }
    expect_ok(
        exchange(t, &select_file(CC_FILE))?.sw,
        "SELECT capability container",
    )?;
    let cc = exchange(t, &read_binary(0, 15))?;
    expect_ok(cc.sw, "READ BINARY capability container")?;
    let cc = parse_cc(&cc.data)?;
    expect_ok(
        exchange(t, &select_file(cc.ndef_file))?.sw,
        "SELECT NDEF file",
    )?;
    let nlen = exchange(t, &read_binary(0, 2))?;
    expect_ok(nlen.sw, "READ BINARY NLEN")?;
    let nlen = match nlen.data.as_slice() {
        [hi, lo] => usize::from(u16::from_be_bytes([*hi, *lo])),
        other => {
            return Err(TapError::malformed(
                "Type 4 NLEN",
                format!("{} bytes", other.len()),
            ))
        }
    };
    if nlen == 0 {
        return Ok(None);
    }
    if nlen > MAX_NDEF || nlen + 2 > usize::from(cc.ndef_max_size).max(3) {
        return Err(TapError::malformed("Type 4 NLEN", format!("{nlen} bytes")));
    }
    // Short APDUs: at most 255 per READ BINARY, less if the tag says so.
    let chunk = usize::from(cc.max_le).clamp(1, 255);
    let mut message = Vec::with_capacity(nlen);
    while message.len() < nlen {
        let want = (nlen - message.len()).min(chunk);
        let offset = u16::try_from(2 + message.len())
            .map_err(|_| TapError::malformed("Type 4 NDEF file", "offset overflow"))?;
        let r = exchange(t, &read_binary(offset, want as u8))?;
        expect_ok(r.sw, "READ BINARY NDEF")?;
        if r.data.is_empty() || r.data.len() > want {
            return Err(TapError::malformed(
                "Type 4 READ BINARY",
                format!("{} bytes for {want}", r.data.len()),
            ));
        }
        message.extend_from_slice(&r.data);
    }
    ndef::parse(&message)
        .map(Some)
        .map_err(|e| TapError::malformed("NDEF message", e))
}

fn expect_ok(sw: StatusWord, command: &'static str) -> Result<(), TapError> {
    if sw.is_ok() {
        Ok(())
    } else {
        Err(TapError::Status { command, sw })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cc_parsing() {
        let cc = [
            0x00, 0x0F, 0x20, 0x00, 0x3B, 0x00, 0x34, 0x04, 0x06, 0xE1, 0x04, 0x00, 0xFF, 0x00,
            0xFF,
        ];
        let p = parse_cc(&cc).unwrap();
        assert_eq!(p.max_le, 0x3B);
        assert_eq!(p.ndef_file, [0xE1, 0x04]);
        assert_eq!(p.ndef_max_size, 0xFF);
        for n in 0..cc.len() {
            let _ = parse_cc(&cc[..n]);
        }
        assert!(parse_cc(&cc[..12]).is_err());
        let mut bad = cc;
        bad[7] = 0x05;
        assert!(parse_cc(&bad).is_err());
    }
}
