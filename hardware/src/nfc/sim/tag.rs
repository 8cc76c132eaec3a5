//! A virtual NFC Forum Type 4 tag (NDEF text or URI) or a plain card with only a UID.

use super::{reply, sw, CardCommand, VirtualCard};
use crate::nfc::ndef::{self, Record};
use crate::nfc::type4::{CC_FILE, NDEF_AID};

const NDEF_FILE: [u8; 2] = [0xE1, 0x04];

pub struct VirtualTag {
    uid: Vec<u8>,
    /// NLEN ‖ NDEF message; `None`: no NDEF application at all.
    ndef_file: Option<Vec<u8>>,
    /// MLe in the capability container: small values force several READ BINARYs.
    pub max_le: u16,
    app_selected: bool,
    file: Option<[u8; 2]>,
}

impl VirtualTag {
    pub fn with_records(uid: &[u8], records: &[Record]) -> Self {
        let msg = ndef::encode(records);
        let mut file = (msg.len() as u16).to_be_bytes().to_vec();
        file.extend(msg);
        Self {
            uid: uid.to_vec(),
            ndef_file: Some(file),
            max_le: 0x3B,
            app_selected: false,
            file: None,
        }
    }

    pub fn with_text(uid: &[u8], text: &str) -> Self {
        Self::with_records(uid, &[Record::text("en", text)])
    }

    pub fn with_uri(uid: &[u8], uri: &str) -> Self {
        Self::with_records(uid, &[Record::uri(uri)])
    }

    /// A card or tag without NDEF: only its UID identifies it.
    pub fn plastic(uid: &[u8]) -> Self {
        Self {
            uid: uid.to_vec(),
            ndef_file: None,
            max_le: 0x3B,
            app_selected: false,
            file: None,
        }
    }

    fn cc(&self) -> Vec<u8> {
        let [mle_hi, mle_lo] = self.max_le.to_be_bytes();
        let size = self.ndef_file.as_ref().map_or(0, Vec::len).max(0x80) as u16;
        let [s_hi, s_lo] = size.to_be_bytes();
        vec![
            0x00,
            0x0F,
            0x20,
            mle_hi,
            mle_lo,
            0x00,
            0x34,
            0x04,
            0x06,
            NDEF_FILE[0],
            NDEF_FILE[1],
            s_hi,
            s_lo,
            0x00,
            0xFF,
        ]
    }

    fn read_binary(&self, cmd: &CardCommand) -> Vec<u8> {
        let content = match self.file {
            Some(CC_FILE) => self.cc(),
            Some(NDEF_FILE) => self.ndef_file.clone().unwrap_or_default(),
            _ => return sw(0x6986),
        };
        let offset = usize::from(u16::from_be_bytes([cmd.p1, cmd.p2]));
        let want = match cmd.le {
            Some(0) | None => 256,
            Some(n) => usize::from(n),
        }
        .min(usize::from(self.max_le.max(1)));
        match content.get(offset..) {
            Some(rest) => reply(rest[..rest.len().min(want)].to_vec(), 0x9000),
            None => sw(0x6B00),
        }
    }
}

impl VirtualCard for VirtualTag {
    fn respond(&mut self, apdu: &[u8]) -> Vec<u8> {
        let Some(cmd) = CardCommand::parse(apdu) else {
            return sw(0x6700);
        };
        match (cmd.cla, cmd.ins, cmd.p1) {
            (0x00, 0xA4, 0x04) if cmd.data == NDEF_AID && self.ndef_file.is_some() => {
                self.app_selected = true;
                sw(0x9000)
            }
            (0x00, 0xA4, 0x04) => sw(0x6A82),
            (0x00, 0xA4, 0x00) if self.app_selected => match cmd.data.as_slice() {
                [a, b] if [*a, *b] == CC_FILE || [*a, *b] == NDEF_FILE => {
                    self.file = Some([*a, *b]);
                    sw(0x9000)
                }
                _ => sw(0x6A82),
            },
            (0x00, 0xB0, _) if self.app_selected => self.read_binary(&cmd),
            // PC/SC's GET DATA UID: a real reader answers it; over vpcd the card must.
            (0xFF, 0xCA, 0x00) => reply(self.uid.clone(), 0x9000),
            _ => sw(0x6D00),
        }
    }
}
