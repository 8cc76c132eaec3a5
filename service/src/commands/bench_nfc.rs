//! `passdesk bench nfc`: taps through the whole host stack, the real `pcsc` crate and a real
//! pcscd, on a vpcd virtual reader (Debian `vsmartcard-vpcd`) answered by the simulated
//! iPhone (Apple VAS) and Android phone (Google Smart Tap) of `passdesk_hardware::nfc::sim`,
//! which this process plugs into vpcd itself.
//!
//! Each tap is what the reader thread of `passdesk serve` does when a phone arrives:
//! `SCardConnect`, the protocol's APDUs, the decryption, `SCardDisconnect`. "Host" time is
//! that tap's wall time minus the time the simulated phone spent computing its answers (a
//! real phone does that on its own CPU, and the radio time of a real reader is not ours
//! either); the time with the phone's share is shown beside it. Decryption alone is measured
//! apart, in microseconds.

use crate::context::Context;
use crate::output::print_json;
use anyhow::{bail, Context as _};
use p256::SecretKey;
use passdesk_hardware::nfc::sim::vpcd::{self, InsertedCard};
use passdesk_hardware::nfc::sim::{self, iphone, AndroidBehaviour, VirtualAndroid, VirtualIPhone};
use passdesk_hardware::nfc::smarttap::crypto::{self, SessionKeys};
use passdesk_hardware::nfc::smarttap::messages::{self, ServiceValue};
use passdesk_hardware::nfc::smarttap::{compress_point, ReaderNegotiation, SmartTapConfig};
use passdesk_hardware::nfc::{vas, TapConfig, VasConfig};
use passdesk_hardware::pcsc::Reader;
use passdesk_hardware::{Medium, NfcKind};
use rand_core::{OsRng, RngCore};
use serde_json::{json, Value};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Taps measured per protocol (after a few warm-up taps).
    #[arg(long, default_value_t = 500)]
    pub taps: u32,
    /// Decryptions measured per protocol.
    #[arg(long, default_value_t = 2000)]
    pub decrypts: u32,
    /// vpcd slot: 0 is "Virtual PCD 00 00", 1 is "Virtual PCD 00 01".
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub slot: u8,
}

const WARM_UP: u32 = 5;
const VAS_MESSAGE: &str = "PD-BENCH-VAS-0001";
const SMART_TAP_VALUE: &[u8] = b"PD-BENCH-SMARTTAP-0001";

/// One protocol's run: what the phone does and what the budget is.
struct Case {
    name: &'static str,
    what: &'static str,
    /// (APDUs allowed, host p99 ms allowed); `None`: shown for information.
    budget: Option<(std::ops::RangeInclusive<usize>, f64)>,
    kind: NfcKind,
    expect: Vec<u8>,
}

pub fn run(_ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (reader_name, port) = vpcd::slot(usize::from(args.slot))
        .context("passdesk bench nfc needs pcscd and the vpcd virtual reader")?;
    let reader = Reader::open(reader_name)?;
    // A card just taken away (by a test, another bench) takes pcscd one presence poll to see.
    if !reader.wait_for_absence(Duration::from_secs(2))? {
        bail!("a card stays on \"{reader_name}\" (another program is using vpcd?); try --slot 1");
    }
    let vas_key = sim::demo_vas_key();
    let collector = sim::demo_collector();
    let cfg = TapConfig {
        vas: Some(VasConfig::new(sim::DEMO_PASS_TYPE_ID, vas_key.clone())),
        smart_tap: Some(SmartTapConfig::new(collector.clone())),
        ndef: false,
        uid: false,
    };

    let (vas_public, collector_public) = (vas_key.public_key(), collector.verifying_key());
    let iphone = move || VirtualIPhone::new(sim::DEMO_PASS_TYPE_ID, vas_public, VAS_MESSAGE);
    let android = move |b: AndroidBehaviour, chunk: usize| {
        let mut a = VirtualAndroid::new(collector_public, sim::DEMO_COLLECTOR_ID, SMART_TAP_VALUE)
            .behaving(b);
        a.chunk = chunk;
        a
    };
    let cases: Vec<(Case, Box<dyn Fn() -> InsertedCard>)> = vec![
        (
            Case {
                name: "vas",
                what: "Apple VAS (iPhone)",
                budget: Some((2..=2, 5.0)),
                kind: NfcKind::Vas,
                expect: VAS_MESSAGE.as_bytes().to_vec(),
            },
            insert(port, iphone),
        ),
        (
            Case {
                name: "smart_tap",
                what: "Smart Tap (Android, skips 2nd SELECT)",
                budget: Some((3..=4, 10.0)),
                kind: NfcKind::SmartTap,
                expect: SMART_TAP_VALUE.to_vec(),
            },
            insert(port, move || android(AndroidBehaviour::Normal, 250)),
        ),
        (
            Case {
                name: "smart_tap_select",
                what: "Smart Tap (Android, 2nd SELECT)",
                budget: Some((3..=4, 10.0)),
                kind: NfcKind::SmartTap,
                expect: SMART_TAP_VALUE.to_vec(),
            },
            insert(port, move || android(AndroidBehaviour::NoSkipSelect, 250)),
        ),
        (
            Case {
                name: "smart_tap_get_more",
                what: "Smart Tap, bundle in 40-byte parts (GET MORE)",
                budget: None,
                kind: NfcKind::SmartTap,
                expect: SMART_TAP_VALUE.to_vec(),
            },
            insert(port, move || android(AndroidBehaviour::Normal, 40)),
        ),
    ];

    println!(
        "NFC taps through the pcsc crate, pcscd and vpcd (\"{reader_name}\"), {} taps per protocol",
        args.taps
    );
    println!(
        "host ms = connect + APDUs + decryption + disconnect, minus the simulated phone's own time"
    );
    println!(
        "{:<46} {:>5} {:>7} {:>7} {:>7} {:>7} {:>10}  budget",
        "protocol", "APDUs", "p50 ms", "p95 ms", "p99 ms", "max ms", "p50+phone"
    );
    let mut results = Vec::new();
    let mut all_ok = true;
    for (case, insert_card) in &cases {
        let r = measure(&reader, &cfg, case, insert_card, args.taps)?;
        all_ok &= r.within_budget != Some(false);
        results.push(r.json);
    }

    println!();
    println!("decryption alone, {} runs each", args.decrypts);
    println!(
        "{:<46} {:>7} {:>7} {:>7} {:>7}",
        "step", "p50 µs", "p95 µs", "p99 µs", "max µs"
    );
    let decrypt = vec![
        decrypt_row(
            "vas_decrypt",
            "VAS decrypt (ECDH, X9.63 KDF, AES-256-GCM)",
            vas_decrypt_samples(&vas_key, args.decrypts)?,
        ),
        decrypt_row(
            "smart_tap_decrypt",
            "Smart Tap decrypt (HMAC, AES-CTR, inflate, parse)",
            smart_tap_decrypt_samples(args.decrypts)?,
        ),
        decrypt_row(
            "smart_tap_session",
            "Smart Tap session keys (ECDSA sign, ECDH, HKDF)",
            smart_tap_session_samples(&collector, args.decrypts)?,
        ),
    ];
    println!(
        "{}",
        if all_ok {
            "every protocol within its budget"
        } else {
            "OVER BUDGET: see the budget column"
        }
    );
    print_json(&json!({
        "bench": "nfc",
        "reader": reader_name,
        "taps": args.taps,
        "withinBudget": all_ok,
        "results": results,
        "decryption": decrypt,
    }))?;
    Ok(ExitCode::SUCCESS)
}

/// A closure plugging a fresh phone into vpcd (each case starts with the phone arriving).
fn insert<C: sim::VirtualCard + Send + 'static>(
    port: u16,
    make: impl Fn() -> C + 'static,
) -> Box<dyn Fn() -> InsertedCard> {
    Box::new(move || {
        InsertedCard::insert(port, make()).unwrap_or_else(|e| {
            // vpcd was seen a moment ago; losing it now is not a result to print.
            eprintln!("error: cannot connect to vpcd on 127.0.0.1:{port}: {e}");
            std::process::exit(1)
        })
    })
}

struct CaseResult {
    json: Value,
    within_budget: Option<bool>,
}

fn measure(
    reader: &Reader,
    cfg: &TapConfig,
    case: &Case,
    insert_card: &dyn Fn() -> InsertedCard,
    taps: u32,
) -> anyhow::Result<CaseResult> {
    let card = insert_card();
    if !reader.wait_for_card(Duration::from_secs(5))? {
        bail!("pcscd did not see the simulated phone on the vpcd reader within 5 s");
    }
    let mut host = Vec::with_capacity(taps as usize);
    let mut total = Vec::with_capacity(taps as usize);
    let (mut min_apdus, mut max_apdus) = (usize::MAX, 0);
    for i in 0..WARM_UP + taps {
        let phone_before = card.card_time();
        let started = Instant::now();
        let outcome = reader.tap(cfg);
        let elapsed = started.elapsed();
        let phone = card.card_time().saturating_sub(phone_before);
        match outcome.result {
            Ok(scan) if scan.medium == Medium::Nfc(case.kind) && scan.value == case.expect => {}
            Ok(scan) => bail!(
                "{}: tap {i} read {:?} {:?}, not the simulated pass",
                case.name,
                scan.medium,
                String::from_utf8_lossy(&scan.value)
            ),
            Err(e) => bail!("{}: tap {i} failed: {e}", case.name),
        }
        if i < WARM_UP {
            continue;
        }
        min_apdus = min_apdus.min(outcome.apdus);
        max_apdus = max_apdus.max(outcome.apdus);
        host.push(elapsed.saturating_sub(phone));
        total.push(elapsed);
    }
    drop(card);
    // Let pcscd see the phone go before the next one comes.
    reader.wait_for_absence(Duration::from_secs(5))?;

    let h = Percentiles::of(&mut host);
    let t = Percentiles::of(&mut total);
    let apdus = if min_apdus == max_apdus {
        min_apdus.to_string()
    } else {
        format!("{min_apdus}–{max_apdus}")
    };
    let within_budget = case.budget.as_ref().map(|(range, max_ms)| {
        range.contains(&min_apdus) && range.contains(&max_apdus) && ms(h.p99) < *max_ms
    });
    let budget = match (&case.budget, within_budget) {
        (Some((range, ms)), Some(ok)) => format!(
            "{} APDUs, < {ms} ms: {}",
            if range.start() == range.end() {
                range.start().to_string()
            } else {
                format!("{}–{}", range.start(), range.end())
            },
            if ok { "ok" } else { "OVER" }
        ),
        _ => "(information)".into(),
    };
    println!(
        "{:<46} {:>5} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>10.3}  {budget}",
        case.what,
        apdus,
        ms(h.p50),
        ms(h.p95),
        ms(h.p99),
        ms(h.max),
        ms(t.p50)
    );
    Ok(CaseResult {
        json: json!({
            "protocol": case.name,
            "taps": taps,
            "apdusMin": min_apdus,
            "apdusMax": max_apdus,
            "hostMs": h.json_ms(),
            "withPhoneMs": t.json_ms(),
            "withinBudget": within_budget,
        }),
        within_budget,
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

struct Percentiles {
    p50: Duration,
    p95: Duration,
    p99: Duration,
    max: Duration,
}

impl Percentiles {
    fn of(samples: &mut [Duration]) -> Self {
        samples.sort_unstable();
        let n = samples.len();
        let at = |q: f64| {
            if n == 0 {
                Duration::ZERO
            } else {
                samples[((n as f64 * q).ceil() as usize).clamp(1, n) - 1]
            }
        };
        Self {
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: samples.last().copied().unwrap_or_default(),
        }
    }

    fn json_ms(&self) -> Value {
        json!({ "p50": ms(self.p50), "p95": ms(self.p95), "p99": ms(self.p99), "max": ms(self.max) })
    }
}

fn decrypt_row(name: &'static str, what: &str, mut samples: Vec<Duration>) -> Value {
    let p = Percentiles::of(&mut samples);
    println!(
        "{:<46} {:>7.1} {:>7.1} {:>7.1} {:>7.1}",
        what,
        us(p.p50),
        us(p.p95),
        us(p.p99),
        us(p.max)
    );
    json!({ "step": name, "runs": samples.len(), "p50Us": us(p.p50), "p95Us": us(p.p95),
            "p99Us": us(p.p99), "maxUs": us(p.max) })
}

/// `vas::decrypt` on cryptograms a simulated iPhone sealed beforehand (one per run, each with
/// its own ephemeral key, as on real taps).
fn vas_decrypt_samples(
    key: &passdesk_hardware::nfc::VasReaderKey,
    runs: u32,
) -> anyhow::Result<Vec<Duration>> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)?
        .as_secs()
        .saturating_sub(vas::APPLE_EPOCH_UNIX) as u32;
    let keys = [key.clone()];
    let cryptograms: Vec<Vec<u8>> = (0..runs)
        .map(|_| iphone::seal(&key.public_key(), sim::DEMO_PASS_TYPE_ID, now, VAS_MESSAGE))
        .collect();
    let mut out = Vec::with_capacity(cryptograms.len());
    for c in &cryptograms {
        let started = Instant::now();
        let payload = vas::decrypt(c, sim::DEMO_PASS_TYPE_ID, &keys)?;
        out.push(started.elapsed());
        anyhow::ensure!(
            payload.message == VAS_MESSAGE,
            "VAS decrypt gave another message"
        );
    }
    Ok(out)
}

/// What the reader does with a Smart Tap record bundle once the session keys exist: HMAC
/// check, AES-CTR, zlib inflate, pass records.
fn smart_tap_decrypt_samples(runs: u32) -> anyhow::Result<Vec<Duration>> {
    let mut z = [0u8; 32];
    OsRng.fill_bytes(&mut z);
    let device = compress_point(&SecretKey::random(&mut OsRng).public_key());
    let keys = SessionKeys::derive(&z, &device, b"passdesk bench");
    let plain = crypto::deflate(&messages::encode_services(&[ServiceValue {
        object_type: "ly".into(),
        redemption_value: SMART_TAP_VALUE.to_vec(),
    }]));
    let bodies: Vec<Vec<u8>> = (0..runs)
        .map(|_| {
            let mut iv = [0u8; crypto::IV_LEN];
            OsRng.fill_bytes(&mut iv);
            keys.seal(&iv, &plain)
        })
        .collect();
    let mut out = Vec::with_capacity(bodies.len());
    for body in &bodies {
        let started = Instant::now();
        let values = messages::parse_services(&crypto::inflate(&keys.open(body)?)?)?;
        out.push(started.elapsed());
        anyhow::ensure!(
            values.first().map(|v| v.redemption_value.as_slice()) == Some(SMART_TAP_VALUE),
            "Smart Tap decrypt gave another value"
        );
    }
    Ok(out)
}

/// The reader's public-key work per Smart Tap tap, exactly as `smarttap::read` does it: a
/// fresh session and ephemeral key, the signature over the negotiation, then ECDH with the
/// phone's key and HKDF.
fn smart_tap_session_samples(
    collector: &passdesk_hardware::nfc::CollectorKey,
    runs: u32,
) -> anyhow::Result<Vec<Duration>> {
    let device = compress_point(&SecretKey::random(&mut OsRng).public_key());
    let mut device_nonce = [0u8; 32];
    OsRng.fill_bytes(&mut device_nonce);
    let mut out = Vec::with_capacity(runs as usize);
    for _ in 0..runs {
        let started = Instant::now();
        let negotiation = ReaderNegotiation::start(collector, &device_nonce);
        let keys = negotiation.session_keys(&device)?;
        out.push(started.elapsed());
        std::hint::black_box(keys);
    }
    Ok(out)
}
