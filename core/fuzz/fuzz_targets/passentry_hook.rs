//! PassEntry's webhook: the signature check and the parser, whatever the bytes; what parses is
//! applied to an in-memory cache (twice: the second is a repeat). An error or a value, never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use passdesk_core::hooks::{apply, passentry};
use passdesk_core::{Store, Timestamp};
use std::cell::RefCell;

thread_local! {
    static STORE: RefCell<Store> = RefCell::new(Store::open_in_memory().expect("an in-memory store"));
}

fuzz_target!(|data: &[u8]| {
    // The first bytes as a signature header of the rest.
    let split = data.first().map_or(0, |&n| usize::from(n).min(data.len().saturating_sub(1)));
    let (header, body) = data.split_at(split.min(data.len()));
    let _ = passentry::verify_signature(b"fuzz-secret", body, Some(header));
    let _ = passentry::verify_signature(header, body, None);
    if let Ok(event) = passentry::parse(data) {
        assert!(!event.dedup_key.is_empty());
        check_apply(&event);
    }
});

fn check_apply(event: &passdesk_core::hooks::HookEvent) {
    let now = Timestamp::from_unix_ms(1_800_000_000_000);
    STORE.with(|s| {
        let mut s = s.borrow_mut();
        if apply::apply(&mut s, event, now).is_ok() {
            let again = apply::apply(&mut s, event, now).expect("a repeat is answered");
            assert!(matches!(again, apply::Applied::Repeat { .. }));
        }
    });
}
