//! Google Smart Tap, what the handset sends: the SELECT answer, the negotiate answer, the GET
//! DATA answer, the record bundle (HMAC + AES-CTR under fixed session keys, zlib) and the pass
//! records (the redemption value by type or by id).
#![no_main]

use libfuzzer_sys::fuzz_target;
use passdesk_hardware::nfc::smarttap::crypto::{self, SessionKeys};
use passdesk_hardware::nfc::smarttap::messages::{
    self, NegotiateResponse, SelectResponse, ServiceResponse,
};
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static KEYS: OnceLock<SessionKeys> = OnceLock::new();
    let keys = KEYS.get_or_init(|| SessionKeys::derive(&[7; 32], &[2; 33], b"fuzz"));
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 6 {
        0 => {
            let _ = NegotiateResponse::parse(rest);
        }
        1 => {
            if let Ok(r) = ServiceResponse::parse(rest) {
                let _ = keys.open(&r.body);
            }
        }
        2 => {
            let _ = messages::parse_services(rest);
        }
        3 => {
            if let Ok(plain) = crypto::inflate(rest) {
                assert!(plain.len() as u64 <= crypto::MAX_INFLATED);
                let _ = messages::parse_services(&plain);
            }
        }
        5 => {
            if let Ok(answer) = SelectResponse::parse(rest) {
                let _ = answer.supports(messages::VERSION);
            }
        }
        _ => {
            // A bundle with a valid MAC: the fuzzer's bytes are the plaintext.
            let sealed = keys.seal(&[1; crypto::IV_LEN], rest);
            let plain = keys.open(&sealed).expect("a sealed bundle opens");
            assert_eq!(plain, rest);
            if let Ok(p) = crypto::inflate(&plain) {
                let _ = messages::parse_services(&p);
            }
        }
    }
});
