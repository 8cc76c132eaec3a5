//! ISO 7816-4 command APDUs (short form only: every wallet command fits in 255 bytes) and
//! response status words.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApduError {
    #[error("command data of {0} bytes does not fit a short APDU (at most 255)")]
    DataTooLong(usize),
    #[error("response of {0} bytes has no status word")]
    NoStatusWord(usize),
}

/// A command APDU. `le: Some(0)` encodes `00`, i.e. "up to 256 bytes".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: Vec<u8>,
    pub le: Option<u8>,
}

impl Command {
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        Self {
            cla,
            ins,
            p1,
            p2,
            data: Vec::new(),
            le: None,
        }
    }

    pub fn with_data(mut self, data: Vec<u8>) -> Self {
        self.data = data;
        self
    }

    pub fn with_le(mut self, le: u8) -> Self {
        self.le = Some(le);
        self
    }

    /// Serialises the command. Fails (rather than silently switching to extended length,
    /// which many contactless readers reject) when the data is longer than 255 bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ApduError> {
        let lc =
            u8::try_from(self.data.len()).map_err(|_| ApduError::DataTooLong(self.data.len()))?;
        let mut out = Vec::with_capacity(6 + self.data.len());
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if lc > 0 {
            out.push(lc);
            out.extend_from_slice(&self.data);
        }
        if let Some(le) = self.le {
            out.push(le);
        }
        Ok(out)
    }
}

/// `SELECT` by DF name (AID), first or only occurrence, asking for the FCI.
pub fn select_aid(aid: &[u8]) -> Command {
    Command::new(0x00, 0xA4, 0x04, 0x00)
        .with_data(aid.to_vec())
        .with_le(0x00)
}

/// ISO 7816-4 GET RESPONSE, after a `61xx` status.
pub fn get_response(len: u8) -> Command {
    Command::new(0x00, 0xC0, 0x00, 0x00).with_le(len)
}

/// A response APDU split into its data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub data: Vec<u8>,
    pub sw: StatusWord,
}

impl Response {
    pub fn parse(raw: &[u8]) -> Result<Self, ApduError> {
        match raw.len().checked_sub(2) {
            Some(n) => Ok(Self {
                data: raw[..n].to_vec(),
                sw: StatusWord(u16::from_be_bytes([raw[n], raw[n + 1]])),
            }),
            None => Err(ApduError::NoStatusWord(raw.len())),
        }
    }

    /// `data ‖ SW1 SW2`, as a card sends it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.data.clone();
        out.extend_from_slice(&self.sw.0.to_be_bytes());
        out
    }
}

/// SW1 SW2 as one number, e.g. `0x9000`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(pub u16);

impl StatusWord {
    pub const OK: Self = Self(0x9000);
    pub const FILE_NOT_FOUND: Self = Self(0x6A82);
    pub const INS_NOT_SUPPORTED: Self = Self(0x6D00);

    pub fn sw1(self) -> u8 {
        (self.0 >> 8) as u8
    }

    pub fn sw2(self) -> u8 {
        self.0 as u8
    }

    pub fn is_ok(self) -> bool {
        self == Self::OK
    }
}

impl std::fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

impl std::fmt::Display for StatusWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_ose_is_byte_exact() {
        let apdu = select_aid(b"OSE.VAS.01").to_bytes().unwrap();
        assert_eq!(hex::encode(apdu), "00a404000a4f53452e5641532e303100");
    }

    #[test]
    fn case_1_and_2_commands() {
        assert_eq!(
            Command::new(0x90, 0xC0, 0, 0).to_bytes().unwrap(),
            [0x90, 0xC0, 0, 0]
        );
        assert_eq!(
            get_response(0x10).to_bytes().unwrap(),
            [0, 0xC0, 0, 0, 0x10]
        );
    }

    #[test]
    fn long_data_is_refused_not_truncated() {
        let c = Command::new(0x80, 0xCA, 1, 1).with_data(vec![0; 256]);
        assert_eq!(c.to_bytes(), Err(ApduError::DataTooLong(256)));
    }

    #[test]
    fn responses_split_and_garbage_is_an_error() {
        let r = Response::parse(&[1, 2, 0x90, 0x00]).unwrap();
        assert_eq!(r.data, [1, 2]);
        assert!(r.sw.is_ok());
        assert_eq!(r.to_bytes(), [1, 2, 0x90, 0]);
        assert_eq!(Response::parse(&[0x90]), Err(ApduError::NoStatusWord(1)));
        assert_eq!(Response::parse(&[]), Err(ApduError::NoStatusWord(0)));
        assert_eq!(format!("{}", StatusWord(0x6a83)), "6A83");
    }
}
