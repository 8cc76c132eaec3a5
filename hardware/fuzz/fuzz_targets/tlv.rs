//! BER-TLV: the parser, the tag finder and the OSE.VAS.01 answer built on them. Whatever the
//! bytes, an error or a value, never a panic; what parses re-encodes to what parses the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use passdesk_hardware::nfc::{ose, tlv};

fuzz_target!(|data: &[u8]| {
    if let Ok(items) = tlv::parse(data) {
        for item in &items {
            let again = tlv::encode(item.tag, item.value);
            let reparsed = tlv::parse(&again).expect("an encoded TLV parses");
            assert_eq!(reparsed.len(), 1);
            assert_eq!(reparsed[0].tag, item.tag);
            assert_eq!(reparsed[0].value, item.value);
        }
    }
    for tag in [0x50, 0x6F, 0x9F27, 0xDF62, 0x70] {
        let _ = tlv::find(data, tag);
    }
    if let Ok(info) = ose::parse(data) {
        let _ = info.wallet();
    }
});
