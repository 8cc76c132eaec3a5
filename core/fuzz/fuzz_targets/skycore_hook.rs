//! Skycore's postbacks: the XML parser and the JSON parser each on the bytes, and the
//! dispatcher that picks one by content. What parses is applied to an in-memory cache (twice:
//! the second is a repeat). Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use passdesk_core::hooks::{self, apply, skycore_json, skycore_xml};
use passdesk_core::{Store, Timestamp};
use std::cell::RefCell;

thread_local! {
    static STORE: RefCell<Store> = RefCell::new(Store::open_in_memory().expect("an in-memory store"));
}

fuzz_target!(|data: &[u8]| {
    let _ = skycore_xml::parse(data);
    let _ = skycore_json::parse(data);
    if let Ok(e) = hooks::skycore(data) {
        assert_eq!(e.dedup_key.len(), 64);
        let now = Timestamp::from_unix_ms(1_800_000_000_000);
        STORE.with(|s| {
            let mut s = s.borrow_mut();
            if apply::apply(&mut s, &e, now).is_ok() {
                let again = apply::apply(&mut s, &e, now).expect("a repeat is answered");
                assert!(matches!(again, apply::Applied::Repeat { .. }));
            }
        });
    }
});
