//! Configuration: defaults, then `<data-dir>/passdesk.toml`, then `PASSDESK_*` environment
//! variables, then command-line flags.

use anyhow::Context as _;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use passdesk_core::local_day::TimeZone;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

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
    /// The counter's time zone, an IANA name (`Europe/Berlin`): where its "today" begins and
    /// ends, on the status screen, at the gates (a gate bound to an event counts in the event's
    /// zone) and for the offline redemption cap. Default: this machine's zone, else UTC. An
    /// unknown name stops the start.
    #[serde(default = "machine_time_zone")]
    pub time_zone: TimeZone,
    /// PC/SC NFC readers (`[nfc]` in passdesk.toml).
    #[serde(default)]
    pub nfc: NfcConfig,
    /// Serial readers: VTAPs and serial barcode scanners (`[[serial]]`, one table per port).
    #[serde(default)]
    pub serial: Vec<SerialConfig>,
    /// The camera that reads QR codes (`[camera]`).
    #[serde(default)]
    pub camera: CameraConfig,
    /// The desktop app (`passdesk-app`, `[app]`); `passdesk serve` ignores it.
    #[serde(default)]
    pub app: AppConfig,
    /// Per-address limits on what answers without a key (`[rate_limit]`).
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    /// Outbound webhook delivery (`[webhooks]`).
    #[serde(default)]
    pub webhooks: WebhooksConfig,
    /// Sync with a hub once joined (`[sync]`; `passdesk sync join` joins).
    #[serde(default)]
    pub sync: SyncConfig,
    /// A wallet platform as upstream (`[upstream.passentry]`): its passes pulled into the cache,
    /// this counter's scans and loyalty changes pushed to it.
    #[serde(default)]
    pub upstream: UpstreamConfig,
    /// Provider webhooks in (`[hooks.passcreator]`, `[hooks.skycore]`; PassEntry's secret is
    /// `[upstream.passentry] webhook_secret`).
    #[serde(default)]
    pub hooks: HooksConfig,
    /// Wallet passes made at the counter (`[wallet]`, `[wallet.apple]`, `[wallet.google]`).
    #[serde(default)]
    pub wallet: WalletConfig,
}

/// `[wallet]`: Apple Wallet and Google Wallet passes built on the counter. Without a provider's
/// table, issuance still works with the QR, and the API and screens say that wallet is not set
/// up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WalletConfig {
    /// The address a customer's phone reaches this counter's holder pages at, on the shop's LAN
    /// (`http://192.168.1.20:8917`): the manager screen shows it as a QR. Unset: the listen
    /// address.
    pub holder_base_url: Option<String>,
    pub apple: Option<AppleWalletConfig>,
    pub google: Option<GoogleWalletConfig>,
}

/// `[wallet.apple]`: the merchant's Pass Type ID certificate that signs each `.pkpass`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppleWalletConfig {
    /// `pass.com.example.store`: also the pass type id our VAS readers ask phones for.
    pub pass_type_id: String,
    pub team_id: String,
    pub organization_name: String,
    /// The Pass Type ID certificate and its private key, PEM files; or `p12` + `p12_password`.
    #[serde(default)]
    pub certificate: Option<PathBuf>,
    #[serde(default)]
    pub key: Option<PathBuf>,
    #[serde(default)]
    pub p12: Option<PathBuf>,
    #[serde(default)]
    pub p12_password: Option<ConfigSecret>,
    /// Apple's WWDR intermediate certificate, PEM.
    pub wwdr: PathBuf,
    /// The pass update web service's base URL written into `pass.json` (`webServiceURL`); unset:
    /// passes carry none and are not updated on phones.
    #[serde(default)]
    pub web_service_url: Option<String>,
    /// Send APNs pushes for updated passes when online (needs the internet and the same
    /// certificate). Off: updates wait until the phone asks.
    #[serde(default)]
    pub push: bool,
}

/// `[wallet.google]`: the Google Wallet issuer whose service account signs "Add to Google
/// Wallet" links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleWalletConfig {
    pub issuer_id: String,
    /// The service account's JSON key file (as Google's console downloads it).
    pub service_account_key: PathBuf,
    /// Web origins allowed to show the save button (the JWT's `origins`).
    #[serde(default)]
    pub origins: Vec<String>,
    /// The merchant's name on the passes (`issuerName`); unset: the template's logo text, else
    /// its name.
    #[serde(default)]
    pub issuer_name: Option<String>,
    /// A public `https` address of the merchant's logo, which Google fetches (a loyalty card's
    /// `programLogo` is required by Google; the counter does not serve it).
    #[serde(default)]
    pub logo_url: Option<String>,
}

/// A secret read from `passdesk.toml` (an API key, a webhook secret): its `Debug` never shows
/// it, so a logged configuration leaks nothing.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConfigSecret(String);

impl ConfigSecret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret itself, for the one place that uses it (a header, an HMAC key).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ConfigSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConfigSecret(…)")
    }
}

/// `[upstream]`: the platforms this counter keeps a copy of. Only PassEntry for now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamConfig {
    pub passentry: Option<PassEntryUpstream>,
}

/// `[upstream.passentry]`: PassEntry's API as this counter's upstream
/// (`service/src/workers/upstream`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassEntryUpstream {
    /// `https://api.passentry.com` (or a stand-in on loopback in the tests).
    pub base_url: String,
    /// The account's API key, sent as `Authorization: Bearer …`.
    pub api_key: ConfigSecret,
    /// The secret PassEntry signs its webhooks with (`X-Webhook-Signature`), checked by
    /// `POST /hooks/passentry`. Without it that route answers 404.
    #[serde(default)]
    pub webhook_secret: Option<ConfigSecret>,
    /// Seconds between scheduled pulls of every pass (default 300; 0: only on demand).
    #[serde(default = "default_pull_every_seconds")]
    pub pull_every_seconds: u64,
    /// Run the worker inside `passdesk serve` (default true). Off: only `passdesk upstream …`.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Passes asked for per page of a pull (`perPage`; default 100, PassEntry's default). A
    /// larger page means fewer requests, where the account allows it.
    #[serde(default = "default_per_page")]
    pub per_page: std::num::NonZeroU32,
}

fn default_per_page() -> std::num::NonZeroU32 {
    std::num::NonZeroU32::new(100).expect("100 is not zero")
}

fn default_pull_every_seconds() -> u64 {
    300
}

fn default_true() -> bool {
    true
}

/// `[hooks]`: providers' webhooks in (`service/src/server/routes/hooks.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HooksConfig {
    /// The oldest event time accepted, in seconds before now (a replayed old body is refused).
    /// Default 3 days and an hour: PassEntry retries one event for 3 days with its first
    /// timestamp, so a shorter window would refuse its honest retries.
    pub max_age_seconds: u64,
    pub passcreator: Option<PathSecretHook>,
    pub skycore: Option<PathSecretHook>,
}

impl Default for HooksConfig {
    fn default() -> Self {
        Self {
            max_age_seconds: 3 * 24 * 3600 + 3600,
            passcreator: None,
            skycore: None,
        }
    }
}

/// A provider that signs nothing is known by a secret in the path it posts to
/// (`/hooks/passcreator/{secret}/{event}`, `/hooks/skycore/{secret}`); a wrong one is 404.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathSecretHook {
    pub secret: ConfigSecret,
}

/// How the sync worker talks to the hub (`service/src/workers/sync.rs`). It runs only once the
/// counter has joined a hub (`passdesk sync join`); every value is checked when the file is
/// read, and a bad one stops the start and names itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncConfig {
    /// Sync continuously while `passdesk serve` runs (once joined). Off: only
    /// `passdesk sync now` syncs.
    pub enabled: bool,
    /// Changes per push (1 to 1000, the hub's most).
    pub batch: PushBatch,
    /// Changes asked for per pull (1 to 5000, the hub's most).
    pub pull_batch: PullBatch,
    /// Seconds a pull waits at the hub for a change before it answers empty (0 to 30): the hub
    /// answers as soon as one comes, so a scan elsewhere is known here at once.
    pub long_poll_seconds: LongPollSeconds,
    /// The first wait after a failure, doubled at each failure up to `retry_max`
    /// (humantime: `"1s"`, `"500ms"`).
    pub retry_min: RetryWait,
    pub retry_max: RetryWait,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            batch: PushBatch(passdesk_core::sync::wire::MAX_PUSH as u32),
            pull_batch: PullBatch(passdesk_core::sync::wire::MAX_PULL as u32),
            long_poll_seconds: LongPollSeconds(25),
            retry_min: RetryWait(std::time::Duration::from_secs(1)),
            retry_max: RetryWait(std::time::Duration::from_secs(30)),
        }
    }
}

/// A whole number in a range, read from `passdesk.toml` and refused outside it with words
/// that name what it counts.
macro_rules! bounded {
    ($(#[$doc:meta])* $name:ident, $min:expr, $max:expr, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "i64", into = "i64")]
        pub struct $name(u32);

        impl $name {
            pub fn get(self) -> u32 {
                self.0
            }
        }

        impl TryFrom<i64> for $name {
            type Error = String;
            fn try_from(n: i64) -> Result<Self, String> {
                match u32::try_from(n) {
                    Ok(n) if ($min..=$max).contains(&n) => Ok(Self(n)),
                    _ => Err(format!(concat!("{} ", $what, ": give {} to {}"), n, $min, $max)),
                }
            }
        }

        impl From<$name> for i64 {
            fn from(v: $name) -> i64 {
                i64::from(v.0)
            }
        }
    };
}

bounded!(
    /// Changes per push: 1 to the hub's most.
    PushBatch, 1, passdesk_core::sync::wire::MAX_PUSH as u32, "changes per push"
);
bounded!(
    /// Changes per pull: 1 to the hub's most.
    PullBatch, 1, passdesk_core::sync::wire::MAX_PULL as u32, "changes per pull"
);
bounded!(
    /// A long poll's wait: 0 to the hub's most.
    LongPollSeconds, 0, passdesk_core::sync::wire::MAX_WAIT_SECONDS as u32, "seconds of long poll"
);

/// A wait between sync attempts: 100 ms to 10 minutes, as a humantime duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RetryWait(std::time::Duration);

impl RetryWait {
    pub fn get(self) -> std::time::Duration {
        self.0
    }
}

impl TryFrom<String> for RetryWait {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let shown: String = s.chars().take(40).collect();
        let wait = humantime::parse_duration(s.trim())
            .map_err(|e| format!("{shown:?} is not a duration such as \"1s\" or \"500ms\": {e}"))?;
        let (min, max) = (
            std::time::Duration::from_millis(100),
            std::time::Duration::from_secs(600),
        );
        if !(min..=max).contains(&wait) {
            return Err(format!("a retry wait of {shown:?}: give 100ms to 10m"));
        }
        Ok(Self(wait))
    }
}

impl From<RetryWait> for String {
    fn from(w: RetryWait) -> String {
        humantime::format_duration(w.0).to_string()
    }
}

/// How the webhook worker delivers (`service/src/workers/webhooks.rs`). Every value is
/// checked when the file is read: a bad one stops the start and names itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// Requests in flight to one subscription's endpoint at most (1 to 64), so that one slow
    /// endpoint never holds the others' deliveries.
    pub concurrency: Concurrency,
    /// Seconds an endpoint has to answer (1 to 300); past it the attempt failed.
    pub timeout_secs: TimeoutSecs,
    /// The waits between attempts, as humantime durations (`"90s"`, `"5m"`, `"2h"`); a
    /// delivery gets one attempt more than there are waits. Default: 10 attempts over three
    /// days (1 min, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h).
    pub retry_schedule: RetrySchedule,
    /// Days the outbox keeps events already fanned out, and the delivery log keeps finished
    /// deliveries (0 to 3650; 0: pruned at the next run, hourly and at start).
    pub retention_days: RetentionDays,
    /// Requests per second at most, every endpoint together (1 to 100000): a backlog after an
    /// outage is worked off at this pace, leaving the two cores of a counter to its scans.
    pub max_per_second: MaxPerSecond,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            concurrency: Concurrency(4),
            timeout_secs: TimeoutSecs(10),
            retry_schedule: RetrySchedule(passdesk_core::webhook::deliveries::Schedule::standard()),
            retention_days: RetentionDays(30),
            max_per_second: MaxPerSecond(NonZeroU32::new(500).expect("non-zero")),
        }
    }
}

/// Webhook requests per second: 1 to 100000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct MaxPerSecond(NonZeroU32);

impl MaxPerSecond {
    pub fn get(self) -> NonZeroU32 {
        self.0
    }
}

impl TryFrom<i64> for MaxPerSecond {
    type Error = String;
    fn try_from(n: i64) -> Result<Self, String> {
        match u32::try_from(n).ok().filter(|n| (1..=100_000).contains(n)) {
            Some(n) => Ok(Self(NonZeroU32::new(n).expect("checked"))),
            None => Err(format!("{n} requests per second: give 1 to 100000")),
        }
    }
}

impl From<MaxPerSecond> for i64 {
    fn from(m: MaxPerSecond) -> i64 {
        i64::from(m.0.get())
    }
}

/// Requests in flight per webhook endpoint: 1 to 64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Concurrency(u32);

impl Concurrency {
    pub fn get(self) -> usize {
        self.0 as usize
    }
}

impl TryFrom<i64> for Concurrency {
    type Error = String;
    fn try_from(n: i64) -> Result<Self, String> {
        match u32::try_from(n) {
            Ok(n @ 1..=64) => Ok(Self(n)),
            _ => Err(format!("{n} requests in flight per endpoint: give 1 to 64")),
        }
    }
}

impl From<Concurrency> for i64 {
    fn from(c: Concurrency) -> i64 {
        i64::from(c.0)
    }
}

/// Seconds a webhook endpoint has to answer: 1 to 300.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct TimeoutSecs(u64);

impl TimeoutSecs {
    pub fn get(self) -> std::time::Duration {
        std::time::Duration::from_secs(self.0)
    }
}

impl TryFrom<i64> for TimeoutSecs {
    type Error = String;
    fn try_from(n: i64) -> Result<Self, String> {
        match u64::try_from(n) {
            Ok(n @ 1..=300) => Ok(Self(n)),
            _ => Err(format!("a timeout of {n} s: give 1 to 300 seconds")),
        }
    }
}

impl From<TimeoutSecs> for i64 {
    fn from(t: TimeoutSecs) -> i64 {
        t.0 as i64
    }
}

/// Days of retention: 0 to 3650.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct RetentionDays(u32);

impl RetentionDays {
    pub fn get(self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.0) * 86_400)
    }
}

impl TryFrom<i64> for RetentionDays {
    type Error = String;
    fn try_from(n: i64) -> Result<Self, String> {
        match u32::try_from(n) {
            Ok(n @ 0..=3650) => Ok(Self(n)),
            _ => Err(format!("a retention of {n} days: give 0 to 3650")),
        }
    }
}

impl From<RetentionDays> for i64 {
    fn from(d: RetentionDays) -> i64 {
        i64::from(d.0)
    }
}

/// `retry_schedule`: humantime durations, each checked (`"5 minutes"`, `"90s"`, `"1h 30m"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct RetrySchedule(pub passdesk_core::webhook::deliveries::Schedule);

impl TryFrom<Vec<String>> for RetrySchedule {
    type Error = String;
    fn try_from(waits: Vec<String>) -> Result<Self, String> {
        let waits = waits
            .iter()
            .enumerate()
            .map(|(i, w)| {
                humantime::parse_duration(w.trim()).map_err(|e| {
                    format!(
                        "wait {} ({:?}) is not a duration such as \"90s\", \"5m\" or \"2h\": {e}",
                        i + 1,
                        w.chars().take(40).collect::<String>()
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        passdesk_core::webhook::deliveries::Schedule::new(waits).map(Self)
    }
}

impl From<RetrySchedule> for Vec<String> {
    fn from(s: RetrySchedule) -> Vec<String> {
        s.0.waits()
            .iter()
            .map(|w| humantime::format_duration(*w).to_string())
            .collect()
    }
}

/// Per client address, on what answers without a key. A request with a valid key is never
/// limited (a busy gate must never be throttled). Each pair is a burst (requests at once) and
/// how fast it refills; past it the answer is 429 with `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// The holder page, `/health`, the UI's files and the OpenAPI document. The defaults are
    /// far above a browser loading the screens (~20 files) or a kiosk polling `/health`.
    pub public_burst: NonZeroU32,
    pub public_per_minute: NonZeroU32,
    /// Requests refused for a missing or wrong key (key guessing).
    pub refused_burst: NonZeroU32,
    pub refused_per_minute: NonZeroU32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        let n = |v: u32| NonZeroU32::new(v).expect("a non-zero default");
        Self {
            public_burst: n(600),
            public_per_minute: n(1200),
            refused_burst: n(300),
            refused_per_minute: n(120),
        }
    }
}

/// The desktop / kiosk app's window (`src-tauri`). Flags of `passdesk-app` override it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppConfig {
    /// Kiosk: fullscreen, no decorations, always on top, no context menu, zoom or devtools,
    /// the pointer hidden when idle. A manager leaves it with Ctrl+Alt+K and a manager key.
    pub kiosk: bool,
    /// The screen the window opens on: `gate`, `cashier`, `manager` or `status`.
    pub screen: String,
    /// The reader id this station scans as (`?reader=`); unset keeps the screen's own choice.
    /// Set, the launch key is bound to it: it scans only as this reader.
    pub reader: Option<String>,
    /// The role of the key the window gets at launch: `reader` (a gate) or `cashier` (a till).
    /// Unset: from `screen` ([`StationRole::for_screen`]). Never manager or admin: a manager
    /// signs in on the manager screen with their own key.
    pub role: Option<StationRole>,
    /// Start at login (an XDG autostart entry; a kiosk box is better served by
    /// `packaging/passdesk-kiosk.service`).
    pub autostart: bool,
    /// A tray icon with the service's state and Show / Quit.
    pub tray: bool,
    /// Seconds without pointer movement before a kiosk hides the pointer.
    pub hide_cursor_after_secs: u64,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            kiosk: false,
            screen: "gate".into(),
            reader: None,
            role: None,
            autostart: false,
            tray: true,
            hide_cursor_after_secs: 3,
        }
    }
}

impl AppConfig {
    /// The role of this station's launch key: `[app] role`, else the screen's.
    pub fn station_role(&self) -> StationRole {
        self.role
            .unwrap_or_else(|| StationRole::for_screen(&self.screen))
    }
}

/// What the key of a station's window may be: at most a till's. A kiosk is a shared machine;
/// whoever stands at it has its key, so it never holds a key that issues or voids passes,
/// overrides balances or reverses entries. `manager` and `admin` are refused when parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum StationRole {
    /// A gate: scans, and its own reader's day.
    Reader,
    /// A till: scans and loyalty.
    Cashier,
}

impl StationRole {
    /// A gate screen scans; every other screen (cashier, manager, status) is a till's, where a
    /// manager signs in on top of the till's key.
    pub fn for_screen(screen: &str) -> Self {
        if screen == "gate" {
            Self::Reader
        } else {
            Self::Cashier
        }
    }

    pub fn role(self) -> passdesk_core::api_keys::Role {
        match self {
            Self::Reader => passdesk_core::api_keys::Role::Reader,
            Self::Cashier => passdesk_core::api_keys::Role::Cashier,
        }
    }
}

/// A station role that is not `reader` or `cashier`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAStationRole {
    #[error(
        "a station's key is never {0}: a manager signs in on the manager screen with their own key \
         (`passdesk keys create --role manager`); give reader (a gate) or cashier (a till)"
    )]
    TooStrong(&'static str),
    #[error("unknown role {0:?}: give reader (a gate) or cashier (a till)")]
    Unknown(String),
}

impl std::str::FromStr for StationRole {
    type Err = NotAStationRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "reader" => Ok(Self::Reader),
            "cashier" => Ok(Self::Cashier),
            "manager" => Err(NotAStationRole::TooStrong("manager")),
            "admin" => Err(NotAStationRole::TooStrong("admin")),
            other => Err(NotAStationRole::Unknown(other.chars().take(32).collect())),
        }
    }
}

impl TryFrom<String> for StationRole {
    type Error = NotAStationRole;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// The QR camera. With no camera attached the status says "no camera" and it is looked for
/// every 2 s: plugging one in is enough.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CameraConfig {
    pub enabled: bool,
    /// Which camera: `"auto"` (the first that works), an index (`0` for /dev/video0), a device
    /// path, or a part of its name (`"C920"`).
    pub device: CameraDevice,
    /// The reader id its scans carry.
    pub reader_id: String,
    /// Frame size to ask for; the camera's nearest mode is used.
    pub width: u32,
    pub height: u32,
    /// A code held in view continuously scans again after this many seconds (one taken
    /// away and shown again scans again after 1.5 s out of view).
    pub repeat_after_secs: u64,
    /// Play the images of this directory as the camera's frames instead (demos, tests).
    pub frames_dir: Option<PathBuf>,
    /// Frames per second of `frames_dir`.
    pub frames_fps: u32,
}

/// `device = 0` or `device = "C920"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CameraDevice {
    Index(u32),
    Name(String),
}

impl CameraDevice {
    pub fn selector(&self) -> passdesk_hardware::camera::CameraSelector {
        match self {
            Self::Index(i) => passdesk_hardware::camera::CameraSelector::Index(*i),
            Self::Name(n) => n.parse().unwrap_or_default(),
        }
    }
}

impl Default for CameraConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            device: CameraDevice::Name("auto".into()),
            reader_id: "camera".into(),
            width: 1280,
            height: 720,
            repeat_after_secs: 10,
            frames_dir: None,
            frames_fps: 10,
        }
    }
}

/// One serial reader. Give `port` (a path) or `usb` (`VID:PID[/SERIAL]`, so that a renumbered
/// /dev/ttyACM1 is still found).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SerialConfig {
    /// The reader id its scans carry (`till-1`).
    pub reader_id: String,
    pub port: Option<PathBuf>,
    pub usb: Option<String>,
    #[serde(default = "default_baud")]
    pub baud: u32,
    /// `cr`, `lf`, `crlf`, `any` (CR and/or LF) or `idle:MS`.
    #[serde(default = "default_terminator")]
    pub terminator: String,
    /// Prefix / postfix the device adds (`\r`, `\x02` escapes allowed), stripped from reads.
    #[serde(default)]
    pub prefix: String,
    #[serde(default)]
    pub postfix: String,
    /// A dot-origin VTAP: each read carries a pass-type character (A Apple, G Google, Q scanner…).
    #[serde(default)]
    pub vtap: bool,
    /// The VTAP's pass-type character comes last instead of first.
    #[serde(default)]
    pub type_char_last: bool,
    /// For plain scanners: `serial` or `qr`.
    #[serde(default = "default_medium")]
    pub medium: String,
}

fn default_baud() -> u32 {
    9600
}

fn default_terminator() -> String {
    "any".into()
}

fn default_medium() -> String {
    "serial".into()
}

/// The NFC readers `passdesk serve` watches. Key files are named here, never their contents;
/// neither is ever logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NfcConfig {
    /// Watch PC/SC readers. Without pcscd the status says so and the service retries.
    pub enabled: bool,
    /// Only readers whose PC/SC name contains this.
    pub reader_filter: Option<String>,
    /// Apple VAS: pass type identifiers to ask for and the reader private keys (PEM or DER).
    pub vas_pass_type_ids: Vec<String>,
    pub vas_key_files: Vec<PathBuf>,
    /// Seconds an Apple VAS read stays fresh.
    pub vas_max_age_secs: u64,
    /// Google Smart Tap collector.
    pub smart_tap: Option<SmartTapCollector>,
    /// Read NDEF text / URI records from tags, and fall back to card UIDs.
    pub ndef: bool,
    pub uid: bool,
    /// PC/SC reader name (or a part of it) → Passdesk reader id. Unmapped readers get an id
    /// made from their name (`Virtual PCD 00 00` → `pcsc-virtual-pcd-00-00`).
    pub reader_ids: BTreeMap<String, String>,
    /// Init commands per reader model (`[[nfc.reader_init]]`), e.g. to switch on Apple's ECP
    /// polling frame on readers that need it (see docs/readers.md).
    pub reader_init: Vec<ReaderInitConfig>,
}

/// Commands for the readers whose PC/SC name contains `reader`. A failing one is reported on
/// the status screen and in the log; the reader keeps reading taps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderInitConfig {
    pub reader: String,
    /// Escape commands, sent with `SCardControl` when the reader appears (plugged in, pcscd
    /// back, service start).
    #[serde(default)]
    pub escape: Vec<EscapeConfig>,
    /// APDUs sent on every connect to a card or phone, before it is read.
    #[serde(default)]
    pub apdu: Vec<InitApduConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscapeConfig {
    /// The n of `SCARD_CTL_CODE(n)`: 3500 is the CCID escape on pcsc-lite.
    #[serde(default = "default_ctl_code")]
    pub ctl_code: u32,
    /// The command bytes, hex (spaces and colons allowed).
    pub hex: String,
    /// Hex the reader's answer must start with; unset: any answer is fine.
    #[serde(default)]
    pub expect: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitApduConfig {
    /// The command APDU, hex (spaces and colons allowed).
    pub hex: String,
    /// The status word it must answer, hex.
    #[serde(default = "default_expect_sw")]
    pub expect_sw: String,
}

fn default_ctl_code() -> u32 {
    3500
}

fn default_expect_sw() -> String {
    "9000".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmartTapCollector {
    pub collector_id: u32,
    pub key_version: u32,
    pub key_file: PathBuf,
}

impl Default for NfcConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            reader_filter: None,
            vas_pass_type_ids: Vec::new(),
            vas_key_files: Vec::new(),
            vas_max_age_secs: 60,
            smart_tap: None,
            ndef: true,
            uid: true,
            reader_ids: BTreeMap::new(),
            reader_init: Vec::new(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8917)),
            node_name: "Passdesk counter".into(),
            request_timeout_secs: 10,
            body_limit_bytes: 1 << 20,
            time_zone: machine_time_zone(),
            nfc: NfcConfig::default(),
            serial: Vec::new(),
            camera: CameraConfig::default(),
            app: AppConfig::default(),
            rate_limit: RateLimitConfig::default(),
            webhooks: WebhooksConfig::default(),
            sync: SyncConfig::default(),
            upstream: UpstreamConfig::default(),
            hooks: HooksConfig::default(),
            wallet: WalletConfig::default(),
        }
    }
}

/// This machine's zone (`/etc/localtime`), or UTC when it has none or one chrono-tz does not know.
pub fn machine_time_zone() -> TimeZone {
    iana_time_zone::get_timezone()
        .ok()
        .and_then(|name| name.parse().ok())
        .unwrap_or(TimeZone::UTC)
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
                "time_zone",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml: &str) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), toml).unwrap();
        Config::load(dir.path())
    }

    #[test]
    fn the_camera_is_chosen_by_index_or_by_name() {
        use passdesk_hardware::camera::CameraSelector;
        let c = load("").unwrap().camera;
        assert!(c.enabled);
        assert_eq!(c.device.selector(), CameraSelector::First);
        assert_eq!((c.width, c.height), (1280, 720));
        let c = load("[camera]\ndevice = 2\n").unwrap().camera;
        assert_eq!(c.device.selector(), CameraSelector::Index(2));
        let c = load("[camera]\ndevice = \"C920\"\nreader_id = \"till-cam\"\n")
            .unwrap()
            .camera;
        assert_eq!(c.device.selector(), CameraSelector::Name("C920".into()));
        assert_eq!(c.reader_id, "till-cam");
        let c = load("[camera]\ndevice = \"/dev/video4\"\n").unwrap().camera;
        assert_eq!(
            c.device.selector(),
            CameraSelector::Path("/dev/video4".into())
        );
        let err = load("[camera]\ndevise = 0\n").unwrap_err();
        assert!(format!("{err:#}").contains("devise"), "{err:#}");
    }

    #[test]
    fn the_time_zone_is_an_iana_name_and_an_unknown_one_is_refused() {
        assert_eq!(load("").unwrap().time_zone, machine_time_zone());
        let c = load("time_zone = \"Europe/Berlin\"\n").unwrap();
        assert_eq!(c.time_zone.name(), "Europe/Berlin");
        let err = load("time_zone = \"Europe/Berlyn\"\n").unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("unknown time zone \"Europe/Berlyn\""),
            "{text}"
        );
        assert!(text.contains("IANA"), "{text}");
    }

    #[test]
    fn a_station_key_is_a_reader_or_a_cashier_never_more() {
        let app = load("").unwrap().app;
        assert_eq!(app.role, None);
        assert_eq!(
            app.station_role(),
            StationRole::Reader,
            "the default screen is the gate"
        );
        for (screen, role) in [
            ("gate", StationRole::Reader),
            ("cashier", StationRole::Cashier),
            ("manager", StationRole::Cashier),
            ("status", StationRole::Cashier),
        ] {
            let app = load(&format!("[app]\nscreen = \"{screen}\"\n"))
                .unwrap()
                .app;
            assert_eq!(app.station_role(), role, "{screen}");
        }
        let app = load("[app]\nscreen = \"gate\"\nrole = \"cashier\"\n")
            .unwrap()
            .app;
        assert_eq!(app.station_role(), StationRole::Cashier, "the setting wins");
        for strong in ["manager", "admin"] {
            let err = load(&format!("[app]\nrole = \"{strong}\"\n")).unwrap_err();
            let text = format!("{err:#}");
            assert!(text.contains(&format!("never {strong}")), "{text}");
            assert!(text.contains("a manager signs in"), "{text}");
        }
        let err = load("[app]\nrole = \"boss\"\n").unwrap_err();
        assert!(
            format!("{err:#}").contains("unknown role \"boss\""),
            "{err:#}"
        );
        assert_eq!("cashier".parse(), Ok(StationRole::Cashier));
        assert_eq!(
            StationRole::Reader.role(),
            passdesk_core::api_keys::Role::Reader
        );
    }

    #[test]
    fn webhook_settings_are_checked_and_name_what_is_wrong() {
        let w = load("").unwrap().webhooks;
        assert_eq!(w, WebhooksConfig::default());
        assert_eq!(w.retry_schedule.0.attempts(), 10);
        assert_eq!(w.concurrency.get(), 4);
        assert_eq!(w.timeout_secs.get(), std::time::Duration::from_secs(10));
        let w = load(
            "[webhooks]\nconcurrency = 2\ntimeout_secs = 3\nretention_days = 0\n\
             retry_schedule = [\"1s\", \"250ms\", \"1m 30s\"]\n",
        )
        .unwrap()
        .webhooks;
        assert_eq!(w.concurrency.get(), 2);
        assert_eq!(w.retention_days.get(), std::time::Duration::ZERO);
        assert_eq!(
            w.retry_schedule.0.waits(),
            [1000, 250, 90_000].map(std::time::Duration::from_millis)
        );
        assert_eq!(w.retry_schedule.0.attempts(), 4);
        for (toml, says) in [
            ("concurrency = 0", "give 1 to 64"),
            ("concurrency = 65", "give 1 to 64"),
            ("timeout_secs = 0", "give 1 to 300 seconds"),
            ("retention_days = -1", "give 0 to 3650"),
            ("max_per_second = 0", "give 1 to 100000"),
            (
                "retry_schedule = [\"1s\", \"soon\"]",
                "wait 2 (\"soon\") is not a duration",
            ),
            ("retry_schedule = [\"8 days\"]", "at most 7 days"),
            ("retry_schedule = \"1s\"", "retry_schedule"),
            ("retries = 3", "retries"),
        ] {
            let err = load(&format!("[webhooks]\n{toml}\n")).unwrap_err();
            let text = format!("{err:#}");
            assert!(text.contains(says), "{toml}: {text}");
        }
    }

    #[test]
    fn sync_settings_are_checked_and_name_what_is_wrong() {
        let s = load("").unwrap().sync;
        assert_eq!(s, SyncConfig::default());
        assert!(s.enabled);
        assert_eq!(s.batch.get(), 1000);
        assert_eq!(s.pull_batch.get(), 5000);
        assert_eq!(s.long_poll_seconds.get(), 25);
        assert_eq!(s.retry_min.get(), std::time::Duration::from_secs(1));
        assert_eq!(s.retry_max.get(), std::time::Duration::from_secs(30));
        let s = load(
            "[sync]\nenabled = false\nbatch = 50\npull_batch = 200\nlong_poll_seconds = 0\n\
             retry_min = \"250ms\"\nretry_max = \"5s\"\n",
        )
        .unwrap()
        .sync;
        assert!(!s.enabled);
        assert_eq!((s.batch.get(), s.pull_batch.get()), (50, 200));
        assert_eq!(s.long_poll_seconds.get(), 0);
        assert_eq!(s.retry_min.get(), std::time::Duration::from_millis(250));
        for (toml, says) in [
            ("batch = 0", "0 changes per push: give 1 to 1000"),
            ("batch = 1001", "give 1 to 1000"),
            ("pull_batch = 5001", "changes per pull: give 1 to 5000"),
            (
                "long_poll_seconds = 31",
                "seconds of long poll: give 0 to 30",
            ),
            ("long_poll_seconds = -1", "give 0 to 30"),
            ("retry_min = \"soon\"", "\"soon\" is not a duration"),
            ("retry_max = \"1h\"", "give 100ms to 10m"),
            ("interval = 3", "interval"),
        ] {
            let err = load(&format!("[sync]\n{toml}\n")).unwrap_err();
            let text = format!("{err:#}");
            assert!(text.contains(says), "{toml}: {text}");
        }
    }

    #[test]
    fn rate_limits_are_set_per_kind_and_never_zero() {
        let r = load("[rate_limit]\npublic_burst = 5\n").unwrap().rate_limit;
        assert_eq!(r.public_burst.get(), 5);
        assert_eq!(r.refused_burst, RateLimitConfig::default().refused_burst);
        let err = load("[rate_limit]\nrefused_per_minute = 0\n").unwrap_err();
        assert!(format!("{err:#}").contains("refused_per_minute"), "{err:#}");
    }
}
