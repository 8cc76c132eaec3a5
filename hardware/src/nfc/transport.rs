//! The one thing the tap logic needs from a reader: send a command APDU, get the response.
//! PC/SC cards, vpcd virtual cards and in-process simulated phones all implement it.

use crate::nfc::apdu::{self, Command, Response};
use crate::nfc::error::{TapError, TransportError};

pub trait ApduTransport {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError>;
}

impl<T: ApduTransport + ?Sized> ApduTransport for &mut T {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(apdu)
    }
}

/// Largest response we assemble from `61xx` chains: far above anything a wallet sends, low
/// enough that a misbehaving card cannot make us allocate without end.
pub const MAX_RESPONSE: usize = 64 * 1024;
const MAX_GET_RESPONSE: usize = 64;

/// Sends `cmd` and returns its response, following the T=0 conventions a PC/SC stack may
/// leave to us: `61xx` (more bytes: GET RESPONSE) and `6Cxx` (wrong Le: resend with xx).
pub fn exchange<T: ApduTransport + ?Sized>(t: &mut T, cmd: &Command) -> Result<Response, TapError> {
    let mut resp = Response::parse(&t.transmit(&cmd.to_bytes()?)?)?;
    if resp.sw.sw1() == 0x6C {
        let retry = cmd.clone().with_le(resp.sw.sw2());
        resp = Response::parse(&t.transmit(&retry.to_bytes()?)?)?;
    }
    let mut data = std::mem::take(&mut resp.data);
    let mut rounds = 0;
    while resp.sw.sw1() == 0x61 {
        rounds += 1;
        if rounds > MAX_GET_RESPONSE || data.len() > MAX_RESPONSE {
            return Err(TapError::malformed(
                "response chain",
                "too many 61xx continuations",
            ));
        }
        resp = Response::parse(&t.transmit(&apdu::get_response(resp.sw.sw2()).to_bytes()?)?)?;
        data.append(&mut resp.data);
    }
    resp.data = data;
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nfc::apdu::StatusWord;

    struct Script(Vec<Vec<u8>>, Vec<Vec<u8>>);
    impl ApduTransport for Script {
        fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
            self.1.push(apdu.to_vec());
            if self.0.is_empty() {
                return Err(TransportError::CardRemoved);
            }
            Ok(self.0.remove(0))
        }
    }

    #[test]
    fn follows_61xx_and_6cxx() {
        let mut s = Script(
            vec![
                vec![0x6C, 0x04],
                vec![1, 2, 0x61, 0x02],
                vec![3, 4, 0x90, 0x00],
            ],
            vec![],
        );
        let r = exchange(&mut s, &Command::new(0, 0xB0, 0, 0).with_le(0)).unwrap();
        assert_eq!(r.data, [1, 2, 3, 4]);
        assert_eq!(r.sw, StatusWord::OK);
        assert_eq!(
            s.1,
            vec![
                vec![0, 0xB0, 0, 0, 0],
                vec![0, 0xB0, 0, 0, 4],
                vec![0, 0xC0, 0, 0, 2]
            ]
        );
    }

    #[test]
    fn endless_61xx_and_short_answers_are_errors() {
        let mut s = Script(vec![vec![0x61, 0x01]; 100], vec![]);
        assert!(matches!(
            exchange(&mut s, &Command::new(0, 0, 0, 0)),
            Err(TapError::Malformed { .. })
        ));
        let mut s = Script(vec![vec![0x90]], vec![]);
        assert!(matches!(
            exchange(&mut s, &Command::new(0, 0, 0, 0)),
            Err(TapError::Malformed { .. })
        ));
        let mut s = Script(vec![], vec![]);
        assert_eq!(
            exchange(&mut s, &Command::new(0, 0, 0, 0)),
            Err(TapError::Transport(TransportError::CardRemoved))
        );
    }
}
