//! NDEF messages (NFC Forum): the records on plain tags and the envelope Smart Tap nests its
//! messages in. Parsing is bounded by the buffer and by [`MAX_RECORDS`]; chunked records are
//! refused (no wallet or tag we read uses them).

use thiserror::Error;

pub const MAX_RECORDS: usize = 64;

pub const TNF_EMPTY: u8 = 0x00;
pub const TNF_WELL_KNOWN: u8 = 0x01;
pub const TNF_EXTERNAL: u8 = 0x04;

const MB: u8 = 0x80;
const ME: u8 = 0x40;
const CF: u8 = 0x20;
const SR: u8 = 0x10;
const IL: u8 = 0x08;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NdefError {
    #[error("NDEF cut short at byte {0}")]
    Truncated(usize),
    #[error("NDEF message is empty")]
    Empty,
    #[error("chunked NDEF record at byte {0} (not supported)")]
    Chunked(usize),
    #[error("NDEF message has more than {MAX_RECORDS} records")]
    TooManyRecords,
    #[error("NDEF record at byte {0} lacks its begin/end flag")]
    BadFlags(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub tnf: u8,
    pub record_type: Vec<u8>,
    pub id: Vec<u8>,
    pub payload: Vec<u8>,
}

impl Record {
    /// An NFC Forum external-type record, as Smart Tap uses (`ses`, `cpr`, ...).
    pub fn external(record_type: &str, payload: Vec<u8>) -> Self {
        Self {
            tnf: TNF_EXTERNAL,
            record_type: record_type.as_bytes().to_vec(),
            id: Vec::new(),
            payload,
        }
    }

    pub fn is(&self, record_type: &str) -> bool {
        self.record_type == record_type.as_bytes()
    }

    /// Whether the record goes by `name` in its type or in its id. Smart Tap names each of its
    /// records (`ses`, `ly`, `n`, ...) in either field: external records carry the name as their
    /// type, well-known ones as their id (a Text record `T` whose id is `n`), and handsets may
    /// set both (`mdn`).
    pub fn named(&self, name: &str) -> bool {
        self.record_type == name.as_bytes() || self.id == name.as_bytes()
    }

    /// Whether this is a well-known Text record (`T`).
    pub fn is_text(&self) -> bool {
        self.tnf == TNF_WELL_KNOWN && self.record_type == b"T"
    }

    /// A well-known Text record (`T`): UTF-8, with its language code.
    pub fn text(lang: &str, text: &str) -> Self {
        let mut payload = vec![(lang.len() & 0x3F) as u8];
        payload.extend_from_slice(&lang.as_bytes()[..lang.len().min(0x3F)]);
        payload.extend_from_slice(text.as_bytes());
        Self {
            tnf: TNF_WELL_KNOWN,
            record_type: b"T".to_vec(),
            id: Vec::new(),
            payload,
        }
    }

    /// A well-known URI record (`U`), written without prefix abbreviation.
    pub fn uri(uri: &str) -> Self {
        let mut payload = vec![0x00];
        payload.extend_from_slice(uri.as_bytes());
        Self {
            tnf: TNF_WELL_KNOWN,
            record_type: b"U".to_vec(),
            id: Vec::new(),
            payload,
        }
    }

    /// The value a counter looks up: the text of a Text record or the full URI of a URI
    /// record; `None` for any other record or an undecodable one.
    pub fn pass_value(&self) -> Option<String> {
        if self.tnf != TNF_WELL_KNOWN {
            return None;
        }
        match self.record_type.as_slice() {
            b"T" => decode_text(&self.payload),
            b"U" => decode_uri(&self.payload),
            _ => None,
        }
    }
}

fn decode_text(p: &[u8]) -> Option<String> {
    let (&status, rest) = p.split_first()?;
    let text = rest.get(usize::from(status & 0x3F)..)?;
    if status & 0x80 != 0 {
        // UTF-16, with an optional BOM (big-endian when absent).
        if text.len() % 2 != 0 {
            return None;
        }
        let le = text.starts_with(&[0xFF, 0xFE]);
        let units: Vec<u16> = text
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        let units = units.strip_prefix(&[0xFEFF]).unwrap_or(&units);
        String::from_utf16(units).ok()
    } else {
        String::from_utf8(text.to_vec()).ok()
    }
}

/// URI identifier codes 0x00..=0x23 (NFC Forum URI RTD).
const URI_PREFIXES: [&str; 36] = [
    "",
    "http://www.",
    "https://www.",
    "http://",
    "https://",
    "tel:",
    "mailto:",
    "ftp://anonymous:anonymous@",
    "ftp://ftp.",
    "ftps://",
    "sftp://",
    "smb://",
    "nfs://",
    "ftp://",
    "dav://",
    "news:",
    "telnet://",
    "imap:",
    "rtsp://",
    "urn:",
    "pop:",
    "sip:",
    "sips:",
    "tftp:",
    "btspp://",
    "btl2cap://",
    "btgoep://",
    "tcpobex://",
    "irdaobex://",
    "file://",
    "urn:epc:id:",
    "urn:epc:tag:",
    "urn:epc:pat:",
    "urn:epc:raw:",
    "urn:epc:",
    "urn:nfc:",
];

fn decode_uri(p: &[u8]) -> Option<String> {
    let (&code, rest) = p.split_first()?;
    let prefix = URI_PREFIXES.get(usize::from(code))?;
    let rest = std::str::from_utf8(rest).ok()?;
    Some(format!("{prefix}{rest}"))
}

/// Parses a whole NDEF message.
pub fn parse(input: &[u8]) -> Result<Vec<Record>, NdefError> {
    if input.is_empty() {
        return Err(NdefError::Empty);
    }
    let mut records = Vec::new();
    let mut pos = 0;
    loop {
        if records.len() >= MAX_RECORDS {
            return Err(NdefError::TooManyRecords);
        }
        let start = pos;
        let take = |pos: &mut usize, n: usize| -> Result<&[u8], NdefError> {
            let end = pos
                .checked_add(n)
                .filter(|&e| e <= input.len())
                .ok_or(NdefError::Truncated(input.len()))?;
            let s = &input[*pos..end];
            *pos = end;
            Ok(s)
        };
        let header = take(&mut pos, 1)?[0];
        if header & CF != 0 {
            return Err(NdefError::Chunked(start));
        }
        if (records.is_empty()) != (header & MB != 0) {
            return Err(NdefError::BadFlags(start));
        }
        let type_len = usize::from(take(&mut pos, 1)?[0]);
        let payload_len = if header & SR != 0 {
            usize::from(take(&mut pos, 1)?[0])
        } else {
            let b = take(&mut pos, 4)?;
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
        };
        let id_len = if header & IL != 0 {
            usize::from(take(&mut pos, 1)?[0])
        } else {
            0
        };
        let record_type = take(&mut pos, type_len)?.to_vec();
        let id = take(&mut pos, id_len)?.to_vec();
        let payload = take(&mut pos, payload_len)?.to_vec();
        records.push(Record {
            tnf: header & 0x07,
            record_type,
            id,
            payload,
        });
        if header & ME != 0 {
            // Trailing bytes after the last record: Type 4 tags may pad with zeros (`00` is
            // also the NDEF TLV terminator); anything else is garbage we ignore.
            return Ok(records);
        }
        if pos >= input.len() {
            return Err(NdefError::Truncated(pos));
        }
    }
}

/// Serialises records as one message (short records where the payload fits).
pub fn encode(records: &[Record]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let mut header = r.tnf & 0x07;
        if i == 0 {
            header |= MB;
        }
        if i + 1 == records.len() {
            header |= ME;
        }
        let short = r.payload.len() < 256;
        if short {
            header |= SR;
        }
        if !r.id.is_empty() {
            header |= IL;
        }
        out.push(header);
        out.push(r.record_type.len().min(255) as u8);
        if short {
            out.push(r.payload.len() as u8);
        } else {
            out.extend_from_slice(
                &u32::try_from(r.payload.len())
                    .unwrap_or(u32::MAX)
                    .to_be_bytes(),
            );
        }
        if !r.id.is_empty() {
            out.push(r.id.len().min(255) as u8);
        }
        out.extend_from_slice(&r.record_type[..r.record_type.len().min(255)]);
        out.extend_from_slice(&r.id[..r.id.len().min(255)]);
        out.extend_from_slice(&r.payload);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_uri_round_trip() {
        let msg = encode(&[
            Record::text("en", "BEAN-0001"),
            Record::uri("https://pass.example/p/42"),
        ]);
        let recs = parse(&msg).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].pass_value().as_deref(), Some("BEAN-0001"));
        assert_eq!(
            recs[1].pass_value().as_deref(),
            Some("https://pass.example/p/42")
        );
        // Abbreviated URI (0x04 = https://) and UTF-16 text.
        let u = Record {
            tnf: 1,
            record_type: b"U".to_vec(),
            id: vec![],
            payload: [&[4u8][..], b"x.io"].concat(),
        };
        assert_eq!(u.pass_value().as_deref(), Some("https://x.io"));
        let mut p = vec![0x80 | 2, b'd', b'e', 0xFE, 0xFF];
        p.extend("Ä1".encode_utf16().flat_map(u16::to_be_bytes));
        let t = Record {
            tnf: 1,
            record_type: b"T".to_vec(),
            id: vec![],
            payload: p,
        };
        assert_eq!(t.pass_value().as_deref(), Some("Ä1"));
    }

    #[test]
    fn long_records_and_ids() {
        let r = Record {
            tnf: 4,
            record_type: b"reb".to_vec(),
            id: b"i".to_vec(),
            payload: vec![9; 300],
        };
        assert_eq!(parse(&encode(std::slice::from_ref(&r))).unwrap(), vec![r]);
    }

    #[test]
    fn garbage_never_panics() {
        assert_eq!(parse(&[]), Err(NdefError::Empty));
        assert!(matches!(parse(&[0xD1, 0x01]), Err(NdefError::Truncated(_))));
        assert_eq!(parse(&[0xB1, 1, 0]), Err(NdefError::Chunked(0)));
        assert_eq!(parse(&[0x11, 1, 0, b'T']), Err(NdefError::BadFlags(0)));
        // Non-short record claiming 4 GiB.
        assert!(parse(&[0xC1, 1, 0xFF, 0xFF, 0xFF, 0xFF, b'T']).is_err());
        // Not the last record, nothing after it.
        assert!(parse(&[0x91, 1, 0, b'T']).is_err());
        let msg = encode(&[Record::text("en", "hello"), Record::uri("https://a.b")]);
        for n in 0..msg.len() {
            let _ = parse(&msg[..n]);
            for x in [0u8, 0x10, 0x20, 0x7F, 0xFF] {
                let mut c = msg.clone();
                c[n] = x;
                if let Ok(recs) = parse(&c) {
                    recs.iter().for_each(|r| drop(r.pass_value()));
                }
            }
        }
        // Broken text payloads.
        for p in [vec![], vec![0x3F], vec![0x80, 0x41], vec![0x00, 0xFF, 0xFE]] {
            let r = Record {
                tnf: 1,
                record_type: b"T".to_vec(),
                id: vec![],
                payload: p,
            };
            assert_eq!(r.pass_value(), None);
        }
        let u = Record {
            tnf: 1,
            record_type: b"U".to_vec(),
            id: vec![],
            payload: vec![0x99, b'a'],
        };
        assert_eq!(u.pass_value(), None);
        // Too many records.
        let many: Vec<Record> = (0..100).map(|_| Record::text("", "")).collect();
        assert_eq!(parse(&encode(&many)), Err(NdefError::TooManyRecords));
    }
}
