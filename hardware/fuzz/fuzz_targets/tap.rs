//! A whole tap against a card that answers with the fuzzer's bytes: the input is a list of
//! responses (`u8 length ‖ bytes`, repeated), served one per command APDU, then "card
//! removed". Runs `read_tap` with VAS, Smart Tap, NDEF and UID all enabled: SELECT, 61xx /
//! 6Cxx chains, GET MORE, status words, TLV and NDEF on every path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use passdesk_hardware::nfc::{
    read_tap, sim, ApduTransport, SmartTapConfig, TapConfig, TransportError, VasConfig,
};
use std::sync::OnceLock;
use std::time::SystemTime;

struct Scripted<'a> {
    rest: &'a [u8],
    sent: usize,
}

impl ApduTransport for Scripted<'_> {
    fn transmit(&mut self, _apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.sent += 1;
        // Every tap path is bounded; this catches a loop that is not.
        assert!(self.sent < 10_000, "a tap sent more than 10,000 APDUs");
        let Some((&len, body)) = self.rest.split_first() else {
            return Err(TransportError::CardRemoved);
        };
        let n = usize::from(len).min(body.len());
        let (answer, rest) = body.split_at(n);
        self.rest = rest;
        Ok(answer.to_vec())
    }
}

fuzz_target!(|data: &[u8]| {
    static CFG: OnceLock<TapConfig> = OnceLock::new();
    let cfg = CFG.get_or_init(|| TapConfig {
        vas: Some(VasConfig::new(sim::DEMO_PASS_TYPE_ID, sim::demo_vas_key())),
        smart_tap: Some(SmartTapConfig::new(sim::demo_collector())),
        ndef: true,
        uid: true,
    });
    let mut t = Scripted {
        rest: data,
        sent: 0,
    };
    let _ = read_tap(&mut t, cfg, "fuzz", SystemTime::now());
});
