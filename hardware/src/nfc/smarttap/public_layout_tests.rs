//! Smart Tap bodies written out byte by byte from the public layout (NFC Forum NDEF records,
//! Google's Smart Tap reference tables), not with our encoder: our simulator and our parser
//! are written by the same hands and would agree on a shared mistake.
//!
//! An NDEF record: header (MB 80, ME 40, CF 20, SR 10, IL 08, TNF in the low 3 bits), type
//! length, payload length (one byte when SR), id length (only when IL), type, id, payload.
//! TNF 1 is well-known (`T` text), 4 is external (Smart Tap's `asv`, `ly`, `n`, ...).

use super::messages::{parse_services, SelectResponse, ServiceValue, VERSION};
use crate::nfc::sim::{self, AndroidBehaviour, SimReader, VirtualAndroid, VirtualCard};
use crate::nfc::{read_tap, SmartTapConfig, TapConfig, TapError};
use std::time::SystemTime;

/// The pass object's id record `oid` (format 04 and 8 bytes), first in its message: MB SR,
/// external, type 3, payload 9.
const OID: [&[u8]; 3] = [
    &[0x94, 0x03, 0x09],
    b"oid",
    &[0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88],
];

/// `asv[ ly[ oid, n ] ]`, `n` an external record of type `n` (Google: PRIMITIVE).
fn primitive_bundle() -> Vec<u8> {
    [
        &[0xD4, 0x03, 0x22][..], // asv: MB ME SR, external; type 3, payload 34
        b"asv",
        &[0xD4, 0x02, 0x1D], // ly: MB ME SR, external; type 2, payload 29
        b"ly",
        OID[0],
        OID[1],
        OID[2],
        &[0x54, 0x01, 0x0A], // n: ME SR, external; type 1, payload 10
        b"n",
        &[0x00], // format: unspecified
        b"BEAN-0001",
    ]
    .concat()
}

/// `asv[ ly[ oid, T#n ] ]`: `n` a Text record whose id is `n` (Google: RTD_TEXT), which is how
/// Google's sample terminal finds it.
fn text_bundle() -> Vec<u8> {
    [
        &[0xD4, 0x03, 0x26][..], // asv: type 3, payload 38
        b"asv",
        &[0xD4, 0x02, 0x21], // ly: type 2, payload 33
        b"ly",
        OID[0],
        OID[1],
        OID[2],
        &[0x59, 0x01, 0x0C, 0x01], // ME SR IL, well-known; type 1, payload 12, id 1
        b"T",
        b"n",
        &[0x02], // Text status: UTF-8, language code of 2 bytes
        b"en",
        b"BEAN-0001",
    ]
    .concat()
}

/// The same without a language code (where the sample terminal's "skip one byte" agrees).
fn text_bundle_without_language() -> Vec<u8> {
    [
        &[0xD4, 0x03, 0x24][..], // asv: payload 36
        b"asv",
        &[0xD4, 0x02, 0x1F], // ly: payload 31
        b"ly",
        OID[0],
        OID[1],
        OID[2],
        &[0x59, 0x01, 0x0A, 0x01], // T, payload 10, id n
        b"T",
        b"n",
        &[0x00],
        b"BEAN-0001",
    ]
    .concat()
}

fn loyalty(value: &str) -> Vec<ServiceValue> {
    vec![ServiceValue {
        object_type: "ly".into(),
        redemption_value: value.as_bytes().to_vec(),
    }]
}

#[test]
fn the_service_number_found_by_type_or_by_id() {
    for plain in [
        primitive_bundle(),
        text_bundle(),
        text_bundle_without_language(),
    ] {
        assert_eq!(parse_services(&plain).unwrap(), loyalty("BEAN-0001"));
    }
}

/// An event ticket whose object holds another Text record before `n`: only the one with id
/// `n` is the redemption value.
#[test]
fn only_the_record_named_n_is_the_value() {
    let plain = [
        &[0xD4, 0x03, 0x30][..], // asv: payload 48
        b"asv",
        &[0xD4, 0x02, 0x2B], // et: payload 43
        b"et",
        OID[0],
        OID[1],
        OID[2],
        &[0x19, 0x01, 0x07, 0x03], // SR IL, well-known; type 1, payload 7, id 3
        b"T",
        b"tr1",
        &[0x02],
        b"en",
        b"SEAT",
        &[0x59, 0x01, 0x07, 0x01], // ME SR IL: T, payload 7, id n
        b"T",
        b"n",
        &[0x00],
        b"TKT-01",
    ]
    .concat();
    assert_eq!(
        parse_services(&plain).unwrap(),
        vec![ServiceValue {
            object_type: "et".into(),
            redemption_value: b"TKT-01".to_vec(),
        }]
    );

    // No record named `n`: no pass, not the other Text record's words.
    let plain = [
        &[0xD4, 0x03, 0x23][..], // asv: payload 35
        b"asv",
        &[0xD4, 0x02, 0x1E], // ly: payload 30
        b"ly",
        OID[0],
        OID[1],
        OID[2],
        &[0x59, 0x01, 0x07, 0x03], // ME SR IL: T, payload 7, id tr1
        b"T",
        b"tr1",
        &[0x02],
        b"en",
        b"SEAT",
    ]
    .concat();
    assert_eq!(parse_services(&plain).unwrap(), vec![]);

    // A Text record named `n` that does not decode (UTF-16 of an odd length): no value.
    let plain = [
        &[0xD4, 0x03, 0x1C][..], // asv: payload 28
        b"asv",
        &[0xD4, 0x02, 0x17], // ly: payload 23
        b"ly",
        OID[0],
        OID[1],
        OID[2],
        &[0x59, 0x01, 0x02, 0x01], // T, payload 2, id n
        b"T",
        b"n",
        &[0x80, 0x41], // UTF-16, no language, one byte of text
    ]
    .concat();
    assert_eq!(parse_services(&plain).unwrap(), vec![]);
}

fn phone() -> VirtualAndroid {
    VirtualAndroid::new(
        sim::demo_collector().verifying_key(),
        sim::DEMO_COLLECTOR_ID,
        b"unused: the bundle is given",
    )
}

fn tap(card: impl VirtualCard) -> Result<Vec<u8>, TapError> {
    let cfg = TapConfig {
        smart_tap: Some(SmartTapConfig::new(sim::demo_collector())),
        ..TapConfig::default()
    };
    read_tap(&mut SimReader::new(card), &cfg, "till-1", SystemTime::now()).map(|s| s.value)
}

/// The hand-written bundles through a whole tap: negotiated, sealed, compressed, read.
#[test]
fn a_whole_tap_reads_each_form() {
    for plain in [
        primitive_bundle(),
        text_bundle(),
        text_bundle_without_language(),
    ] {
        assert_eq!(tap(phone().with_bundle(plain)).unwrap(), b"BEAN-0001");
    }
}

/// The mobile nonce record of SELECT Smart Tap 2's answer, after the versions: MB ME SR IL,
/// external, type 3, payload 33, id 3, named `mdn` in both its type and its id.
fn mdn_record(nonce: &[u8]) -> Vec<u8> {
    [
        &[0xDC, 0x03, 0x21, 0x03][..],
        b"mdn",
        b"mdn",
        &[0x04],
        nonce,
    ]
    .concat()
}

#[test]
fn the_select_answer_carries_versions_before_the_nonce() {
    let nonce: Vec<u8> = (1..=32).collect();
    let answer = [&[0x00, 0x00, 0x00, 0x01][..], &mdn_record(&nonce)].concat();
    let parsed = SelectResponse::parse(&answer).unwrap();
    assert_eq!(parsed.device_nonce.map(Vec::from), Some(nonce.clone()));
    assert!(parsed.supports(VERSION));

    // A handset that only speaks later versions.
    let later = [&[0x00, 0x02, 0x00, 0x03][..], &answer[4..]].concat();
    assert!(!SelectResponse::parse(&later).unwrap().supports(VERSION));
    // No nonce record: none, not an error (the OSE answer may have carried it).
    assert_eq!(
        SelectResponse::parse(&answer[..4]).unwrap().device_nonce,
        None
    );
    // The NDEF message alone, without the versions, is not the documented answer.
    assert!(SelectResponse::parse(&answer[4..]).is_err());
    assert!(SelectResponse::parse(&answer[..3]).is_err());
}

/// A handset that needs the second SELECT, answering it with `answer` (hand-written) instead
/// of the simulator's own.
struct SelectAnswer {
    phone: VirtualAndroid,
    answer: Vec<u8>,
}

impl VirtualCard for SelectAnswer {
    fn respond(&mut self, apdu: &[u8]) -> Vec<u8> {
        if apdu.get(..4) == Some(&[0x00, 0xA4, 0x04, 0x00])
            && apdu.get(5..14) == Some(&super::SMART_TAP_AID)
        {
            return [&self.answer[..], &[0x90, 0x00]].concat();
        }
        self.phone.respond(apdu)
    }
}

#[test]
fn a_tap_that_needs_the_second_select() {
    // The phone's nonce is only in its SELECT answer: our hand-written answer carries another
    // one, so the session the phone derives differs and the read must fail; with the phone's
    // own answer (versions, then `mdn`), it reads.
    let phone = || phone().behaving(AndroidBehaviour::NoSkipSelect);
    let ours = SelectAnswer {
        phone: phone(),
        answer: [&[0x00, 0x00, 0x00, 0x01][..], &mdn_record(&[9; 32])].concat(),
    };
    assert_eq!(tap(ours), Err(TapError::ReaderKeyRejected));
    assert_eq!(
        tap(phone().with_bundle(text_bundle())).unwrap(),
        b"BEAN-0001"
    );

    // A phone that does not speak 2.1: a clear error naming its versions.
    let later = SelectAnswer {
        phone: phone(),
        answer: [&[0x00, 0x02, 0x00, 0x03][..], &mdn_record(&[9; 32])].concat(),
    };
    let err = tap(later).unwrap_err();
    assert!(
        err.to_string().contains("versions 0002 to 0003, not 0001"),
        "{err}"
    );
}
