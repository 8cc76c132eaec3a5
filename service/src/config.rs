//! Configuration: defaults, then `<data-dir>/passdesk.toml`, then `PASSDESK_*` environment
//! variables, then command-line flags.

use anyhow::Context as _;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::Path;

pub const CONFIG_FILE: &str = "passdesk.toml";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the HTTP service listens. Loopback by default: LAN access is a deliberate setting.
    pub listen: SocketAddr,
    /// This counter's name, shown on the status screen.
    pub node_name: String,
    /// Requests taking longer are answered 408.
    pub request_timeout_secs: u64,
    /// Larger request bodies are answered 413.
    pub body_limit_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8917)),
            node_name: "Passdesk counter".into(),
            request_timeout_secs: 10,
            body_limit_bytes: 1 << 20,
        }
    }
}

impl Config {
    pub fn load(data_dir: &Path) -> anyhow::Result<Self> {
        let file = data_dir.join(CONFIG_FILE);
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("PASSDESK_").only(&[
                "listen",
                "node_name",
                "request_timeout_secs",
                "body_limit_bytes",
            ]))
            .extract()
            .with_context(|| {
                format!(
                    "bad configuration (defaults, {}, PASSDESK_* variables)",
                    file.display()
                )
            })
    }
}
