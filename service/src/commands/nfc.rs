//! `passdesk nfc ...`: NFC wallet tools that need no reader, e.g. decrypting a captured Apple
//! VAS cryptogram to check a reader key and pass type before putting them on a counter.

use crate::context::Context;
use crate::output::print_json;
use anyhow::{anyhow, bail};
use passdesk_hardware::nfc::{vas, VasReaderKey};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Decrypt an Apple VAS cryptogram (hex, as `9F27` carries it) and print its message and
    /// timestamp as JSON.
    VasDecrypt {
        /// Reader private key: PEM or DER, SEC1 or PKCS#8. Repeat for several keys (the
        /// cryptogram's keyId picks one).
        #[arg(long = "key", value_name = "FILE", required = true)]
        keys: Vec<PathBuf>,
        /// The pass type identifier, e.g. pass.com.example.loyalty.
        #[arg(long, value_name = "ID")]
        pass_type_id: String,
        /// Also refuse the read if its timestamp is further than this many seconds from now.
        #[arg(long, value_name = "SECS")]
        max_age: Option<u64>,
        /// The cryptogram in hex (spaces and colons are ignored).
        cryptogram: String,
    },
    /// Print the VAS keyId (first 4 bytes of SHA-256 of the public X) of a reader key.
    KeyId {
        #[arg(long = "key", value_name = "FILE")]
        key: PathBuf,
    },
}

pub fn run(_ctx: &Context, cmd: Cmd) -> anyhow::Result<ExitCode> {
    match cmd {
        Cmd::VasDecrypt {
            keys,
            pass_type_id,
            max_age,
            cryptogram,
        } => {
            let keys = keys
                .iter()
                .map(|p| load_key(p))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let bytes = parse_hex(&cryptogram)?;
            let payload = vas::decrypt(&bytes, &pass_type_id, &keys)
                .map_err(|e| anyhow!("{e} ({})", e.user_message()))?;
            if let Some(secs) = max_age {
                payload
                    .check_fresh(SystemTime::now(), Duration::from_secs(secs))
                    .map_err(|e| anyhow!("{e}"))?;
            }
            let unix = i64::try_from(payload.unix_secs()).unwrap_or(i64::MAX);
            let timestamp = chrono::DateTime::from_timestamp(unix, 0)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            print_json(&json!({
                "message": payload.message,
                "timestamp": timestamp,
                "timestampUnix": unix,
                "timestampApple": payload.timestamp,
                "keyId": hex::encode(&bytes[..4]),
                "passTypeId": pass_type_id,
            }))?;
        }
        Cmd::KeyId { key } => {
            let key = load_key(&key)?;
            print_json(&json!({ "keyId": hex::encode(key.key_id()) }))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Errors name the file, never its contents (a private key).
fn load_key(path: &Path) -> anyhow::Result<VasReaderKey> {
    Ok(VasReaderKey::from_file(path)?)
}

fn parse_hex(s: &str) -> anyhow::Result<Vec<u8>> {
    let clean: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    let clean = clean.strip_prefix("0x").unwrap_or(&clean);
    if clean.is_empty() {
        bail!("the cryptogram is empty");
    }
    hex::decode(clean).map_err(|e| anyhow!("the cryptogram is not hex: {e}"))
}
