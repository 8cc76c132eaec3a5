//! Google Smart Tap 2.1, the reader side: negotiate a session with the collector key, ask for
//! the passes, follow `9100` with GET MORE, check the HMAC, decrypt, inflate, and take the
//! pass's redemption value.

pub mod crypto;
pub mod messages;

#[cfg(test)]
mod public_layout_tests;

use crate::nfc::apdu::{self, Command, Response, StatusWord};
use crate::nfc::error::TapError;
use crate::nfc::keys::CollectorKey;
use crate::nfc::ose::OseInfo;
use crate::nfc::transport::{exchange, ApduTransport, MAX_RESPONSE};
use crypto::SessionKeys;
use messages::{
    NegotiateRequest, NegotiateResponse, SelectResponse, ServiceRequest, ServiceResponse,
    ServiceValue, Session,
};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::Signature;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use rand_core::{OsRng, RngCore};

/// Smart Tap 2 AID.
pub const SMART_TAP_AID: [u8; 9] = [0xA0, 0x00, 0x00, 0x04, 0x76, 0xD0, 0x00, 0x01, 0x11];
/// `92xx` is transient: the handset is busy; ask again a few times before giving up.
pub const TRANSIENT_RETRIES: usize = 3;
/// GET MORE rounds; a bundle is a few hundred bytes, 255 per round.
const MAX_MORE: usize = 64;

pub const SW_MORE: StatusWord = StatusWord(0x9100);
pub const SW_OK_NEGOTIATE: StatusWord = StatusWord(0x9002);
pub const SW_LOCKED: StatusWord = StatusWord(0x9300);
pub const SW_CHOOSE: StatusWord = StatusWord(0x9302);
pub const SW_AUTH_FAILED: StatusWord = StatusWord(0x9500);

/// How this reader reads Google Wallet passes.
#[derive(Debug, Clone)]
pub struct SmartTapConfig {
    pub collector: CollectorKey,
    pub service_types: Vec<u8>,
}

impl SmartTapConfig {
    pub fn new(collector: CollectorKey) -> Self {
        Self {
            collector,
            service_types: vec![messages::SERVICE_ALL],
        }
    }
}

pub fn negotiate_command(body: Vec<u8>) -> Command {
    Command::new(0x90, 0x53, 0x00, 0x00)
        .with_data(body)
        .with_le(0)
}

pub fn get_data_command(body: Vec<u8>) -> Command {
    Command::new(0x90, 0x50, 0x00, 0x00)
        .with_data(body)
        .with_le(0)
}

pub fn get_more_command() -> Command {
    Command::new(0x90, 0xC0, 0x00, 0x00).with_le(0)
}

/// Maps the handset's status words; `Ok` for the ones that carry data.
fn check_sw(sw: StatusWord, command: &'static str) -> Result<(), TapError> {
    match sw {
        StatusWord::OK | SW_OK_NEGOTIATE | SW_MORE => Ok(()),
        SW_LOCKED => Err(TapError::PhoneLocked(sw)),
        SW_CHOOSE => Err(TapError::ChoosePass(sw)),
        SW_AUTH_FAILED => Err(TapError::ReaderKeyRejected),
        sw if sw.sw1() == 0x92 => Err(TapError::PhoneBusy(sw)),
        sw => Err(TapError::Status { command, sw }),
    }
}

/// Sends `cmd`, repeating it while the handset answers `92xx`.
fn send<T: ApduTransport + ?Sized>(
    t: &mut T,
    cmd: &Command,
    what: &'static str,
) -> Result<Response, TapError> {
    let mut tries = 0;
    loop {
        let resp = exchange(t, cmd)?;
        match check_sw(resp.sw, what) {
            Err(TapError::PhoneBusy(_)) if tries < TRANSIENT_RETRIES => tries += 1,
            Err(e) => return Err(e),
            Ok(()) => return Ok(resp),
        }
    }
}

/// The device nonce: from the OSE answer when the handset allows skipping the second SELECT,
/// else from SELECT Smart Tap 2 (`minVersion ‖ maxVersion ‖ NDEF[ mdn ]`).
fn device_nonce<T: ApduTransport + ?Sized>(t: &mut T, ose: &OseInfo) -> Result<[u8; 32], TapError> {
    if let (true, Some(n)) = (ose.smart_tap_skip_select, ose.smart_tap_nonce) {
        return Ok(n);
    }
    let resp = send(t, &apdu::select_aid(&SMART_TAP_AID), "SELECT Smart Tap 2")?;
    let answer = SelectResponse::parse(&resp.data)?;
    if !answer.supports(messages::VERSION) {
        return Err(TapError::malformed(
            "Smart Tap SELECT answer",
            format!(
                "the phone speaks versions {} to {}, not {}",
                hex(&answer.min_version),
                hex(&answer.max_version),
                hex(&messages::VERSION)
            ),
        ));
    }
    answer
        .device_nonce
        .or(ose.smart_tap_nonce)
        .ok_or_else(|| TapError::malformed("Smart Tap SELECT answer", "no device nonce"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// What a Smart Tap read gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmartTapRead {
    pub object_type: String,
    pub redemption_value: Vec<u8>,
}

/// Runs the whole Smart Tap exchange after `SELECT OSE.VAS.01` answered `AndroidPay`.
pub fn read<T: ApduTransport + ?Sized>(
    t: &mut T,
    cfg: &SmartTapConfig,
    ose: &OseInfo,
) -> Result<SmartTapRead, TapError> {
    let device_nonce = device_nonce(t, ose)?;
    let collector_id = cfg.collector.collector_id;
    let negotiation = ReaderNegotiation::start(&cfg.collector, &device_nonce);
    let session_id = negotiation.session_id;
    let resp = send(
        t,
        &negotiate_command(negotiation.request().encode()),
        "NEGOTIATE SECURE SESSION",
    )?;
    let negotiated = NegotiateResponse::parse(&resp.data)?;
    same_session(&negotiated.session, &session_id)?;
    let keys = negotiation.session_keys(&negotiated.device_key)?;

    // The next sequence number follows the handset's answer, as Google's sample terminal
    // does (`nrs`'s sequence number + 1), rather than assuming the handset echoed ours.
    let request = ServiceRequest {
        session: Session {
            id: session_id,
            seq: negotiated.session.seq.wrapping_add(1),
            status: 1,
        },
        collector_id,
        service_types: cfg.service_types.clone(),
        pos_capabilities: messages::POS_CAPABILITIES,
    };
    let body = get_data(t, &get_data_command(request.encode()))?;
    let response = ServiceResponse::parse(&body)?;
    same_session(&response.session, &session_id)?;
    let mut plain = if response.flags & messages::BUNDLE_ENCRYPTED != 0 {
        keys.open(&response.body)?
    } else {
        response.body
    };
    if response.flags & messages::BUNDLE_COMPRESSED != 0 {
        plain = crypto::inflate(&plain)?;
    }
    let mut values = messages::parse_services(&plain)?;
    if values.is_empty() {
        return Err(TapError::malformed(
            "Smart Tap bundle",
            "no pass with a redemption value",
        ));
    }
    let ServiceValue {
        object_type,
        redemption_value,
    } = values.swap_remove(0);
    Ok(SmartTapRead {
        object_type,
        redemption_value,
    })
}

/// The reader's half of a Smart Tap negotiation: a fresh session id, nonce and ephemeral
/// key, signed with the collector's long-term key.
pub struct ReaderNegotiation {
    pub session_id: [u8; 8],
    reader_nonce: [u8; 32],
    reader_eph: SecretKey,
    reader_eph_pub: [u8; 33],
    to_sign: Vec<u8>,
    signature_der: Vec<u8>,
    collector_id: u32,
    key_version: u32,
}

impl ReaderNegotiation {
    pub fn start(collector: &CollectorKey, device_nonce: &[u8; 32]) -> Self {
        let mut session_id = [0u8; 8];
        let mut reader_nonce = [0u8; 32];
        OsRng.fill_bytes(&mut session_id);
        OsRng.fill_bytes(&mut reader_nonce);
        let reader_eph = SecretKey::random(&mut OsRng);
        let reader_eph_pub = compress_point(&reader_eph.public_key());
        let to_sign = crypto::signed_data(
            &reader_nonce,
            device_nonce,
            collector.collector_id,
            &reader_eph_pub,
        );
        let signature: Signature = collector.signing_key().sign(&to_sign);
        Self {
            session_id,
            reader_nonce,
            reader_eph,
            reader_eph_pub,
            to_sign,
            signature_der: signature.to_der().as_bytes().to_vec(),
            collector_id: collector.collector_id,
            key_version: collector.key_version,
        }
    }

    /// NEGOTIATE SECURE SESSION's body.
    pub fn request(&self) -> NegotiateRequest {
        NegotiateRequest {
            session: Session {
                id: self.session_id,
                seq: 1,
                status: 1,
            },
            reader_nonce: self.reader_nonce,
            auth: messages::AUTH_LIVE,
            reader_eph: self.reader_eph_pub,
            key_version: self.key_version,
            signature_der: self.signature_der.clone(),
            collector_id: self.collector_id,
        }
    }

    /// ECDH with the handset's ephemeral key (`dpk`), then HKDF: the session keys.
    pub fn session_keys(&self, device_key: &[u8]) -> Result<SessionKeys, TapError> {
        let device = PublicKey::from_sec1_bytes(device_key)
            .map_err(|_| TapError::malformed("Smart Tap dpk", "not a P-256 point"))?;
        let shared =
            p256::ecdh::diffie_hellman(self.reader_eph.to_nonzero_scalar(), device.as_affine());
        let mut info = self.to_sign.clone();
        info.extend_from_slice(&self.signature_der);
        Ok(SessionKeys::derive(
            shared.raw_secret_bytes(),
            device_key,
            &info,
        ))
    }
}

/// An answer for another session is a stale or confused handset, not ours to read.
fn same_session(got: &Session, id: &[u8; 8]) -> Result<(), TapError> {
    if &got.id == id {
        Ok(())
    } else {
        Err(TapError::malformed(
            "Smart Tap session",
            "the phone answered for another session",
        ))
    }
}

/// GET DATA, then GET MORE while the handset answers `9100`; the parts concatenated.
fn get_data<T: ApduTransport + ?Sized>(t: &mut T, cmd: &Command) -> Result<Vec<u8>, TapError> {
    let mut resp = send(t, cmd, "Smart Tap GET DATA")?;
    let mut body = std::mem::take(&mut resp.data);
    let mut rounds = 0;
    while resp.sw == SW_MORE {
        rounds += 1;
        if rounds > MAX_MORE || body.len() > MAX_RESPONSE {
            return Err(TapError::malformed("Smart Tap GET MORE", "too many parts"));
        }
        resp = send(t, &get_more_command(), "Smart Tap GET MORE")?;
        body.append(&mut resp.data);
    }
    Ok(body)
}

/// SEC1 compressed form. A valid public key always compresses to 33 bytes; the zero fallback
/// only keeps this total.
pub fn compress_point(key: &PublicKey) -> [u8; 33] {
    key.to_encoded_point(true)
        .as_bytes()
        .try_into()
        .unwrap_or([0; 33])
}
