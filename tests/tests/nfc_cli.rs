//! `passdesk nfc vas-decrypt` end to end, with the public PassKit demo vector and its key
//! written to a temporary file in each of the usual encodings.

use p256::pkcs8::{EncodePrivateKey, LineEnding};
use passdesk_hardware::nfc::sim;
use passdesk_tests::{describe, last_json, Node};
use std::path::{Path, PathBuf};

const CRYPTOGRAM: &str = "c0b77375eae416b79449347f9fe838c05cdb57dc7470b97b93b806cb348771d9bfbe29d58538c7c7d7c3d015fa205b68bfccd726058a62f7f44085ac98dbf877120fd9059f1507b956e0a6d56d0a";
const D: &str = sim::DEMO_VAS_KEY_HEX;

fn secret() -> p256::SecretKey {
    let d: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&D[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    p256::SecretKey::from_slice(&d).unwrap()
}

fn write(node: &Node, name: &str, bytes: &[u8]) -> PathBuf {
    let p = node.data_dir().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn decrypt(node: &Node, key: &Path, pass_type_id: &str, hex: &str) -> std::process::Output {
    node.run(&[
        "nfc".as_ref(),
        "vas-decrypt".as_ref(),
        "--key".as_ref(),
        key.as_os_str(),
        "--pass-type-id".as_ref(),
        pass_type_id.as_ref(),
        hex.as_ref(),
    ])
}

#[test]
fn decrypts_the_public_vector_with_a_pem_key() {
    let node = Node::empty();
    let pem = secret().to_sec1_pem(LineEnding::LF).unwrap();
    let key = write(&node, "reader.pem", pem.as_bytes());
    let out = decrypt(&node, &key, sim::DEMO_PASS_TYPE_ID, CRYPTOGRAM);
    assert!(out.status.success(), "{}", describe(&out));
    let v = last_json(&out);
    assert_eq!(v["message"], "499g3sYcKCp7WVI9qVogyT");
    assert_eq!(v["timestamp"], "2023-07-09T14:39:50Z");
    assert_eq!(v["timestampApple"], 710606390);
    assert_eq!(v["keyId"], "c0b77375");
    // No data directory is created for a tool that needs none.
    assert!(!node.db_path().exists());
}

#[test]
fn pkcs8_der_and_several_keys_and_spaced_hex() {
    let node = Node::empty();
    let der = secret().to_pkcs8_der().unwrap();
    let key = write(&node, "reader.der", der.as_bytes());
    let other = p256::SecretKey::from_slice(&[7; 32]).unwrap();
    let other = write(
        &node,
        "old.pem",
        other.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes(),
    );
    let spaced: String = CRYPTOGRAM
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    let out = node.run(&[
        "nfc".as_ref(),
        "vas-decrypt".as_ref(),
        "--key".as_ref(),
        other.as_os_str(),
        "--key".as_ref(),
        key.as_os_str(),
        "--pass-type-id".as_ref(),
        sim::DEMO_PASS_TYPE_ID.as_ref(),
        spaced.as_ref(),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(last_json(&out)["message"], "499g3sYcKCp7WVI9qVogyT");
    let out = node.run(&[
        "nfc".as_ref(),
        "key-id".as_ref(),
        "--key".as_ref(),
        key.as_os_str(),
    ]);
    assert_eq!(last_json(&out)["keyId"], "c0b77375");
}

#[test]
fn failures_say_what_went_wrong_and_never_print_the_key() {
    let node = Node::empty();
    let pem = secret().to_sec1_pem(LineEnding::LF).unwrap();
    let key = write(&node, "reader.pem", pem.as_bytes());
    let stderr = |out: &std::process::Output| {
        assert!(!out.status.success(), "{}", describe(out));
        assert!(out.stdout.is_empty(), "{}", describe(out));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = stderr(&decrypt(&node, &key, "pass.com.example.other", CRYPTOGRAM));
    assert!(e.contains("does not decrypt"), "{e}");
    let e = stderr(&decrypt(
        &node,
        &key,
        sim::DEMO_PASS_TYPE_ID,
        &CRYPTOGRAM[..60],
    ));
    assert!(e.contains("malformed VAS cryptogram"), "{e}");
    let e = stderr(&decrypt(&node, &key, sim::DEMO_PASS_TYPE_ID, "zz"));
    assert!(e.contains("not hex"), "{e}");
    let other = write(
        &node,
        "other.pem",
        p256::SecretKey::from_slice(&[7; 32])
            .unwrap()
            .to_sec1_pem(LineEnding::LF)
            .unwrap()
            .as_bytes(),
    );
    let e = stderr(&decrypt(&node, &other, sim::DEMO_PASS_TYPE_ID, CRYPTOGRAM));
    assert!(e.contains("keyId c0b77375"), "{e}");
    let broken = write(&node, "broken.pem", pem.replace("M", "A").as_bytes());
    let e = stderr(&decrypt(&node, &broken, sim::DEMO_PASS_TYPE_ID, CRYPTOGRAM));
    assert!(e.contains("broken.pem"), "{e}");
    let e = stderr(&decrypt(
        &node,
        &node.data_dir().join("missing.pem"),
        sim::DEMO_PASS_TYPE_ID,
        CRYPTOGRAM,
    ));
    assert!(e.contains("missing.pem"), "{e}");
    // The 2023 vector is far outside any freshness window.
    let out = node.run(&[
        "nfc".as_ref(),
        "vas-decrypt".as_ref(),
        "--key".as_ref(),
        key.as_os_str(),
        "--pass-type-id".as_ref(),
        sim::DEMO_PASS_TYPE_ID.as_ref(),
        "--max-age".as_ref(),
        "60".as_ref(),
        CRYPTOGRAM.as_ref(),
    ]);
    let e = stderr(&out);
    assert!(e.contains("window"), "{e}");
    // The key's base64 body never shows up anywhere.
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    for out in [
        decrypt(&node, &key, sim::DEMO_PASS_TYPE_ID, CRYPTOGRAM),
        decrypt(&node, &broken, sim::DEMO_PASS_TYPE_ID, CRYPTOGRAM),
        decrypt(&node, &key, "pass.com.example.other", CRYPTOGRAM),
    ] {
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(&body[10..30]) && !all.contains(&D[..16]));
    }
}
