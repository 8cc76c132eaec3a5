//! Apple VAS: the GET DATA answer and the cryptogram decryptor. The first byte picks what the
//! rest is; for the decryptor the keyId is forced to the reader key's so that the input gets
//! past the key lookup into point decompression, the KDF and AES-GCM.
#![no_main]

use libfuzzer_sys::fuzz_target;
use passdesk_hardware::nfc::apdu::Response;
use passdesk_hardware::nfc::sim;
use passdesk_hardware::nfc::vas;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static KEY: OnceLock<passdesk_hardware::nfc::VasReaderKey> = OnceLock::new();
    let key = KEY.get_or_init(sim::demo_vas_key);
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            if let Ok(resp) = Response::parse(rest) {
                if let Ok(r) = vas::parse_get_data(&resp) {
                    let _ = vas::decrypt(
                        &r.cryptogram,
                        sim::DEMO_PASS_TYPE_ID,
                        std::slice::from_ref(key),
                    );
                }
            }
        }
        1 => {
            let _ = vas::decrypt(rest, sim::DEMO_PASS_TYPE_ID, std::slice::from_ref(key));
        }
        _ => {
            let mut c = rest.to_vec();
            if c.len() >= 4 {
                c[..4].copy_from_slice(&key.key_id());
            }
            if let Ok(p) = vas::decrypt(&c, sim::DEMO_PASS_TYPE_ID, std::slice::from_ref(key)) {
                let _ = p.check_fresh(std::time::SystemTime::now(), vas::DEFAULT_MAX_AGE);
            }
        }
    }
});
