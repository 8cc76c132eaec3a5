//! Passcreator's pass hooks: the first byte picks the URL's event (one of the six, or the
//! rest of the input's first line as an unknown one), the rest is the body. What parses is
//! applied to an in-memory cache (twice: the second is a repeat). Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use passdesk_core::hooks::{apply, passcreator};
use passdesk_core::{Store, Timestamp};
use std::cell::RefCell;

thread_local! {
    static STORE: RefCell<Store> = RefCell::new(Store::open_in_memory().expect("an in-memory store"));
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let names = passcreator::name::ALL;
    let event = match names.get(usize::from(pick) % (names.len() + 1)) {
        Some(name) => (*name).to_owned(),
        None => String::from_utf8_lossy(body.split(|&b| b == b'\n').next().unwrap_or_default())
            .into_owned(),
    };
    if let Ok(e) = passcreator::parse(&event, body) {
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
