//! One tap, one scan: which protocol the card speaks, run it, and say what was read.
//!
//! Order: `SELECT OSE.VAS.01` (a phone says Apple or Google), else the Type 4 NDEF
//! application (tags, cards with a text or URI record), else the card UID. The protocol code
//! underneath is pure; this drives it over any [`ApduTransport`].

use crate::nfc::apdu::{self, Command};
use crate::nfc::error::TapError;
use crate::nfc::keys::VasReaderKey;
use crate::nfc::ose::{self, Wallet};
use crate::nfc::smarttap::{self, SmartTapConfig};
use crate::nfc::transport::{exchange, ApduTransport};
use crate::nfc::{type4, vas};
use crate::scan::{Medium, NfcKind, Scan};
use std::time::{Duration, SystemTime};

/// How this reader reads Apple Wallet passes.
#[derive(Debug, Clone)]
pub struct VasConfig {
    /// Pass type identifiers to ask for, in order (one GET DATA each until one answers).
    pub pass_type_ids: Vec<String>,
    /// Reader private keys (rotation, several pass types); picked by keyId.
    pub keys: Vec<VasReaderKey>,
    /// Freshness window for the phone's timestamp.
    pub max_age: Duration,
}

impl VasConfig {
    pub fn new(pass_type_id: impl Into<String>, key: VasReaderKey) -> Self {
        Self {
            pass_type_ids: vec![pass_type_id.into()],
            keys: vec![key],
            max_age: vas::DEFAULT_MAX_AGE,
        }
    }
}

#[derive(Debug, Clone)]
pub struct TapConfig {
    pub vas: Option<VasConfig>,
    pub smart_tap: Option<SmartTapConfig>,
    /// Read NDEF text / URI records from tags.
    pub ndef: bool,
    /// Fall back to the card UID (plastic loyalty cards, tags without NDEF).
    pub uid: bool,
}

impl Default for TapConfig {
    fn default() -> Self {
        Self {
            vas: None,
            smart_tap: None,
            ndef: true,
            uid: true,
        }
    }
}

/// PC/SC GET DATA for the UID (`FF CA 00 00 00`): the reader answers it, not the card.
pub fn get_uid_command() -> Command {
    Command::new(0xFF, 0xCA, 0x00, 0x00).with_le(0)
}

/// Reads one tap. `now` is the reader's clock, used for the scan time and VAS freshness.
pub fn read_tap<T: ApduTransport + ?Sized>(
    t: &mut T,
    cfg: &TapConfig,
    reader_id: &str,
    now: SystemTime,
) -> Result<Scan, TapError> {
    let (kind, value) = read_value(t, cfg, now)?;
    Ok(Scan {
        reader_id: reader_id.to_owned(),
        medium: Medium::Nfc(kind),
        value,
        at: now,
    })
}

fn read_value<T: ApduTransport + ?Sized>(
    t: &mut T,
    cfg: &TapConfig,
    now: SystemTime,
) -> Result<(NfcKind, Vec<u8>), TapError> {
    let select = exchange(t, &apdu::select_aid(ose::OSE_AID))?;
    if select.sw.is_ok() {
        let info = ose::parse(&select.data)?;
        match info.wallet() {
            Wallet::Apple => {
                let vas_cfg = cfg.vas.as_ref().ok_or(TapError::NotConfigured("Apple"))?;
                return read_vas(t, vas_cfg, now).map(|m| (NfcKind::Vas, m.into_bytes()));
            }
            Wallet::Google => {
                let st = cfg
                    .smart_tap
                    .as_ref()
                    .ok_or(TapError::NotConfigured("Google"))?;
                return smarttap::read(t, st, &info)
                    .map(|r| (NfcKind::SmartTap, r.redemption_value));
            }
            Wallet::Unknown => {}
        }
    }
    if cfg.ndef {
        if let Some(records) = type4::read(t)? {
            if let Some(v) = records.iter().find_map(|r| r.pass_value()) {
                return Ok((NfcKind::Ndef, v.into_bytes()));
            }
        }
    }
    if cfg.uid {
        let r = exchange(t, &get_uid_command())?;
        if r.sw.is_ok() && !r.data.is_empty() && r.data.len() <= 10 {
            let hex: String = r.data.iter().map(|b| format!("{b:02X}")).collect();
            return Ok((NfcKind::Uid, hex.into_bytes()));
        }
    }
    Err(TapError::Unreadable)
}

/// GET DATA for each configured pass type until the phone has one; decrypt and check it.
pub fn read_vas<T: ApduTransport + ?Sized>(
    t: &mut T,
    cfg: &VasConfig,
    now: SystemTime,
) -> Result<String, TapError> {
    let mut last = TapError::NoPassForShop;
    for (i, ptid) in cfg.pass_type_ids.iter().enumerate() {
        let req = vas::VasRequest {
            pass_type_id: ptid,
            more_follows: i + 1 < cfg.pass_type_ids.len(),
            ..Default::default()
        };
        let resp = exchange(t, &vas::get_data_command(&req))?;
        match vas::parse_get_data(&resp) {
            Ok(r) => {
                let payload = vas::decrypt(&r.cryptogram, ptid, &cfg.keys)?;
                payload.check_fresh(now, cfg.max_age)?;
                return Ok(payload.message);
            }
            // This pass type is not on the phone: try the next one.
            Err(TapError::NoPassForShop) => last = TapError::NoPassForShop,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}
