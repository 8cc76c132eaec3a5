//! The `.pkpass` signature: a detached CMS (PKCS #7) SignedData over `manifest.json`, signed
//! by the merchant's Pass Type ID certificate's key, with content type, message digest
//! (SHA-256) and signing time as signed attributes, the certificate and Apple's WWDR
//! intermediate in `certificates`. RustCrypto's `cms` builder does the encoding, `rsa` (or
//! `p256`) the signature: nothing here is hand-made crypto.

use super::WalletError;
use crate::time::Timestamp;
use cms::builder::{SignedDataBuilder, SignerInfoBuilder};
use cms::cert::x509::attr::{Attribute, AttributeValue};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier};
use const_oid::db::{rfc5911, rfc5912};
use der::asn1::{GeneralizedTime, SetOfVec, UtcTime};
use der::referenced::OwnedToRef;
use der::{Decode, DecodePem, Encode};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{Keypair, RandomizedSigner, Signer};
use sha2::{Digest, Sha256};
use spki::{AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier};
use std::time::Duration;
use x509_cert::Certificate;

/// The credentials that sign passes: the Pass Type ID certificate, its private key (RSA, as
/// Apple issues them; a P-256 key is accepted too), and the WWDR intermediate that issued the
/// certificate. Made once at start; signing borrows it. `Debug` shows the certificate's
/// subject, never the key.
pub struct PassSigner {
    certificate: Certificate,
    wwdr: Certificate,
    key: SigningKey,
}

enum SigningKey {
    Rsa(Box<rsa::pkcs1v15::SigningKey<Sha256>>),
    P256(p256::ecdsa::SigningKey),
}

impl std::fmt::Debug for PassSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassSigner")
            .field(
                "subject",
                &self.certificate.tbs_certificate.subject.to_string(),
            )
            .field("wwdr", &self.wwdr.tbs_certificate.subject.to_string())
            .finish_non_exhaustive()
    }
}

/// OID of the `UID` attribute (RFC 4519 `userId`): Apple puts the Pass Type ID there.
const UID: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.1");

impl PassSigner {
    /// Reads the certificate, its key and the WWDR certificate. Each certificate is PEM (the
    /// first `CERTIFICATE` block, so a file `openssl pkcs12 -nodes` wrote serves for both
    /// certificate and key) or DER (as Apple's portal downloads them); the key is PEM or DER,
    /// PKCS #8, PKCS #1 (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`), not encrypted. Checks
    /// that the key is the certificate's and that the WWDR certificate issued it.
    pub fn from_pem(certificate: &[u8], key: &[u8], wwdr: &[u8]) -> Result<Self, WalletError> {
        let certificate = read_certificate("certificate", certificate)?;
        let wwdr = read_certificate("wwdr", wwdr)?;
        let key = read_key(key)?;
        Self::checked(certificate, key, wwdr)
    }

    /// Reads the certificate and its key from a PKCS #12 file (`.p12`, as Keychain Access
    /// exports them: PBES2 or the legacy 3DES / RC2 ciphers), the WWDR certificate as
    /// [`from_pem`](Self::from_pem) does; the same checks. The first key in the file is used,
    /// with the first certificate of its chain.
    pub fn from_p12(p12: &[u8], password: &str, wwdr: &[u8]) -> Result<Self, WalletError> {
        let store = p12_keystore::KeyStore::from_pkcs12(p12, password).map_err(|e| {
            credential(
                "p12",
                format!("cannot be opened (a wrong p12_password, or not a PKCS #12 file): {e}"),
            )
        })?;
        let (_, chain) = store
            .private_key_chain()
            .ok_or_else(|| credential("p12", "holds no private key"))?;
        let leaf = chain
            .chain()
            .first()
            .ok_or_else(|| credential("p12", "holds no certificate with its key"))?;
        let certificate = Certificate::from_der(leaf.as_der())
            .map_err(|e| credential("p12", format!("its certificate: {e}")))?;
        let key = read_key(chain.key())
            .map_err(|_| credential("p12", "its key is neither RSA nor P-256 (PKCS #8)"))?;
        let wwdr = read_certificate("wwdr", wwdr)?;
        Self::checked(certificate, key, wwdr)
    }

    /// The signer, once the key is known to be the certificate's and the WWDR certificate its
    /// issuer.
    fn checked(
        certificate: Certificate,
        key: SigningKey,
        wwdr: Certificate,
    ) -> Result<Self, WalletError> {
        let spki = &certificate.tbs_certificate.subject_public_key_info;
        let matches = match &key {
            SigningKey::Rsa(k) => rsa::RsaPublicKey::try_from(spki.owned_to_ref())
                .is_ok_and(|public| k.verifying_key().as_ref() == &public),
            SigningKey::P256(k) => spki
                .to_der()
                .ok()
                .and_then(|der| {
                    use p256::pkcs8::DecodePublicKey;
                    p256::PublicKey::from_public_key_der(&der).ok()
                })
                .is_some_and(|public| public == p256::PublicKey::from(k.verifying_key())),
        };
        if !matches {
            return Err(WalletError::KeyMismatch);
        }
        if certificate.tbs_certificate.issuer != wwdr.tbs_certificate.subject {
            return Err(WalletError::WrongIntermediate {
                issuer: certificate.tbs_certificate.issuer.to_string(),
                wwdr: wwdr.tbs_certificate.subject.to_string(),
            });
        }
        Ok(Self {
            certificate,
            wwdr,
            key,
        })
    }

    /// A signer with a made-up WWDR (a self-signed P-256 CA) and a fresh RSA-2048 Pass Type ID
    /// certificate from it, valid from a day before `now` for a year: no phone trusts its
    /// passes. For benches, demos and tests that need a signer without Apple's certificates;
    /// [`wwdr_der`](Self::wwdr_der) is the root to verify its signatures against.
    pub fn self_issued(
        pass_type_id: &str,
        team_id: &str,
        now: Timestamp,
    ) -> Result<Self, WalletError> {
        use std::str::FromStr;
        use x509_cert::builder::{Builder, CertificateBuilder, Profile};
        use x509_cert::name::Name;
        use x509_cert::serial_number::SerialNumber;
        let fail = |e: &dyn std::fmt::Display| credential("self-issued certificate", e);
        let validity = x509_cert::time::Validity {
            not_before: x509_time(now.minus_ms(86_400_000)).map_err(|e| fail(&e))?,
            not_after: x509_time(now.plus_ms(365 * 86_400_000)).map_err(|e| fail(&e))?,
        };
        let wwdr_key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let wwdr_name = Name::from_str("CN=Passdesk self-issued WWDR (not Apple's),O=Passdesk")
            .map_err(|e| fail(&e))?;
        let wwdr_spki = spki::SubjectPublicKeyInfoOwned::from_key(*wwdr_key.verifying_key())
            .map_err(|e| fail(&e))?;
        let wwdr = CertificateBuilder::new(
            Profile::Root,
            SerialNumber::from(1u32),
            validity,
            wwdr_name.clone(),
            wwdr_spki,
            &wwdr_key,
        )
        .and_then(|b| b.build::<p256::ecdsa::DerSignature>())
        .map_err(|e| fail(&e))?;
        let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).map_err(|e| fail(&e))?;
        let spki =
            spki::SubjectPublicKeyInfoOwned::from_key(key.to_public_key()).map_err(|e| fail(&e))?;
        // RFC 4514 lists the last RDN first; the UID attribute by its OID. Values are escaped.
        let subject = Name::from_str(&format!(
            "O=Passdesk self-issued,OU={},CN=Pass Type ID: {},{UID}={}",
            rfc4514_escape(team_id),
            rfc4514_escape(pass_type_id),
            rfc4514_escape(pass_type_id),
        ))
        .map_err(|e| fail(&e))?;
        let certificate = CertificateBuilder::new(
            Profile::Leaf {
                issuer: wwdr_name,
                enable_key_agreement: false,
                enable_key_encipherment: false,
            },
            SerialNumber::from(2u32),
            validity,
            subject,
            spki,
            &wwdr_key,
        )
        .and_then(|b| b.build::<p256::ecdsa::DerSignature>())
        .map_err(|e| fail(&e))?;
        Self::checked(
            certificate,
            SigningKey::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(key))),
            wwdr,
        )
    }

    /// The WWDR certificate, DER.
    pub fn wwdr_der(&self) -> Vec<u8> {
        self.wwdr.to_der().expect("a decoded certificate encodes")
    }

    /// The certificate's subject, RFC 4514 (for status lines and logs).
    pub fn subject(&self) -> String {
        self.certificate.tbs_certificate.subject.to_string()
    }

    /// The Pass Type ID the certificate was made for (its subject's `UID`), when it names one.
    pub fn pass_type_id(&self) -> Option<String> {
        self.certificate
            .tbs_certificate
            .subject
            .0
            .iter()
            .flat_map(|rdn| rdn.0.iter())
            .find(|atv| atv.oid == UID)
            .and_then(|atv| directory_string(&atv.value))
    }

    /// When the certificate stops being valid: a pass signed after it does not install.
    pub fn not_after(&self) -> Timestamp {
        let d = self
            .certificate
            .tbs_certificate
            .validity
            .not_after
            .to_unix_duration();
        Timestamp::from_unix_ms(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }

    /// The detached signature over `manifest` (DER `ContentInfo`), signed `at`.
    pub fn sign_manifest(&self, manifest: &[u8], at: Timestamp) -> Result<Vec<u8>, WalletError> {
        let sign_err = |e: &dyn std::fmt::Display| WalletError::Sign(e.to_string());
        let digest = Sha256::digest(manifest);
        let content = EncapsulatedContentInfo {
            econtent_type: rfc5911::ID_DATA,
            econtent: None,
        };
        let digest_algorithm = AlgorithmIdentifierOwned {
            oid: rfc5912::ID_SHA_256,
            parameters: None,
        };
        let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: self.certificate.tbs_certificate.issuer.clone(),
            serial_number: self.certificate.tbs_certificate.serial_number.clone(),
        });
        let mut data = SignedDataBuilder::new(&content);
        data.add_digest_algorithm(digest_algorithm.clone())
            .and_then(|d| {
                d.add_certificate(CertificateChoices::Certificate(self.certificate.clone()))
            })
            .and_then(|d| d.add_certificate(CertificateChoices::Certificate(self.wwdr.clone())))
            .map_err(|e| sign_err(&e))?;
        let time = signing_time(at)?;
        match &self.key {
            SigningKey::Rsa(key) => {
                let signer = BlindedRsa(key);
                let mut info =
                    SignerInfoBuilder::new(&signer, sid, digest_algorithm, &content, Some(&digest))
                        .map_err(|e| sign_err(&e))?;
                info.add_signed_attribute(time).map_err(|e| sign_err(&e))?;
                data.add_signer_info::<_, rsa::pkcs1v15::Signature>(info)
                    .map_err(|e| sign_err(&e))?;
            }
            SigningKey::P256(key) => {
                let mut info =
                    SignerInfoBuilder::new(key, sid, digest_algorithm, &content, Some(&digest))
                        .map_err(|e| sign_err(&e))?;
                info.add_signed_attribute(time).map_err(|e| sign_err(&e))?;
                data.add_signer_info::<_, p256::ecdsa::DerSignature>(info)
                    .map_err(|e| sign_err(&e))?;
            }
        }
        let signed = data.build().map_err(|e| sign_err(&e))?;
        signed.to_der().map_err(|e| sign_err(&e))
    }
}

/// An X.509 time: UTCTime to 2049, GeneralizedTime after (RFC 5280).
fn x509_time(at: Timestamp) -> der::Result<x509_cert::time::Time> {
    let secs = u64::try_from(at.unix_ms().div_euclid(1000)).unwrap_or(0);
    let when = der::DateTime::from_unix_duration(Duration::from_secs(secs))?;
    Ok(if when.year() <= 2049 {
        x509_cert::time::Time::UtcTime(UtcTime::from_date_time(when)?)
    } else {
        x509_cert::time::Time::GeneralTime(GeneralizedTime::from_date_time(when))
    })
}

/// A value escaped for an RFC 4514 string.
fn rfc4514_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let edge =
            (i == 0 && (c == ' ' || c == '#')) || (i + 1 == value.chars().count() && c == ' ');
        if edge || matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// RFC 5652's `signingTime`: UTCTime from 1950 to 2049, GeneralizedTime outside.
fn signing_time(at: Timestamp) -> Result<Attribute, WalletError> {
    let err = |e: der::Error| WalletError::Sign(format!("signing time {at}: {e}"));
    let secs = u64::try_from(at.unix_ms().div_euclid(1000))
        .map_err(|_| WalletError::Sign(format!("signing time {at} is before 1970")))?;
    let when = der::DateTime::from_unix_duration(Duration::from_secs(secs)).map_err(err)?;
    let encoded = if (1950..=2049).contains(&when.year()) {
        UtcTime::from_date_time(when).and_then(|t| t.to_der())
    } else {
        GeneralizedTime::from_date_time(when).to_der()
    }
    .map_err(err)?;
    let mut values = SetOfVec::new();
    values
        .insert(AttributeValue::from_der(&encoded).map_err(err)?)
        .map_err(err)?;
    Ok(Attribute {
        oid: rfc5911::ID_SIGNING_TIME,
        values,
    })
}

/// The RSA key signing with blinding (a fresh random blinding factor per signature), so the
/// time a signature takes says nothing about the key: `cms` calls the plain `Signer`, this
/// answers it with `RandomizedSigner`.
struct BlindedRsa<'a>(&'a rsa::pkcs1v15::SigningKey<Sha256>);

impl Keypair for BlindedRsa<'_> {
    type VerifyingKey = rsa::pkcs1v15::VerifyingKey<Sha256>;
    fn verifying_key(&self) -> Self::VerifyingKey {
        self.0.verifying_key()
    }
}

impl DynSignatureAlgorithmIdentifier for BlindedRsa<'_> {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        self.0.signature_algorithm_identifier()
    }
}

impl Signer<rsa::pkcs1v15::Signature> for BlindedRsa<'_> {
    fn try_sign(&self, msg: &[u8]) -> Result<rsa::pkcs1v15::Signature, rsa::signature::Error> {
        self.0.try_sign_with_rng(&mut rand_core::OsRng, msg)
    }
}

fn credential(what: &'static str, detail: impl std::fmt::Display) -> WalletError {
    WalletError::Credential {
        what,
        detail: detail.to_string(),
    }
}

/// PEM text, when the bytes are text holding a `-----BEGIN` line.
fn pem_text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes)
        .ok()
        .filter(|t| t.contains("-----BEGIN "))
}

/// The text from `-----BEGIN {label}-----` to its `-----END {label}-----`, inclusive.
fn pem_block<'a>(pem: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)?;
    let stop = start + pem[start..].find(&end)? + end.len();
    Some(&pem[start..stop])
}

fn read_certificate(what: &'static str, bytes: &[u8]) -> Result<Certificate, WalletError> {
    match pem_text(bytes) {
        Some(pem) => {
            let block = pem_block(pem, "CERTIFICATE")
                .ok_or_else(|| credential(what, "no CERTIFICATE block in the PEM"))?;
            Certificate::from_pem(block.as_bytes()).map_err(|e| credential(what, e))
        }
        None => Certificate::from_der(bytes)
            .map_err(|e| credential(what, format!("neither PEM nor a DER certificate: {e}"))),
    }
}

fn read_key(bytes: &[u8]) -> Result<SigningKey, WalletError> {
    let rsa = |k: rsa::RsaPrivateKey| SigningKey::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(k)));
    let ec = |k: p256::SecretKey| SigningKey::P256(p256::ecdsa::SigningKey::from(k));
    // Errors never echo the input: it is a secret.
    let Some(pem) = pem_text(bytes) else {
        return rsa::RsaPrivateKey::from_pkcs8_der(bytes)
            .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_der(bytes))
            .map(rsa)
            .or_else(|_| p256::SecretKey::from_pkcs8_der(bytes).map(ec))
            .or_else(|_| p256::SecretKey::from_sec1_der(bytes).map(ec))
            .map_err(|_| {
                credential(
                    "key",
                    "not an RSA or P-256 private key in PEM or DER (PKCS #8, PKCS #1, SEC1)",
                )
            });
    };
    if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || pem.contains("Proc-Type: 4,ENCRYPTED")
    {
        return Err(credential(
            "key",
            "the key is encrypted; write it unencrypted (openssl pkey -in key.pem -out plain.pem) \
             into the 0700 data directory",
        ));
    }
    if let Some(block) = pem_block(pem, "RSA PRIVATE KEY") {
        return rsa::RsaPrivateKey::from_pkcs1_pem(block)
            .map(rsa)
            .map_err(|e| credential("key", format!("RSA PRIVATE KEY: {e}")));
    }
    if let Some(block) = pem_block(pem, "EC PRIVATE KEY") {
        return p256::SecretKey::from_sec1_pem(block)
            .map(ec)
            .map_err(|e| credential("key", format!("EC PRIVATE KEY (P-256 only): {e}")));
    }
    if let Some(block) = pem_block(pem, "PRIVATE KEY") {
        return rsa::RsaPrivateKey::from_pkcs8_pem(block)
            .map(rsa)
            .or_else(|_| p256::SecretKey::from_pkcs8_pem(block).map(ec))
            .map_err(|_| credential("key", "PRIVATE KEY is neither RSA nor P-256"));
    }
    Err(credential(
        "key",
        "no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block in the PEM",
    ))
}

/// A `DirectoryString`'s text (UTF8String, PrintableString, IA5String…).
fn directory_string(value: &der::Any) -> Option<String> {
    use der::asn1::{Ia5StringRef, PrintableStringRef, Utf8StringRef};
    let bytes = value.to_der().ok()?;
    Utf8StringRef::from_der(&bytes)
        .map(|s| s.as_str().to_owned())
        .or_else(|_| PrintableStringRef::from_der(&bytes).map(|s| s.as_str().to_owned()))
        .or_else(|_| Ia5StringRef::from_der(&bytes).map(|s| s.as_str().to_owned()))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4514_values_are_escaped() {
        assert_eq!(rfc4514_escape("pass.com.example"), "pass.com.example");
        assert_eq!(rfc4514_escape("a,b+c=d"), "a\\,b\\+c\\=d");
        assert_eq!(rfc4514_escape(" #x "), "\\ #x\\ ");
        assert_eq!(rfc4514_escape("#x"), "\\#x");
    }

    #[test]
    fn signing_time_switches_to_generalized_time_after_2049() {
        let attr = |t: &str| {
            let a = signing_time(Timestamp::parse_rfc3339(t).unwrap()).unwrap();
            der::Tagged::tag(a.values.get(0).unwrap())
        };
        assert_eq!(attr("2027-01-15T08:00:00Z"), der::Tag::UtcTime);
        assert_eq!(attr("2050-01-01T00:00:00Z"), der::Tag::GeneralizedTime);
    }
}
