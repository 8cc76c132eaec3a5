//! A virtual Android phone with one pass in Google Wallet: the handset side of Smart Tap 2.1.

use super::{reply, sw, CardCommand, VirtualCard};
use crate::nfc::ose::OSE_AID;
use crate::nfc::smarttap::crypto::{self, SessionKeys};
use crate::nfc::smarttap::messages::{
    self, NegotiateRequest, NegotiateResponse, SelectResponse, ServiceNumberForm, ServiceRequest,
    ServiceResponse, ServiceValue,
};
use crate::nfc::smarttap::{compress_point, SMART_TAP_AID};
use crate::nfc::tlv;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::{PublicKey, SecretKey};
use rand_core::{OsRng, RngCore};
use std::collections::VecDeque;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AndroidBehaviour {
    /// Presents the pass.
    Normal,
    /// Locked phone: `9300`.
    Locked,
    /// Several passes match: `9302`.
    ChoosePass,
    /// Busy: answers GET DATA `9201` this many times first.
    Busy(u8),
    /// Says the second SELECT may not be skipped (older handsets).
    NoSkipSelect,
    /// Corrupts one byte of the encrypted bundle.
    BadMac,
}

pub struct VirtualAndroid {
    collector: VerifyingKey,
    collector_id: u32,
    pub pass: ServiceValue,
    /// zlib-compress the bundle (flags bit 1).
    pub compress: bool,
    /// How the pass's redemption value `n` is written: an external record of type `n`, or a
    /// Text record whose id is `n`.
    pub service_number: ServiceNumberForm,
    /// A plaintext record bundle to send instead of one encoded from `pass`: bytes a test
    /// wrote by hand, sealed and sent like any other.
    pub bundle: Option<Vec<u8>>,
    /// Bytes per response APDU; longer bundles go out in parts with `9100`.
    pub chunk: usize,
    pub behaviour: AndroidBehaviour,
    busy_left: u8,
    device_nonce: [u8; 32],
    device_key: SecretKey,
    /// Keys, session id and the sequence number the next GET DATA must carry.
    session: Option<(SessionKeys, [u8; 8], u8)>,
    pending: VecDeque<Vec<u8>>,
}

impl VirtualAndroid {
    /// A handset with one loyalty pass whose redemption value is `value`, readable by the
    /// collector whose public key is `collector`.
    pub fn new(collector: VerifyingKey, collector_id: u32, value: &[u8]) -> Self {
        let mut device_nonce = [0u8; 32];
        OsRng.fill_bytes(&mut device_nonce);
        Self {
            collector,
            collector_id,
            pass: ServiceValue {
                object_type: "ly".into(),
                redemption_value: value.to_vec(),
            },
            compress: true,
            service_number: ServiceNumberForm::Primitive,
            bundle: None,
            chunk: 250,
            behaviour: AndroidBehaviour::Normal,
            busy_left: 0,
            device_nonce,
            device_key: SecretKey::random(&mut OsRng),
            session: None,
            pending: VecDeque::new(),
        }
    }

    pub fn behaving(mut self, b: AndroidBehaviour) -> Self {
        self.behaviour = b;
        if let AndroidBehaviour::Busy(n) = b {
            self.busy_left = n;
        }
        self
    }

    /// Writes the redemption value in `form`.
    pub fn with_service_number(mut self, form: ServiceNumberForm) -> Self {
        self.service_number = form;
        self
    }

    /// Sends `plain` as its record bundle.
    pub fn with_bundle(mut self, plain: Vec<u8>) -> Self {
        self.bundle = Some(plain);
        self
    }

    fn fci(&self) -> Vec<u8> {
        let skip = u8::from(self.behaviour != AndroidBehaviour::NoSkipSelect);
        let a5 = [
            tlv::encode(0x50, b"AndroidPay"),
            tlv::encode(0x9F21, &[0x02, 0x01]),
            tlv::encode(0xC2, &self.device_nonce),
            tlv::encode(0xC3, &compress_point(&self.device_key.public_key())),
            tlv::encode(0xDF62, &[skip]),
        ]
        .concat();
        tlv::encode(
            0x6F,
            &[tlv::encode(0x84, OSE_AID), tlv::encode(0xA5, &a5)].concat(),
        )
    }

    fn negotiate(&mut self, cmd: &CardCommand) -> Vec<u8> {
        let Ok(req) = NegotiateRequest::parse(&cmd.data) else {
            return sw(0x6A80);
        };
        let signed = crypto::signed_data(
            &req.reader_nonce,
            &self.device_nonce,
            req.collector_id,
            &req.reader_eph,
        );
        let genuine = req.collector_id == self.collector_id
            && Signature::from_der(&req.signature_der)
                .is_ok_and(|s| self.collector.verify(&signed, &s).is_ok());
        let Ok(reader_eph) = PublicKey::from_sec1_bytes(&req.reader_eph) else {
            return sw(0x6A80);
        };
        if !genuine {
            return sw(0x9500);
        }
        let device_key = compress_point(&self.device_key.public_key());
        let z =
            p256::ecdh::diffie_hellman(self.device_key.to_nonzero_scalar(), reader_eph.as_affine());
        let mut info = signed;
        info.extend_from_slice(&req.signature_der);
        let keys = SessionKeys::derive(z.raw_secret_bytes(), &device_key, &info);
        // The handset answers with the next sequence number; the reader's GET DATA must
        // follow it (Google's sample terminal sends `nrs`'s number + 1).
        let session = messages::Session {
            seq: req.session.seq.wrapping_add(1),
            ..req.session
        };
        self.session = Some((keys, session.id, session.seq.wrapping_add(1)));
        reply(
            NegotiateResponse {
                session,
                device_key,
            }
            .encode(),
            0x9000,
        )
    }

    fn get_data(&mut self, cmd: &CardCommand) -> Vec<u8> {
        match self.behaviour {
            AndroidBehaviour::Locked => return sw(0x9300),
            AndroidBehaviour::ChoosePass => return sw(0x9302),
            AndroidBehaviour::Busy(_) if self.busy_left > 0 => {
                self.busy_left -= 1;
                return sw(0x9201);
            }
            _ => {}
        }
        let Some((keys, session_id, next_seq)) = &self.session else {
            return sw(0x6985);
        };
        let Ok(req) = ServiceRequest::parse(&cmd.data) else {
            return sw(0x6A80);
        };
        if req.session.id != *session_id
            || req.session.seq != *next_seq
            || req.collector_id != self.collector_id
        {
            return sw(0x6A80);
        }
        let mut plain = match &self.bundle {
            Some(plain) => plain.clone(),
            None => {
                messages::encode_services_as(std::slice::from_ref(&self.pass), self.service_number)
            }
        };
        let mut flags = messages::BUNDLE_ENCRYPTED;
        if self.compress {
            plain = crypto::deflate(&plain);
            flags |= messages::BUNDLE_COMPRESSED;
        }
        let mut iv = [0u8; crypto::IV_LEN];
        OsRng.fill_bytes(&mut iv);
        let mut body = keys.seal(&iv, &plain);
        if self.behaviour == AndroidBehaviour::BadMac {
            if let Some(b) = body.get_mut(crypto::IV_LEN) {
                *b ^= 0x01;
            }
        }
        let whole = ServiceResponse {
            session: req.session,
            flags,
            body,
        }
        .encode();
        self.pending = whole
            .chunks(self.chunk.max(1))
            .map(<[u8]>::to_vec)
            .collect();
        self.next_part()
    }

    fn next_part(&mut self) -> Vec<u8> {
        match self.pending.pop_front() {
            Some(part) if self.pending.is_empty() => reply(part, 0x9000),
            Some(part) => reply(part, 0x9100),
            None => sw(0x6985),
        }
    }
}

impl VirtualCard for VirtualAndroid {
    fn respond(&mut self, apdu: &[u8]) -> Vec<u8> {
        let Some(cmd) = CardCommand::parse(apdu) else {
            return sw(0x6700);
        };
        if cmd.is_select(OSE_AID) {
            return reply(self.fci(), 0x9000);
        }
        if cmd.is_select(&SMART_TAP_AID) {
            let answer = SelectResponse {
                min_version: [0x00, 0x00],
                max_version: messages::VERSION,
                device_nonce: Some(self.device_nonce),
            };
            return reply(answer.encode(), 0x9000);
        }
        match (cmd.cla, cmd.ins) {
            (0x90, 0x53) => self.negotiate(&cmd),
            (0x90, 0x50) => self.get_data(&cmd),
            (0x90, 0xC0) => self.next_part(),
            (0x00, 0xA4) => sw(0x6A82),
            _ => sw(0x6D00),
        }
    }
}
