//! Smart Tap 2.1 bodies: nested NDEF messages of external-type records, both directions
//! (the reader's, and the handset's for simulators). Every parser is bounded by `ndef`'s.

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

fn find<'a>(records: &'a [Record], t: &'static str) -> Result<&'a Record, TapError> {
    records
        .iter()
        .find(|r| r.is(t))
        .ok_or_else(|| bad(t, "record missing"))
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
        .filter(|r| r.is("asv"))
    {
        for obj in parse_ndef("asv", &asv.payload)? {
            let Some(object_type) = OBJECT_TYPES.iter().find(|t| obj.is(t)) else {
                continue;
            };
            let fields = parse_ndef(object_type_name(object_type), &obj.payload)?;
            if let Some(n) = fields.iter().find(|r| r.is("n")) {
                let value = n.payload.get(1..).unwrap_or_default();
                if !value.is_empty() {
                    out.push(ServiceValue {
                        object_type: (*object_type).to_owned(),
                        redemption_value: value.to_vec(),
                    });
                }
            }
        }
    }
    Ok(out)
}

fn object_type_name(t: &str) -> &'static str {
    match t {
        "ly" => "loyalty object",
        "et" => "event ticket object",
        "gr" => "generic object",
        _ => "pass object",
    }
}

/// The handset's bundle: one `asv` with one pass object carrying `n` (format `00`).
pub fn encode_services(values: &[ServiceValue]) -> Vec<u8> {
    let asvs: Vec<Record> = values
        .iter()
        .map(|v| {
            let mut n = vec![0x00];
            n.extend_from_slice(&v.redemption_value);
            let obj = ndef::encode(&[Record::external("n", n)]);
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
        assert_eq!(parse_services(&encode_services(&v)).unwrap(), v);
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
        let v = encode_services(&[ServiceValue {
            object_type: "et".into(),
            redemption_value: b"X".to_vec(),
        }]);
        for msg in [&n, &s, &v] {
            for i in 0..msg.len() {
                let cut = &msg[..i];
                assert!(NegotiateRequest::parse(cut).is_err());
                assert!(ServiceResponse::parse(cut).is_err());
                let _ = NegotiateResponse::parse(cut);
                let _ = ServiceRequest::parse(cut);
                let _ = parse_services(cut);
                let mut c = msg.clone();
                c[i] ^= 0xFF;
                let _ = NegotiateRequest::parse(&c);
                let _ = ServiceResponse::parse(&c);
                let _ = parse_services(&c);
            }
        }
    }
}
