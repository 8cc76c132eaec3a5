//! A test CA for Apple Wallet, made with the `openssl` CLI (root → a "WWDR" intermediate →
//! a Pass Type ID certificate), and the checks a phone makes of a `.pkpass`: unzipped, every
//! manifest hash recomputed, the detached signature verified by `openssl cms -verify` against
//! the root. Independent of our signer: only openssl and the zip crate read the bytes.
//!
//! For Google Wallet: a service account's JSON key file as Google's console downloads it, its
//! RSA key made by `openssl genpkey`, and the public half to verify a save link's JWT with.

use passdesk_core::wallet::apple::{sha1_hex, PassSigner};
use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The Pass Type ID and team the test CA's pass certificate is made for.
pub const PASS_TYPE_ID: &str = "pass.com.example.passdesk";
pub const TEAM_ID: &str = "TEAM123456";

/// The test CA, made once per test binary: `root.pem`, `wwdr.pem` (+ `.key`), `pass.pem` and
/// `pass.key` in its directory.
pub struct TestCa {
    dir: tempfile::TempDir,
}

impl TestCa {
    /// The CA's directory (tests make more certificates beside the CA's own).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }

    /// The signer the service would load from these files.
    pub fn signer(&self) -> PassSigner {
        PassSigner::from_pem(
            &self.read("pass.pem"),
            &self.read("pass.key"),
            &self.read("wwdr.pem"),
        )
        .unwrap()
    }
}

/// Runs the `openssl` CLI in `dir`.
pub fn openssl(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI (Debian's openssl package) runs");
    out
}

/// Runs the `openssl` CLI in `dir` and expects success; its stdout.
pub fn openssl_ok(dir: &Path, args: &[&str]) -> String {
    let out = openssl(dir, args);
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The test CA (made on first use).
pub fn test_ca() -> &'static TestCa {
    static CA: OnceLock<TestCa> = OnceLock::new();
    CA.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("ext.cnf"),
            "[ca]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\n\
             subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n\
             [leaf]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n\
             subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n",
        )
        .unwrap();
        openssl_ok(
            d,
            &[
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.key", "-out",
                "root.pem", "-days", "3650", "-subj", "/O=Passdesk Test/CN=Passdesk Test Root CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        // The "WWDR" intermediate, as Apple's Worldwide Developer Relations CA.
        openssl_ok(
            d,
            &[
                "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "wwdr.key", "-out",
                "wwdr.csr", "-subj",
                "/O=Passdesk Test/OU=G4/CN=Passdesk Test Worldwide Developer Relations CA",
            ],
        );
        openssl_ok(
            d,
            &[
                "x509", "-req", "-in", "wwdr.csr", "-CA", "root.pem", "-CAkey", "root.key",
                "-set_serial", "2", "-days", "3650", "-extfile", "ext.cnf", "-extensions", "ca",
                "-out", "wwdr.pem",
            ],
        );
        // The Pass Type ID certificate, its subject as Apple writes it.
        let subject =
            format!("/UID={PASS_TYPE_ID}/CN=Pass Type ID: {PASS_TYPE_ID}/OU={TEAM_ID}/O=Passdesk Test/C=GB");
        openssl_ok(
            d,
            &[
                "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "pass.key", "-out",
                "pass.csr", "-subj", &subject,
            ],
        );
        openssl_ok(
            d,
            &[
                "x509", "-req", "-in", "pass.csr", "-CA", "wwdr.pem", "-CAkey", "wwdr.key",
                "-set_serial", "0x5a17", "-days", "365", "-extfile", "ext.cnf", "-extensions",
                "leaf", "-out", "pass.pem",
            ],
        );
        TestCa { dir }
    })
}

impl TestCa {
    /// `[wallet.apple]` for `passdesk.toml`, naming this CA's files.
    pub fn apple_config_toml(&self) -> String {
        format!(
            "[wallet.apple]\npass_type_id = \"{PASS_TYPE_ID}\"\nteam_id = \"{TEAM_ID}\"\n\
             organization_name = \"Passdesk Test\"\ncertificate = \"{}\"\nkey = \"{}\"\n\
             wwdr = \"{}\"\n",
            self.path("pass.pem").display(),
            self.path("pass.key").display(),
            self.path("wwdr.pem").display()
        )
    }
}

/// Every file of a `.pkpass`, each checked to be deflated.
pub fn unzip(pkpass: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(pkpass)).unwrap();
    let mut files = BTreeMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        assert_eq!(
            f.compression(),
            zip::CompressionMethod::Deflated,
            "{}",
            f.name()
        );
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        files.insert(f.name().to_owned(), bytes);
    }
    files
}

/// Every file but manifest.json and signature is in the manifest with its SHA-1, and nothing
/// else is. Returns the names that do not match.
pub fn manifest_mismatches(files: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let manifest: BTreeMap<String, String> =
        serde_json::from_slice(&files["manifest.json"]).unwrap();
    let listed: Vec<&String> = manifest.keys().collect();
    let present: Vec<&String> = files
        .keys()
        .filter(|n| *n != "manifest.json" && *n != "signature")
        .collect();
    assert_eq!(
        listed, present,
        "the manifest lists exactly the package's files"
    );
    manifest
        .iter()
        .filter(|(name, hash)| sha1_hex(&files[*name]) != **hash)
        .map(|(name, _)| name.clone())
        .collect()
}

/// `openssl cms -verify` of the detached signature over the manifest, against the test root.
pub fn openssl_verifies(files: &BTreeMap<String, Vec<u8>>) -> Result<(), String> {
    let ca = test_ca();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("signature"), &files["signature"]).unwrap();
    std::fs::write(dir.path().join("manifest.json"), &files["manifest.json"]).unwrap();
    let root = ca.path("root.pem");
    let out = openssl(
        dir.path(),
        &[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            "signature",
            "-content",
            "manifest.json",
            "-CAfile",
            root.to_str().unwrap(),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
    );
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The test service account's email and key id (the JWT's `iss` and `kid`).
pub const GOOGLE_CLIENT_EMAIL: &str = "wallet-issuer@corner-coffee.iam.gserviceaccount.com";
pub const GOOGLE_KEY_ID: &str = "5f2c0e1b9a8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b";

/// A Google service account, made once per test binary: `key.pem` (PKCS#8, as Google's are),
/// `pub.pem`, and `service-account.json` in its directory.
pub struct GoogleAccount {
    dir: tempfile::TempDir,
}

impl GoogleAccount {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The JSON key file `[wallet.google] service_account_key` names.
    pub fn key_file(&self) -> PathBuf {
        self.path("service-account.json")
    }

    /// The private key, PEM (to build odd key files from).
    pub fn private_pem(&self) -> String {
        std::fs::read_to_string(self.path("key.pem")).unwrap()
    }

    /// `[wallet.google]` for `passdesk.toml`, naming this account's key file.
    pub fn config_toml(&self, issuer_id: &str) -> String {
        format!(
            "[wallet.google]\nissuer_id = \"{issuer_id}\"\nservice_account_key = \"{}\"\n",
            self.key_file().display()
        )
    }
}

/// The test service account (made on first use).
pub fn google_account() -> &'static GoogleAccount {
    static ACCOUNT: OnceLock<GoogleAccount> = OnceLock::new();
    ACCOUNT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        openssl_ok(
            d,
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "key.pem",
            ],
        );
        openssl_ok(d, &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"]);
        let pem = std::fs::read_to_string(d.join("key.pem")).unwrap();
        assert!(
            pem.starts_with("-----BEGIN PRIVATE KEY-----"),
            "openssl wrote PKCS#8"
        );
        std::fs::write(
            d.join("service-account.json"),
            serde_json::to_vec_pretty(&google_key_file(&pem)).unwrap(),
        )
        .unwrap();
        GoogleAccount { dir }
    })
}

/// Google's service account key file, field for field, around `private_key`.
pub fn google_key_file(private_key: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "service_account",
        "project_id": "corner-coffee",
        "private_key_id": GOOGLE_KEY_ID,
        "private_key": private_key,
        "client_email": GOOGLE_CLIENT_EMAIL,
        "client_id": "104812345678901234567",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/wallet-issuer%40corner-coffee.iam.gserviceaccount.com",
        "universe_domain": "googleapis.com"
    })
}
