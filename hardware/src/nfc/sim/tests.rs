//! The whole tap flow, in process: one tap on a simulated phone or tag, one `Scan` or one
//! clear error. No pcscd needed.

use super::*;
use crate::nfc::keys::{CollectorKey, VasReaderKey};
use crate::nfc::session::{read_tap, TapConfig, VasConfig};
use crate::nfc::smarttap::messages::ServiceNumberForm;
use crate::nfc::smarttap::SmartTapConfig;
use crate::nfc::{tlv, vas, TapError};
use crate::scan::{Medium, NfcKind};
use std::time::{Duration, SystemTime};

fn config() -> TapConfig {
    TapConfig {
        vas: Some(VasConfig::new(DEMO_PASS_TYPE_ID, demo_vas_key())),
        smart_tap: Some(SmartTapConfig::new(demo_collector())),
        ..TapConfig::default()
    }
}

fn iphone() -> VirtualIPhone {
    VirtualIPhone::new(
        DEMO_PASS_TYPE_ID,
        demo_vas_key().public_key(),
        "499g3sYcKCp7WVI9qVogyT",
    )
}

fn android() -> VirtualAndroid {
    VirtualAndroid::new(
        demo_collector().verifying_key(),
        DEMO_COLLECTOR_ID,
        b"BEAN-0001",
    )
}

fn tap<C: VirtualCard>(card: C) -> (Result<crate::Scan, TapError>, SimReader<C>) {
    tap_with(card, &config())
}

fn tap_with<C: VirtualCard>(
    card: C,
    cfg: &TapConfig,
) -> (Result<crate::Scan, TapError>, SimReader<C>) {
    let mut reader = SimReader::new(card);
    let r = read_tap(&mut reader, cfg, "till-1", SystemTime::now());
    (r, reader)
}

#[test]
fn iphone_tap_is_one_vas_scan_in_two_apdus() {
    let (scan, reader) = tap(iphone());
    let scan = scan.unwrap();
    assert_eq!(scan.medium, Medium::Nfc(NfcKind::Vas));
    assert_eq!(scan.value, b"499g3sYcKCp7WVI9qVogyT");
    assert_eq!(scan.reader_id, "till-1");
    assert_eq!(
        reader.apdus(),
        2,
        "SELECT + GET DATA is the protocol minimum"
    );
}

#[test]
fn several_pass_types_are_asked_in_turn() {
    let mut cfg = config();
    let vas_cfg = cfg.vas.as_mut().unwrap();
    vas_cfg
        .pass_type_ids
        .insert(0, "pass.com.example.other".into());
    let (scan, reader) = tap_with(iphone(), &cfg);
    assert_eq!(scan.unwrap().value, b"499g3sYcKCp7WVI9qVogyT");
    assert_eq!(reader.apdus(), 3);
    // The first GET DATA said another one follows (bit 80 of the last capabilities byte).
    let first = &reader.log[1].0;
    assert_eq!(
        tlv::find(&first[5..first.len() - 1], 0x9F26).unwrap(),
        Some(&[0u8, 0x80, 0, 0x82][..])
    );
    assert_eq!(reader.log[1].1, [0x6A, 0x83]);
}

#[test]
fn rotated_keys_are_picked_by_key_id() {
    let new_key = VasReaderKey::new(p256::SecretKey::random(&mut rand_core::OsRng));
    let phone = VirtualIPhone::new(DEMO_PASS_TYPE_ID, new_key.public_key(), "ROTATED-1");
    let mut cfg = config();
    cfg.vas.as_mut().unwrap().keys.push(new_key);
    assert_eq!(tap_with(phone, &cfg).0.unwrap().value, b"ROTATED-1");
}

#[test]
fn misbehaving_iphones_give_customer_messages() {
    let cases = [
        (IPhoneBehaviour::Locked, "Unlock your phone and tap again"),
        (
            IPhoneBehaviour::ChoosePass,
            "Choose the pass on the phone, then tap again",
        ),
        (
            IPhoneBehaviour::GarbledFci,
            "Could not read the phone: tap again",
        ),
        (
            IPhoneBehaviour::GarbledResponse,
            "Could not read the phone: tap again",
        ),
        (
            IPhoneBehaviour::TruncatedCryptogram,
            "Could not read the phone: tap again",
        ),
    ];
    for (b, message) in cases {
        let err = tap(iphone().behaving(b)).0.unwrap_err();
        assert_eq!(err.user_message(), message, "{b:?}: {err}");
        assert!(err.tap_again());
    }
    // A pass of another shop: the merchant id does not match.
    let other = VirtualIPhone::new(
        "pass.com.example.elsewhere",
        demo_vas_key().public_key(),
        "X",
    );
    let err = tap(other).0.unwrap_err();
    assert_eq!(err, TapError::NoPassForShop);
    assert_eq!(err.user_message(), "No pass for this shop on the phone");
}

#[test]
fn stale_and_future_reads_are_refused() {
    let mut phone = iphone();
    let now_2001 = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - vas::APPLE_EPOCH_UNIX;
    phone.timestamp = Some((now_2001 - 600) as u32);
    assert!(matches!(tap(phone).0, Err(TapError::Stale { .. })));
    let mut phone = iphone();
    phone.timestamp = Some((now_2001 + 600) as u32);
    assert!(matches!(tap(phone).0, Err(TapError::Stale { .. })));
    let mut cfg = config();
    cfg.vas.as_mut().unwrap().max_age = Duration::from_secs(3600);
    let mut phone = iphone();
    phone.timestamp = Some((now_2001 - 600) as u32);
    assert!(tap_with(phone, &cfg).0.is_ok());
}

#[test]
fn a_wallet_the_reader_is_not_set_up_for() {
    let cfg = TapConfig::default();
    assert_eq!(
        tap_with(iphone(), &cfg).0,
        Err(TapError::NotConfigured("Apple"))
    );
    assert_eq!(
        tap_with(android(), &cfg).0,
        Err(TapError::NotConfigured("Google"))
    );
    // A reader key that is not the one the pass encrypts to.
    let mut cfg = config();
    cfg.vas.as_mut().unwrap().keys = vec![VasReaderKey::new(p256::SecretKey::random(
        &mut rand_core::OsRng,
    ))];
    assert!(matches!(
        tap_with(iphone(), &cfg).0,
        Err(TapError::UnknownKeyId(_))
    ));
}

#[test]
fn android_tap_is_one_smart_tap_scan() {
    let (scan, reader) = tap(android());
    let scan = scan.unwrap();
    assert_eq!(scan.medium, Medium::Nfc(NfcKind::SmartTap));
    assert_eq!(scan.value, b"BEAN-0001");
    // SELECT OSE (nonce and key included, second SELECT skipped) + NEGOTIATE + GET DATA.
    assert_eq!(reader.apdus(), 3);
}

#[test]
fn android_variants_all_read() {
    // Bundle in 40-byte parts: GET MORE until 9000; uncompressed; second SELECT required.
    let mut parts = android();
    parts.chunk = 40;
    let (scan, reader) = tap(parts);
    assert_eq!(scan.unwrap().value, b"BEAN-0001");
    assert!(reader.apdus() > 4);
    assert!(reader.log.iter().any(|(c, _)| c.starts_with(&[0x90, 0xC0])));
    let mut plain = android();
    plain.compress = false;
    plain.pass.object_type = "et".into();
    assert_eq!(tap(plain).0.unwrap().value, b"BEAN-0001");
    // The redemption value as a Text record whose id is `n`, as Google's sample terminal
    // reads it.
    let text = android().with_service_number(ServiceNumberForm::Text);
    assert_eq!(tap(text).0.unwrap().value, b"BEAN-0001");
    let (scan, reader) = tap(android().behaving(AndroidBehaviour::NoSkipSelect));
    assert_eq!(scan.unwrap().value, b"BEAN-0001");
    assert_eq!(reader.apdus(), 4);
    let (scan, reader) = tap(android().behaving(AndroidBehaviour::Busy(2)));
    assert_eq!(scan.unwrap().value, b"BEAN-0001");
    assert_eq!(reader.apdus(), 5);
}

#[test]
fn misbehaving_androids_give_customer_messages() {
    let cases = [
        (AndroidBehaviour::Locked, "Unlock your phone and tap again"),
        (
            AndroidBehaviour::ChoosePass,
            "Choose the pass on the phone, then tap again",
        ),
        (
            AndroidBehaviour::Busy(50),
            "Hold the phone still and tap again",
        ),
        (
            AndroidBehaviour::BadMac,
            "Could not read the phone: tap again",
        ),
    ];
    for (b, message) in cases {
        let err = tap(android().behaving(b)).0.unwrap_err();
        assert_eq!(err.user_message(), message, "{b:?}: {err}");
    }
    // The phone only trusts another collector key: 9500.
    let stranger = CollectorKey::new(
        DEMO_COLLECTOR_ID,
        1,
        &p256::SecretKey::random(&mut rand_core::OsRng),
    );
    let phone = VirtualAndroid::new(stranger.verifying_key(), DEMO_COLLECTOR_ID, b"X");
    let err = tap(phone).0.unwrap_err();
    assert_eq!(err, TapError::ReaderKeyRejected);
    assert_eq!(
        err.user_message(),
        "Reader key not accepted by the phone: check the Smart Tap settings"
    );
}

#[test]
fn tags_give_ndef_or_uid_scans() {
    let (scan, reader) = tap(VirtualTag::with_text(&[4, 0xA1, 0xB2, 0xC3], "BEAN-0007"));
    let scan = scan.unwrap();
    assert_eq!(scan.medium, Medium::Nfc(NfcKind::Ndef));
    assert_eq!(scan.value, b"BEAN-0007");
    assert_eq!(reader.apdus(), 7);
    let mut long = VirtualTag::with_uri(
        &[4, 1, 2, 3],
        &format!("https://pass.example/p/{}", "x".repeat(300)),
    );
    long.max_le = 16;
    let scan = tap(long).0.unwrap();
    assert_eq!(scan.value.len(), "https://pass.example/p/".len() + 300);
    // A tag without NDEF, and a tag whose NDEF holds nothing we read: the UID.
    let scan = tap(VirtualTag::plastic(&[
        0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6,
    ]))
    .0
    .unwrap();
    assert_eq!(scan.medium, Medium::Nfc(NfcKind::Uid));
    assert_eq!(scan.value, b"04A1B2C3D4E5F6");
    let mime = crate::nfc::ndef::Record {
        tnf: 2,
        record_type: b"text/vcard".to_vec(),
        id: vec![],
        payload: b"BEGIN".to_vec(),
    };
    let scan = tap(VirtualTag::with_records(&[1, 2, 3, 4], &[mime]))
        .0
        .unwrap();
    assert_eq!(scan.medium, Medium::Nfc(NfcKind::Uid));
}

#[test]
fn card_taken_away_mid_tap() {
    for n in 0..2 {
        let mut reader = SimReader::new(iphone());
        reader.remove_after = Some(n);
        let err = read_tap(&mut reader, &config(), "r", SystemTime::now()).unwrap_err();
        assert!(matches!(err, TapError::Transport(_)), "{err}");
    }
    for n in 0..3 {
        let mut reader = SimReader::new(android());
        reader.remove_after = Some(n);
        assert!(read_tap(&mut reader, &config(), "r", SystemTime::now()).is_err());
    }
}

/// A card that answers every command with pseudo-random bytes (sometimes with a 9000, 9100
/// or 61xx status): the tap ends in an error, never a panic or a hang.
struct Noise(u32);

impl VirtualCard for Noise {
    fn respond(&mut self, _apdu: &[u8]) -> Vec<u8> {
        let mut next = || {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 17;
            self.0 ^= self.0 << 5;
            self.0
        };
        let len = (next() % 80) as usize;
        let mut out: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        match next() % 5 {
            0 => out.extend_from_slice(&[0x90, 0x00]),
            1 => out.extend_from_slice(&[0x91, 0x00]),
            2 => out.extend_from_slice(&[0x61, next() as u8]),
            _ => {}
        }
        out
    }
}

#[test]
fn noise_never_panics() {
    for seed in 1..3000u32 {
        let _ = tap(Noise(seed.wrapping_mul(2654435761) | 1));
    }
}

#[test]
fn tap_timings() {
    // Not a benchmark: prints what a whole in-process tap costs (run with --release
    // --nocapture to see realistic numbers) and catches gross regressions.
    let cfg = config();
    let time = |name: &str, mut f: Box<dyn FnMut()>| {
        let n = 20u32;
        let start = std::time::Instant::now();
        for _ in 0..n {
            f();
        }
        let per = start.elapsed() / n;
        eprintln!("{name}: {per:?} per tap (phone side included)");
        assert!(per < Duration::from_millis(200), "{name}: {per:?}");
    };
    time(
        "VAS",
        Box::new(|| assert!(tap_with(iphone(), &cfg).0.is_ok())),
    );
    time(
        "Smart Tap",
        Box::new(|| assert!(tap_with(android(), &cfg).0.is_ok())),
    );
}
