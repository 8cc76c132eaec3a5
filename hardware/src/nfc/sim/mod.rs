//! Simulated phones and tags: the card side of the same protocols, with real cryptography,
//! for tests (in-process here, over vpcd in end-to-end tests). Built with the `sim` feature.
//!
//! Each simulator is a [`VirtualCard`]: command APDU in, `data ‖ SW` out. It never panics on
//! what a reader sends either; unknown commands get ISO status words.

pub mod android;
pub mod iphone;
pub mod tag;
pub mod vpcd;

#[cfg(test)]
mod tests;

use crate::nfc::apdu::{Response, StatusWord};
use crate::nfc::error::TransportError;
use crate::nfc::transport::ApduTransport;

pub use android::{AndroidBehaviour, VirtualAndroid};
pub use iphone::{IPhoneBehaviour, VirtualIPhone};
pub use tag::VirtualTag;

/// The public PassKit NFC demo pass type and key (shared/protocols/NFC.md).
pub const DEMO_PASS_TYPE_ID: &str = "pass.com.passkit.pksamples.nfcdemo";
pub const DEMO_VAS_KEY_HEX: &str =
    "3d1547f23cd78ad052a58860f1219e8fb791ec4dfe33769f5b9bfa627a656ca1";
/// Google's sample terminal's demo collector.
pub const DEMO_COLLECTOR_ID: u32 = 20180608;
pub const DEMO_COLLECTOR_KEY_VERSION: u32 = 1;
pub const DEMO_COLLECTOR_KEY_HEX: &str =
    "826d17e50767b165b0e4d9e332f8d1d1e20224284fb4daf1e50a03246e70797d";

/// A card a reader can talk to.
pub trait VirtualCard {
    fn respond(&mut self, apdu: &[u8]) -> Vec<u8>;
}

/// A decoded command APDU (short form), as a card sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardCommand {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: Vec<u8>,
    pub le: Option<u8>,
}

impl CardCommand {
    /// `None` when the bytes are not a well-formed short APDU.
    pub fn parse(b: &[u8]) -> Option<Self> {
        let (header, body) = b.split_first_chunk::<4>()?;
        let [cla, ins, p1, p2] = *header;
        let (data, le) = match body {
            [] => (Vec::new(), None),
            [le] => (Vec::new(), Some(*le)),
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                match rest.len().checked_sub(lc)? {
                    0 => (rest.to_vec(), None),
                    1 => (rest[..lc].to_vec(), Some(rest[lc])),
                    _ => return None,
                }
            }
        };
        Some(Self {
            cla,
            ins,
            p1,
            p2,
            data,
            le,
        })
    }

    pub fn is_select(&self, aid: &[u8]) -> bool {
        self.cla == 0x00 && self.ins == 0xA4 && self.p1 == 0x04 && self.data == aid
    }
}

pub fn reply(data: Vec<u8>, sw: u16) -> Vec<u8> {
    Response {
        data,
        sw: StatusWord(sw),
    }
    .to_bytes()
}

pub fn sw(sw: u16) -> Vec<u8> {
    reply(Vec::new(), sw)
}

/// A card held on an in-process reader: every APDU and answer is recorded; the card can be
/// "taken away" after a number of APDUs.
pub struct SimReader<C> {
    pub card: C,
    pub log: Vec<(Vec<u8>, Vec<u8>)>,
    pub remove_after: Option<usize>,
}

impl<C: VirtualCard> SimReader<C> {
    pub fn new(card: C) -> Self {
        Self {
            card,
            log: Vec::new(),
            remove_after: None,
        }
    }

    /// Number of command APDUs sent so far.
    pub fn apdus(&self) -> usize {
        self.log.len()
    }
}

impl<C: VirtualCard> ApduTransport for SimReader<C> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        if self.remove_after.is_some_and(|n| self.log.len() >= n) {
            return Err(TransportError::CardRemoved);
        }
        let answer = self.card.respond(apdu);
        self.log.push((apdu.to_vec(), answer.clone()));
        Ok(answer)
    }
}

pub(crate) fn secret_from_hex(h: &str) -> p256::SecretKey {
    let bytes: Vec<u8> = (0..h.len() / 2)
        .filter_map(|i| u8::from_str_radix(h.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    p256::SecretKey::from_slice(&bytes).expect("demo keys are valid P-256 scalars")
}

/// The demo VAS reader key.
pub fn demo_vas_key() -> crate::nfc::VasReaderKey {
    crate::nfc::VasReaderKey::new(secret_from_hex(DEMO_VAS_KEY_HEX))
}

/// The demo Smart Tap collector.
pub fn demo_collector() -> crate::nfc::CollectorKey {
    crate::nfc::CollectorKey::new(
        DEMO_COLLECTOR_ID,
        DEMO_COLLECTOR_KEY_VERSION,
        &secret_from_hex(DEMO_COLLECTOR_KEY_HEX),
    )
}
