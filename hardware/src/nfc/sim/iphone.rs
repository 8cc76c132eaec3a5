//! A virtual iPhone with one pass in Apple Wallet, answering VAS with real cryptograms.

use super::{reply, sw, CardCommand, VirtualCard};
use crate::nfc::keys::vas_key_id;
use crate::nfc::ose::OSE_AID;
use crate::nfc::{tlv, vas};
use aes_gcm::aead::Aead;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use rand_core::OsRng;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IPhoneBehaviour {
    /// Presents the pass.
    Normal,
    /// Locked phone: `6287`.
    Locked,
    /// Several passes match: `6984`.
    ChoosePass,
    /// The SELECT answer is cut in the middle of a TLV.
    GarbledFci,
    /// The GET DATA answer is not valid TLV.
    GarbledResponse,
    /// The cryptogram lacks its last 10 bytes.
    TruncatedCryptogram,
}

pub struct VirtualIPhone {
    pass_type_id: String,
    reader_key: PublicKey,
    pub message: String,
    /// Phone clock, seconds since 2001-01-01; `None`: the real clock.
    pub timestamp: Option<u32>,
    pub behaviour: IPhoneBehaviour,
    selected: bool,
}

impl VirtualIPhone {
    /// A phone holding a pass of `pass_type_id` whose NFC payload is encrypted to `reader_key`.
    pub fn new(pass_type_id: &str, reader_key: PublicKey, message: &str) -> Self {
        Self {
            pass_type_id: pass_type_id.to_owned(),
            reader_key,
            message: message.to_owned(),
            timestamp: None,
            behaviour: IPhoneBehaviour::Normal,
            selected: false,
        }
    }

    pub fn behaving(mut self, b: IPhoneBehaviour) -> Self {
        self.behaviour = b;
        self
    }

    fn fci(&self) -> Vec<u8> {
        let inner = [
            tlv::encode(0x50, b"ApplePay"),
            tlv::encode(0x9F21, &[0x01, 0x00]),
            tlv::encode(0x9F24, &rand4()),
            tlv::encode(0x9F23, &[0x00, 0x00, 0x00, 0x00]),
        ]
        .concat();
        tlv::encode(0x6F, &inner)
    }

    fn get_data(&self, cmd: &CardCommand) -> Vec<u8> {
        let Ok(Some(merchant)) = tlv::find(&cmd.data, 0x9F25) else {
            return sw(0x6A80);
        };
        if merchant != vas::merchant_id(&self.pass_type_id) {
            return sw(0x6A83);
        }
        let now = self.timestamp.unwrap_or_else(|| {
            let unix = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            unix.saturating_sub(vas::APPLE_EPOCH_UNIX) as u32
        });
        match self.behaviour {
            IPhoneBehaviour::Locked => return sw(0x6287),
            IPhoneBehaviour::ChoosePass => return sw(0x6984),
            IPhoneBehaviour::GarbledResponse => {
                return reply(vec![0x70, 0x7F, 0x9F, 0x27, 0x81], 0x9000)
            }
            _ => {}
        }
        let mut cryptogram = seal(&self.reader_key, &self.pass_type_id, now, &self.message);
        if self.behaviour == IPhoneBehaviour::TruncatedCryptogram {
            cryptogram.truncate(cryptogram.len().saturating_sub(10));
        }
        let body = [tlv::encode(0x9F2A, &[]), tlv::encode(0x9F27, &cryptogram)].concat();
        reply(tlv::encode(0x70, &body), 0x9000)
    }
}

impl VirtualCard for VirtualIPhone {
    fn respond(&mut self, apdu: &[u8]) -> Vec<u8> {
        let Some(cmd) = CardCommand::parse(apdu) else {
            return sw(0x6700);
        };
        if cmd.is_select(OSE_AID) {
            self.selected = true;
            if self.behaviour == IPhoneBehaviour::GarbledFci {
                let mut fci = self.fci();
                fci.truncate(12);
                return reply(fci, 0x9000);
            }
            return reply(self.fci(), 0x9000);
        }
        match (cmd.cla, cmd.ins) {
            (0x80, 0xCA) if self.selected => self.get_data(&cmd),
            (0x80, 0xCA) => sw(0x6985),
            (0x00, 0xA4) => sw(0x6A82),
            _ => sw(0x6D00),
        }
    }
}

/// The phone's side of VAS: a cryptogram of `timestamp ‖ message` for `reader_key`.
pub fn seal(reader_key: &PublicKey, pass_type_id: &str, timestamp: u32, message: &str) -> Vec<u8> {
    let eph = SecretKey::random(&mut OsRng);
    let eph_point = eph.public_key().to_encoded_point(true);
    let eph_x = eph_point.x().map(|x| x.to_vec()).unwrap_or_default();
    let shared = p256::ecdh::diffie_hellman(eph.to_nonzero_scalar(), reader_key.as_affine());
    let key = vas::derive_key(
        shared.raw_secret_bytes(),
        pass_type_id,
        vas::Variant::Standard,
    );
    let mut plain = timestamp.to_be_bytes().to_vec();
    plain.extend_from_slice(message.as_bytes());
    let sealed = vas::cipher(&key)
        .encrypt(vas::zero_iv(), plain.as_slice())
        .unwrap_or_default();
    let mut out = vas_key_id(reader_key).to_vec();
    out.extend_from_slice(&eph_x);
    out.extend_from_slice(&sealed);
    out
}

fn rand4() -> [u8; 4] {
    let mut n = [0u8; 4];
    rand_core::RngCore::fill_bytes(&mut OsRng, &mut n);
    n
}
