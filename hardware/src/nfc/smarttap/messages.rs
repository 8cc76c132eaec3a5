//! Smart Tap 2.1 bodies: nested NDEF messages, both directions (the reader's, and the
//! handset's for simulators). Every parser is bounded by `ndef`'s.
//!
//! Google's tables name each record "by record type or id": an external record carries its
//! name (`ses`, `ly`, `n`, ...) as its type, a well-known one as its id (the service number `n`
//! may be a Text record `T` whose id is `n`, which is how Google's sample terminal finds it).
//! Every record here is looked up by either ([`Record::named`]).

use crate::nfc::error::TapError;
use crate::nfc::ndef::{self, Record};

/// Version field of `ngr` and `srq`.
pub const VERSION: [u8; 2] = [0x00, 0x01];
/// Format byte of binary leaf payloads (`sig`, `cld`, ...).
pub const FORMAT_BINARY: u8 = 0x04;
/// `cpr` auth byte: live authentication.
pub const AUTH_LIVE: u8 = 0x01;
/// Service type `00`: every kind of pass the collector may read.
pub const SERVICE_ALL: u8 = 0x00;
/// POS capabilities (`pcr`): a standalone VAS terminal, no payment.
pub const POS_CAPABILITIES: [u8; 5] = [0x00, 0x00, 0x00, 0x00, 0x00];
/// Pass object records that carry a redemption value `n`.
pub const OBJECT_TYPES: [&str; 8] = ["ly", "gc", "of", "et", "fl", "tr", "gr", "pl"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub id: [u8; 8],
    pub seq: u8,
    pub status: u8,
}

impl Session {
    pub fn record(&self) -> Record {
        let mut p = self.id.to_vec();
        p.extend_from_slice(&[self.seq, self.status]);
        Record::external("ses", p)
    }

    fn parse(p: &[u8]) -> Result<Self, TapError> {
        match p {
            [id @ .., seq, status] if id.len() == 8 => Ok(Self {
                id: id.try_into().map_err(|_| bad("ses", "length"))?,
                seq: *seq,
                status: *status,
            }),
            _ => Err(bad("ses", format!("{} bytes", p.len()))),
        }
    }
}

fn bad(what: &'static str, detail: impl std::fmt::Display) -> TapError {
    TapError::malformed(what, detail)
}

fn parse_ndef(what: &'static str, bytes: &[u8]) -> Result<Vec<Record>, TapError> {
    ndef::parse(bytes).map_err(|e| bad(what, e))
}

fn find<'a>(records: &'a [Record], name: &'static str) -> Result<&'a Record, TapError> {
    records
        .iter()
        .find(|r| r.named(name))
        .ok_or_else(|| bad(name, "record missing"))
}

/// Strips the leading format byte of a binary leaf when it is there.
fn leaf(p: &[u8], len: usize) -> Option<&[u8]> {
    match p.len() {
        n if n == len => Some(p),
        n if n == len + 1 && p[0] == FORMAT_BINARY => Some(&p[1..]),
        _ => None,
    }
}

fn u32_leaf(p: &[u8]) -> Option<u32> {
    leaf(p, 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn cld(collector_id: u32) -> Record {
    let mut p = vec![FORMAT_BINARY];
    p.extend_from_slice(&collector_id.to_be_bytes());
    Record::external("cld", p)
}

/// The answer to SELECT Smart Tap 2: `minVersion(2) ‖ maxVersion(2) ‖ NDEF[ mdn ]`, the
/// handset's nonce in a record whose type and id are both `mdn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectResponse {
    pub min_version: [u8; 2],
    pub max_version: [u8; 2],
    /// `mdn`, format byte removed; `None` when the handset sent no nonce record.
    pub device_nonce: Option<[u8; 32]>,
}

impl SelectResponse {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = [self.min_version, self.max_version].concat();
        if let Some(nonce) = &self.device_nonce {
            let mut mdn = Record::external("mdn", [&[FORMAT_BINARY][..], nonce].concat());
            mdn.id = b"mdn".to_vec();
            out.extend(ndef::encode(&[mdn]));
        }
        out
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, TapError> {
        let (versions, rest) = bytes
            .split_first_chunk::<4>()
            .ok_or_else(|| bad("Smart Tap SELECT answer", format!("{} bytes", bytes.len())))?;
        let [a, b, c, d] = *versions;
        let device_nonce = if rest.is_empty() {
            None
        } else {
            let records = parse_ndef("Smart Tap SELECT answer", rest)?;
            match records.iter().find(|r| r.named("mdn")) {
                Some(mdn) => Some(
                    leaf(&mdn.payload, 32)
                        .and_then(|n| n.try_into().ok())
                        .ok_or_else(|| bad("mdn", format!("{} bytes", mdn.payload.len())))?,
                ),
                None => None,
            }
        };
        Ok(Self {
            min_version: [a, b],
            max_version: [c, d],
            device_nonce,
        })
    }

    /// Whether the handset speaks the version this reader does ([`VERSION`], Smart Tap 2.1).
    pub fn supports(&self, version: [u8; 2]) -> bool {
        (self.min_version..=self.max_version).contains(&version)
    }
}

/// NEGOTIATE SECURE SESSION, as the reader sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiateRequest {
    pub session: Session,
    pub reader_nonce: [u8; 32],
    pub auth: u8,
    pub reader_eph: [u8; 33],
    pub key_version: u32,
    pub signature_der: Vec<u8>,
    pub collector_id: u32,
}

impl NegotiateRequest {
    pub fn encode(&self) -> Vec<u8> {
        let mut sig = vec![FORMAT_BINARY];
        sig.extend_from_slice(&self.signature_der);
        let mut cpr = self.reader_nonce.to_vec();
        cpr.push(self.auth);
        cpr.extend_from_slice(&self.reader_eph);
        cpr.extend_from_slice(&self.key_version.to_be_bytes());
        cpr.extend(ndef::encode(&[
            Record::external("sig", sig),
            cld(self.collector_id),
        ]));
        let mut ngr = VERSION.to_vec();
        ngr.extend(ndef::encode(&[
            self.session.record(),
            Record::external("cpr", cpr),
        ]));
        ndef::encode(&[Record::external("ngr", ngr)])
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, TapError> {
        let top = parse_ndef("negotiate request", bytes)?;
        let ngr = &find(&top, "ngr")?.payload;
        let inner = parse_ndef("ngr", ngr.get(2..).ok_or_else(|| bad("ngr", "too short"))?)?;
        let session = Session::parse(&find(&inner, "ses")?.payload)?;
        let cpr = &find(&inner, "cpr")?.payload;
        if cpr.len() < 32 + 1 + 33 + 4 {
            return Err(bad("cpr", format!("{} bytes", cpr.len())));
        }
        let (nonce, rest) = cpr.split_at(32);
        let (auth, rest) = rest.split_at(1);
        let (eph, rest) = rest.split_at(33);
        let (version, rest) = rest.split_at(4);
        let nested = parse_ndef("cpr", rest)?;
        let sig = &find(&nested, "sig")?.payload;
        let signature_der = match sig.split_first() {
            Some((&FORMAT_BINARY, der)) => der.to_vec(),
            _ => return Err(bad("sig", "no binary format byte")),
        };
        Ok(Self {
            session,
            reader_nonce: nonce.try_into().map_err(|_| bad("cpr", "nonce"))?,
            auth: auth[0],
            reader_eph: eph.try_into().map_err(|_| bad("cpr", "key"))?,
            key_version: u32::from_be_bytes([version[0], version[1], version[2], version[3]]),
            signature_der,
            collector_id: u32_leaf(&find(&nested, "cld")?.payload)
                .ok_or_else(|| bad("cld", "not 4 bytes"))?,
        })
    }
}

/// The handset's answer to NEGOTIATE: `nrs[ ses, dpk ]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiateResponse {
    pub session: Session,
    pub device_key: [u8; 33],
}

impl NegotiateResponse {
    pub fn encode(&self) -> Vec<u8> {
        let nrs = ndef::encode(&[
            self.session.record(),
            Record::external("dpk", self.device_key.to_vec()),
        ]);
        ndef::encode(&[Record::external("nrs", nrs)])
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, TapError> {
        let top = parse_ndef("negotiate response", bytes)?;
        let inner = parse_ndef("nrs", &find(&top, "nrs")?.payload)?;
        let key = leaf(&find(&inner, "dpk")?.payload, 33)
            .ok_or_else(|| bad("dpk", "not a compressed P-256 key"))?;
        Ok(Self {
            session: Session::parse(&find(&inner, "ses")?.payload)?,
            device_key: key.try_into().map_err(|_| bad("dpk", "length"))?,
        })
    }
}

/// GET DATA, as the reader sends it: `srq(00 01 ‖ NDEF[ ses, mer[cld], slr[str], pcr ])`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRequest {
    pub session: Session,
    pub collector_id: u32,
    pub service_types: Vec<u8>,
    pub pos_capabilities: [u8; 5],
}

impl ServiceRequest {
    pub fn encode(&self) -> Vec<u8> {
        let mer = ndef::encode(&[cld(self.collector_id)]);
        let slr = ndef::encode(&[Record::external("str", self.service_types.clone())]);
        let mut srq = VERSION.to_vec();
        srq.extend(ndef::encode(&[
            self.session.record(),
            Record::external("mer", mer),
            Record::external("slr", slr),
            Record::external("pcr", self.pos_capabilities.to_vec()),
        ]));
        ndef::encode(&[Record::external("srq", srq)])
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, TapError> {
        let top = parse_ndef("get data request", bytes)?;
        let srq = &find(&top, "srq")?.payload;
        let inner = parse_ndef("srq", srq.get(2..).ok_or_else(|| bad("srq", "too short"))?)?;
        let mer = parse_ndef("mer", &find(&inner, "mer")?.payload)?;
        let slr = parse_ndef("slr", &find(&inner, "slr")?.payload)?;
        Ok(Self {
            session: Session::parse(&find(&inner, "ses")?.payload)?,
            collector_id: u32_leaf(&find(&mer, "cld")?.payload)
                .ok_or_else(|| bad("cld", "not 4 bytes"))?,
            service_types: find(&slr, "str")?.payload.clone(),
            pos_capabilities: find(&inner, "pcr")?
                .payload
                .as_slice()
                .try_into()
                .map_err(|_| bad("pcr", "not 5 bytes"))?,
        })
    }
}

pub const BUNDLE_ENCRYPTED: u8 = 0x01;
pub const BUNDLE_COMPRESSED: u8 = 0x02;

/// The handset's answer to GET DATA: `srs[ ses, reb(flags ‖ body) ]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceResponse {
    pub session: Session,
    pub flags: u8,
    pub body: Vec<u8>,
}

impl ServiceResponse {
    pub fn encode(&self) -> Vec<u8> {
        let mut reb = vec![self.flags];
        reb.extend_from_slice(&self.body);
        let srs = ndef::encode(&[self.session.record(), Record::external("reb", reb)]);
        ndef::encode(&[Record::external("srs", srs)])
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, TapError> {
        let top = parse_ndef("get data response", bytes)?;
        let inner = parse_ndef("srs", &find(&top, "srs")?.payload)?;
        let reb = &find(&inner, "reb")?.payload;
        let (flags, body) = reb.split_first().ok_or_else(|| bad("reb", "empty"))?;
        Ok(Self {
            session: Session::parse(&find(&inner, "ses")?.payload)?,
            flags: *flags,
            body: body.to_vec(),
        })
    }
}

/// One pass found in a decrypted bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceValue {
    /// The object record's type: `ly` loyalty, `et` event ticket, `gr` generic, ...
    pub object_type: String,
    /// `n`: the `smartTapRedemptionValue`, format byte removed.
    pub redemption_value: Vec<u8>,
}

/// Finds the passes in a plaintext bundle: `asv` records, each holding one pass object
/// (`ly`, `et`, ...) that holds `n`.
pub fn parse_services(plain: &[u8]) -> Result<Vec<ServiceValue>, TapError> {
    let mut out = Vec::new();
    for asv in parse_ndef("record bundle", plain)?
        .iter()
        .filter(|r| r.named("asv"))
    {
        for obj in parse_ndef("asv", &asv.payload)? {
            let Some(object_type) = OBJECT_TYPES.iter().find(|t| obj.named(t)) else {
                continue;
            };
            let fields = parse_ndef(object_type_name(object_type), &obj.payload)?;
            let value = fields
                .iter()
                .find(|r| r.named("n"))
                .and_then(service_number)
                .unwrap_or_default();
            if !value.is_empty() {
                out.push(ServiceValue {
                    object_type: (*object_type).to_owned(),
                    redemption_value: value,
                });
            }
        }
    }
    Ok(out)
}

/// How a handset writes the service number `n`: Google's tables allow "PRIMITIVE or RTD_TEXT".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ServiceNumberForm {
    /// An external record of type `n`: a format byte, then the value.
    #[default]
    Primitive,
    /// A well-known Text record (`T`) whose id is `n`: status byte, language code, text.
    Text,
}

/// The value of a service number record in either form; `None` when a Text record does not
/// decode.
fn service_number(n: &Record) -> Option<Vec<u8>> {
    if n.is_text() {
        // The NFC Forum Text layout, language code skipped. (Google's sample terminal takes
        // the payload after its first byte, which agrees when the language code is empty.)
        n.pass_value().map(String::into_bytes)
    } else {
        Some(n.payload.get(1..).unwrap_or_default().to_vec())
    }
}

fn object_type_name(t: &str) -> &'static str {
    match t {
        "ly" => "loyalty object",
        "et" => "event ticket object",
        "gr" => "generic object",
        _ => "pass object",
    }
}

/// The handset's bundle: one `asv` per pass, each with one pass object carrying `n` as an
/// external record (format `00`).
pub fn encode_services(values: &[ServiceValue]) -> Vec<u8> {
    encode_services_as(values, ServiceNumberForm::Primitive)
}

/// The handset's bundle with `n` in `form` (a Text record is written in English).
pub fn encode_services_as(values: &[ServiceValue], form: ServiceNumberForm) -> Vec<u8> {
    let asvs: Vec<Record> = values
        .iter()
        .map(|v| {
            let n = match form {
                ServiceNumberForm::Primitive => {
                    Record::external("n", [&[0x00][..], &v.redemption_value].concat())
                }
                ServiceNumberForm::Text => Record {
                    tnf: ndef::TNF_WELL_KNOWN,
                    record_type: b"T".to_vec(),
                    id: b"n".to_vec(),
                    payload: [&[2u8][..], b"en", &v.redemption_value].concat(),
                },
            };
            let obj = ndef::encode(&[n]);
            let asv = ndef::encode(&[Record::external(&v.object_type, obj)]);
            Record::external("asv", asv)
        })
        .collect();
    ndef::encode(&asvs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(seq: u8) -> Session {
        Session {
            id: [1, 2, 3, 4, 5, 6, 7, 8],
            seq,
            status: 1,
        }
    }

    #[test]
    fn every_message_round_trips() {
        let n = NegotiateRequest {
            session: session(1),
            reader_nonce: [9; 32],
            auth: AUTH_LIVE,
            reader_eph: [2; 33],
            key_version: 1,
            signature_der: vec![0x30; 71],
            collector_id: 20180608,
        };
        let bytes = n.encode();
        assert!(
            bytes.len() <= 255,
            "{} bytes must fit a short APDU",
            bytes.len()
        );
        assert_eq!(NegotiateRequest::parse(&bytes).unwrap(), n);
        let r = NegotiateResponse {
            session: session(1),
            device_key: [3; 33],
        };
        assert_eq!(NegotiateResponse::parse(&r.encode()).unwrap(), r);
        let q = ServiceRequest {
            session: session(2),
            collector_id: 7,
            service_types: vec![SERVICE_ALL],
            pos_capabilities: POS_CAPABILITIES,
        };
        assert_eq!(ServiceRequest::parse(&q.encode()).unwrap(), q);
        let s = ServiceResponse {
            session: session(2),
            flags: 3,
            body: vec![5; 400],
        };
        assert_eq!(ServiceResponse::parse(&s.encode()).unwrap(), s);
        let v = vec![ServiceValue {
            object_type: "ly".into(),
            redemption_value: b"BEAN-0001".to_vec(),
        }];
        for form in [ServiceNumberForm::Primitive, ServiceNumberForm::Text] {
            assert_eq!(parse_services(&encode_services_as(&v, form)).unwrap(), v);
        }
        let select = SelectResponse {
            min_version: [0, 0],
            max_version: VERSION,
            device_nonce: Some([4; 32]),
        };
        assert_eq!(SelectResponse::parse(&select.encode()).unwrap(), select);
        assert!(select.supports(VERSION));
    }

    #[test]
    fn garbage_and_truncation_never_panic() {
        let n = NegotiateRequest {
            session: session(1),
            reader_nonce: [9; 32],
            auth: AUTH_LIVE,
            reader_eph: [2; 33],
            key_version: 1,
            signature_der: vec![0x30; 71],
            collector_id: 20180608,
        }
        .encode();
        let s = ServiceResponse {
            session: session(2),
            flags: 3,
            body: vec![5; 40],
        }
        .encode();
        let values = [ServiceValue {
            object_type: "et".into(),
            redemption_value: b"X".to_vec(),
        }];
        let v = encode_services(&values);
        let t = encode_services_as(&values, ServiceNumberForm::Text);
        let select = SelectResponse {
            min_version: [0, 0],
            max_version: VERSION,
            device_nonce: Some([4; 32]),
        }
        .encode();
        for msg in [&n, &s, &v, &t, &select] {
            for i in 0..msg.len() {
                let cut = &msg[..i];
                assert!(NegotiateRequest::parse(cut).is_err());
                assert!(ServiceResponse::parse(cut).is_err());
                let _ = NegotiateResponse::parse(cut);
                let _ = ServiceRequest::parse(cut);
                let _ = parse_services(cut);
                let _ = SelectResponse::parse(cut);
                let mut c = msg.clone();
                c[i] ^= 0xFF;
                let _ = NegotiateRequest::parse(&c);
                let _ = ServiceResponse::parse(&c);
                let _ = parse_services(&c);
                let _ = SelectResponse::parse(&c);
            }
        }
    }
}
