use super::*;
use crate::nfc::keys::VasReaderKey;
use p256::SecretKey;

// The public PassKit NFC demo vector (shared/protocols/NFC.md).
pub(crate) const PASS_TYPE_ID: &str = "pass.com.passkit.pksamples.nfcdemo";
pub(crate) const D: &str = "3d1547f23cd78ad052a58860f1219e8fb791ec4dfe33769f5b9bfa627a656ca1";
pub(crate) const CRYPTOGRAM: &str = "c0b77375eae416b79449347f9fe838c05cdb57dc7470b97b93b806cb348771d9bfbe29d58538c7c7d7c3d015fa205b68bfccd726058a62f7f44085ac98dbf877120fd9059f1507b956e0a6d56d0a";

fn demo_key() -> VasReaderKey {
    VasReaderKey::new(SecretKey::from_slice(&hex::decode(D).unwrap()).unwrap())
}

fn other_key(seed: u8) -> VasReaderKey {
    VasReaderKey::new(SecretKey::from_slice(&[seed; 32]).unwrap())
}

#[test]
fn public_vector_decrypts() {
    let c = hex::decode(CRYPTOGRAM).unwrap();
    let p = decrypt(&c, PASS_TYPE_ID, &[demo_key()]).unwrap();
    assert_eq!(p.timestamp, 710606390);
    assert_eq!(p.message, "499g3sYcKCp7WVI9qVogyT");
    assert_eq!(p.unix_secs(), 1688913590); // 2023-07-09T14:39:50Z
}

#[test]
fn the_right_key_is_picked_among_several() {
    let c = hex::decode(CRYPTOGRAM).unwrap();
    let keys = [other_key(1), other_key(2), demo_key(), other_key(3)];
    assert_eq!(
        decrypt(&c, PASS_TYPE_ID, &keys).unwrap().message,
        "499g3sYcKCp7WVI9qVogyT"
    );
    assert_eq!(
        decrypt(&c, PASS_TYPE_ID, &[other_key(1)]).unwrap_err(),
        TapError::UnknownKeyId("c0b77375".into())
    );
}

#[test]
fn wrong_pass_type_or_tampering_fails_cleanly() {
    let c = hex::decode(CRYPTOGRAM).unwrap();
    assert!(matches!(
        decrypt(&c, "pass.com.example.other", &[demo_key()]),
        Err(TapError::DecryptFailed { .. })
    ));
    for i in 36..c.len() {
        let mut t = c.clone();
        t[i] ^= 0x01;
        assert!(
            decrypt(&t, PASS_TYPE_ID, &[demo_key()]).is_err(),
            "byte {i}"
        );
    }
}

#[test]
fn truncated_and_garbage_cryptograms_never_panic() {
    let c = hex::decode(CRYPTOGRAM).unwrap();
    for n in 0..c.len() {
        assert!(
            decrypt(&c[..n], PASS_TYPE_ID, &[demo_key()]).is_err(),
            "prefix {n}"
        );
    }
    // An ephemeral X that is not on the curve (x = 5 has no y on P-256? try several).
    let mut bad = c.clone();
    for x in 0..=255u8 {
        bad[4..36].fill(x);
        let _ = decrypt(&bad, PASS_TYPE_ID, &[demo_key()]);
    }
    assert!(decrypt(&vec![0xc0; 4000], PASS_TYPE_ID, &[demo_key()]).is_err());
}

#[test]
fn freshness_window() {
    let p = VasPayload {
        timestamp: 710606390,
        message: String::new(),
    };
    let at = p.at();
    let w = Duration::from_secs(60);
    assert!(p.check_fresh(at, w).is_ok());
    assert!(p.check_fresh(at + Duration::from_secs(60), w).is_ok());
    assert_eq!(
        p.check_fresh(at + Duration::from_secs(61), w),
        Err(TapError::Stale {
            age_secs: 61,
            max_secs: 60
        })
    );
    assert!(p.check_fresh(at - Duration::from_secs(61), w).is_err());
}

#[test]
fn get_data_is_byte_exact() {
    let cmd = get_data_command(&VasRequest {
        pass_type_id: PASS_TYPE_ID,
        ..Default::default()
    });
    let bytes = cmd.to_bytes().unwrap();
    let expected = format!(
        "80ca01012f 9f22020100 9f2520{} 9f260400800002 00",
        hex::encode(merchant_id(PASS_TYPE_ID))
    )
    .replace(' ', "");
    assert_eq!(hex::encode(bytes), expected);
    let more = get_data_command(&VasRequest {
        pass_type_id: PASS_TYPE_ID,
        more_follows: true,
        nonce: Some([1, 2, 3, 4]),
        ..Default::default()
    });
    let body = more.data;
    assert_eq!(
        tlv::find(&body, 0x9F26).unwrap(),
        Some(&[0u8, 0x80, 0, 0x82][..])
    );
    assert_eq!(tlv::find(&body, 0x9F28).unwrap(), Some(&[1u8, 2, 3, 4][..]));
}

#[test]
fn status_words_become_customer_messages() {
    let r = |sw: u16| Response {
        data: vec![],
        sw: StatusWord(sw),
    };
    let e = parse_get_data(&r(0x6287)).unwrap_err();
    assert_eq!(e.user_message(), "Unlock your phone and tap again");
    assert_eq!(
        parse_get_data(&r(0x6A83)).unwrap_err(),
        TapError::NoPassForShop
    );
    assert_eq!(
        parse_get_data(&r(0x6984)).unwrap_err().user_message(),
        "Choose the pass on the phone, then tap again"
    );
    assert!(matches!(
        parse_get_data(&r(0x6700)),
        Err(TapError::Status { .. })
    ));
    // 9000 without a cryptogram, and garbled TLV.
    assert!(matches!(
        parse_get_data(&r(0x9000)),
        Err(TapError::Malformed { .. })
    ));
    let garbled = Response {
        data: vec![0x70, 0x20, 0x9F, 0x27, 0x40, 1, 2],
        sw: StatusWord::OK,
    };
    assert!(matches!(
        parse_get_data(&garbled),
        Err(TapError::Malformed { .. })
    ));
}

#[test]
fn decrypt_takes_well_under_a_millisecond() {
    // A smoke check, not a benchmark: release builds take ~0.1 ms; debug builds of this crate
    // run optimised dependencies (see [profile.dev.package."*"]).
    let c = hex::decode(CRYPTOGRAM).unwrap();
    let keys = [demo_key()];
    let n = 200;
    let start = std::time::Instant::now();
    for _ in 0..n {
        decrypt(&c, PASS_TYPE_ID, &keys).unwrap();
    }
    let per = start.elapsed() / n;
    eprintln!("VAS decrypt: {per:?} per cryptogram");
    assert!(per < Duration::from_millis(20), "{per:?}");
}
