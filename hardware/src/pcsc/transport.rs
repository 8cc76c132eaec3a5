//! A connected PC/SC card as an [`ApduTransport`].

use crate::nfc::{ApduTransport, TransportError};

pub struct CardTransport<'a> {
    card: &'a pcsc::Card,
    buf: Vec<u8>,
    sent: usize,
}

impl<'a> CardTransport<'a> {
    pub fn new(card: &'a pcsc::Card) -> Self {
        Self {
            card,
            buf: vec![0; pcsc::MAX_BUFFER_SIZE_EXTENDED],
            sent: 0,
        }
    }

    /// Command APDUs transmitted so far (GET RESPONSE and retries included).
    pub fn sent(&self) -> usize {
        self.sent
    }
}

impl ApduTransport for CardTransport<'_> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.sent += 1;
        match self.card.transmit(apdu, &mut self.buf) {
            Ok(r) => Ok(r.to_vec()),
            Err(
                pcsc::Error::RemovedCard
                | pcsc::Error::ResetCard
                | pcsc::Error::NoSmartcard
                | pcsc::Error::UnpoweredCard
                | pcsc::Error::UnresponsiveCard,
            ) => Err(TransportError::CardRemoved),
            Err(e) => Err(TransportError::Io(e.to_string())),
        }
    }
}
