//! `passdesk bench wallet`: Apple Wallet `.pkpass` files built per second on one core, signing
//! included, as the counter builds one for a customer's phone.
//!
//! The signer is made afresh for the run (`PassSigner::self_issued`: a made-up WWDR and an
//! RSA-2048 Pass Type ID certificate, the size Apple issues), so the bench needs none of
//! Apple's certificates. Each build is a store card with a holder, a balance, stamps, a reward,
//! a QR, an NFC value for a VAS reader key and a web service token: `pass.json`, the built-in
//! icons, `manifest.json`, the detached CMS signature and the zip. The parts are timed apart
//! too: `pass.json` with the manifest alone, and the signature alone (the RSA private-key
//! operation is most of a build).
//!
//! Then the same store cards as "Add to Google Wallet" links: the loyalty class and object,
//! the `savetowallet` JWT signed RS256 by a made-up 2048-bit service account (the size Google
//! issues), and the link; their length is reported against Google's 2000 characters.

use super::bench::{print_table, Samples};
use crate::context::Context;
use crate::output::print_json;
use anyhow::ensure;
use passdesk_core::loyalty::{LoyaltyView, Reward, RewardStatus, RewardUnit};
use passdesk_core::pass::{Barcode, Pass, PassType, Template};
use passdesk_core::wallet::apple::{
    build_pkpass, manifest_json, pass_json, AppleIdentity, PassImages, PassInputs, PassSigner,
    WebService,
};
use passdesk_core::wallet::google::{
    save_jwt, save_url, GoogleInputs, GoogleIssuer, GooglePass, ServiceAccountKey,
    SAVE_URL_SOFT_LIMIT,
};
use passdesk_core::wallet::{PassDesign, PassFacts};
use passdesk_core::Timestamp;
use serde_json::json;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// `.pkpass` files built (each also timed in parts).
    #[arg(long, default_value_t = 300)]
    pub builds: u32,
}

const PASS_TYPE_ID: &str = "pass.com.example.passdesk-bench";

pub fn run(_ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    ensure!(args.builds >= 1, "--builds must be at least 1");
    let started = Instant::now();
    let signer = PassSigner::self_issued(PASS_TYPE_ID, "BENCH00001", Timestamp::now())?;
    let signer_seconds = started.elapsed().as_secs_f64();
    let identity = AppleIdentity {
        pass_type_id: PASS_TYPE_ID.into(),
        team_id: "BENCH00001".into(),
        organization_name: "Passdesk Bench".into(),
    };
    let template = Template {
        id: "bench-card".into(),
        name: "Bench loyalty card".into(),
        pass_type: PassType::new(PassType::STORE_CARD),
    };
    let design = PassDesign::default();
    // A VAS reader key (its public half goes into every pass).
    let reader_key = p256::SecretKey::random(&mut rand_core::OsRng).public_key();
    let images = PassImages::new();
    let now = Timestamp::now();
    let loyalty = LoyaltyView {
        balance: 1250,
        reserved_points: 0,
        stamps: 7,
        card_size: Some(10),
        stamps_on_card: Some(7),
        rewards: vec![Reward {
            id: "bench-reward".into(),
            pass_id: String::new(),
            tier_name: "Free coffee".into(),
            unit: RewardUnit::Stamps,
            cost: 10,
            status: RewardStatus::Available,
            created_at: now,
            closed_at: None,
        }],
        claimable: vec![],
    };

    let google_key = ServiceAccountKey::generate(
        "bench@passdesk-bench.iam.gserviceaccount.com",
        "0123456789abcdef0123456789abcdef01234567",
    )?;
    let google_issuer = GoogleIssuer {
        issuer_id: "3388000000012345678".parse()?,
        issuer_name: Some("Passdesk Bench".into()),
        logo_url: Some("https://counter.example/logo.png".into()),
    };
    let origins = vec!["https://counter.example".to_owned()];

    let mut full = Samples::new("pkpass");
    let mut json_part = Samples::new("pass_json_manifest");
    let mut sign_part = Samples::new("signature");
    let mut google_link = Samples::new("google_link");
    let mut bytes = 0usize;
    let mut url_chars = 0usize;
    let mut longest_url = 0usize;
    let run_started = Instant::now();
    for i in 0..args.builds {
        let id = format!("bench-pass-{i:06}");
        let mut content = serde_json::Map::new();
        content.insert("fullName".into(), format!("Bench Holder {i}").into());
        let pass = Pass {
            barcode: Some(Barcode {
                kind: "qrCode".into(),
                value: format!("PD-BENCH-{i:06}"),
                display_text: true,
            }),
            nfc: Some(id.clone()),
            pass_content: content,
            ..Pass::new(&id, &template.id, template.pass_type.clone(), now)
        };
        let token = format!("bench-token-{i:016}");
        let facts = PassFacts {
            loyalty: Some(&loyalty),
            ..PassFacts::new(&pass, &template, &design)
        };
        let inputs = PassInputs {
            nfc_key: Some(&reader_key),
            web_service: Some(WebService {
                url: "https://counter.example/wallet/apple",
                authentication_token: &token,
            }),
            ..PassInputs::new(&identity, facts)
        };
        let pkpass =
            full.time(|| Ok(build_pkpass(&inputs, &images, &signer, Timestamp::now())?))?;
        bytes += pkpass.len();
        let manifest = json_part.time(|| {
            let pass_bytes = pass_json(&inputs)?.to_bytes();
            Ok(manifest_json([("pass.json", pass_bytes.as_slice())]))
        })?;
        sign_part.time(|| Ok(signer.sign_manifest(&manifest, Timestamp::now())?))?;
        let url = google_link.time(|| {
            let now = Timestamp::now();
            let google = GooglePass::build(&GoogleInputs {
                issuer: &google_issuer,
                facts,
                now,
            });
            Ok(save_url(&save_jwt(&google_key, &google, &origins, now)?))
        })?;
        url_chars += url.len();
        longest_url = longest_url.max(url.len());
    }
    let seconds = run_started.elapsed().as_secs_f64();
    let builds = f64::from(args.builds);
    let p50_ms = {
        let s = full.summary();
        s["p50Ms"].as_f64().unwrap_or(0.0)
    };
    let per_second = if p50_ms > 0.0 { 1000.0 / p50_ms } else { 0.0 };
    let google_p50_ms = google_link.summary()["p50Ms"].as_f64().unwrap_or(0.0);
    let google_per_second = if google_p50_ms > 0.0 {
        1000.0 / google_p50_ms
    } else {
        0.0
    };

    println!(
        "wallet: Apple .pkpass, store card, RSA-2048 signature, {} builds on one thread",
        args.builds
    );
    println!("signer made (RSA-2048 key generation) {signer_seconds:.2} s");
    let results = print_table(&mut [full, json_part, sign_part, google_link]);
    println!(
        "{per_second:.0} .pkpass/s at the median build; {:.1} KiB each",
        bytes as f64 / builds / 1024.0
    );
    println!(
        "{google_per_second:.0} Google Wallet links/s at the median build; {:.0} characters \
         each, the longest {longest_url} (Google advises under {SAVE_URL_SOFT_LIMIT})",
        url_chars as f64 / builds
    );
    print_json(&json!({
        "bench": "wallet",
        "builds": args.builds,
        "signerSeconds": signer_seconds,
        "seconds": seconds,
        "pkpassPerSecond": per_second,
        "meanBytes": bytes as f64 / builds,
        "googleLinksPerSecond": google_per_second,
        "googleMeanUrlChars": url_chars as f64 / builds,
        "googleLongestUrlChars": longest_url,
        "results": results,
    }))?;
    Ok(ExitCode::SUCCESS)
}
