//! NDEF messages (tags, Smart Tap bodies) and the Type 4 capability container: an error or
//! records, never a panic; parsed records re-encode to the same records.
#![no_main]

use libfuzzer_sys::fuzz_target;
use passdesk_hardware::nfc::{ndef, type4};

fuzz_target!(|data: &[u8]| {
    if let Ok(records) = ndef::parse(data) {
        for r in &records {
            let _ = r.pass_value();
        }
        let again = ndef::encode(&records);
        assert_eq!(
            ndef::parse(&again).as_ref(),
            Ok(&records),
            "parse(encode(records)) != records"
        );
    }
    let _ = type4::parse_cc(data);
});
