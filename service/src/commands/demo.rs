//! `passdesk demo`: a believable counter. The Harbour Lights Festival (tickets, weekend passes
//! with in and out, two gates and an exit), a jazz night next week, and the Bean There coffee
//! shop's loyalty cards. Some passes are voided, some expired, some removed from the wallet.
//!
//! Deterministic: the same barcode values every time (`HLF-0001`, `HLW-001`, `JAZZ-001`,
//! `BEAN-0001`), so a scripted session and the docs can name them. Written through the same
//! import path as `passdesk import`, then the policies are set.

use crate::context::Context;
use crate::output::print_json;
use passdesk_core::catalog;
use passdesk_core::import::import_lines;
use passdesk_core::loyalty::{
    self, LoyaltyError, Operation, Program, RewardUnit, StampOverflow, Tier,
};
use passdesk_core::policy::{CheckinPolicy, EntryMode, PolicyScope, DEFAULT_DUPLICATE_WINDOW_MS};
use passdesk_core::{Store, Timestamp};
use serde_json::{json, Value};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {}

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

pub const FESTIVAL: &str = "ev-harbour-lights";
pub const JAZZ: &str = "ev-jazz-night";

const FIRST: [&str; 24] = [
    "Amara", "Ben", "Chloé", "Dmitri", "Elif", "Farah", "Gus", "Hana", "Ivo", "Jun", "Kofi",
    "Lena", "Mateo", "Nia", "Oskar", "Priya", "Quinn", "Rosa", "Sami", "Tove", "Uma", "Viktor",
    "Wen", "Yusuf",
];
const LAST: [&str; 20] = [
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Petrov",
    "Yilmaz",
    "Haddad",
    "Novak",
    "Sato",
    "Kovač",
    "Park",
    "Mensah",
    "Becker",
    "García",
    "Adeyemi",
    "Nilsson",
    "Rao",
    "Byrne",
    "Silva",
    "Khan",
    "Fischer",
];

fn name(i: usize) -> String {
    format!(
        "{} {}",
        FIRST[(i * 7) % FIRST.len()],
        LAST[(i * 11 + i / 3) % LAST.len()]
    )
}

/// A PassEntry-looking id (40 hex characters), stable for a given label.
fn pass_id(label: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(format!("passdesk-demo/{label}"))[..20])
}

pub fn run(ctx: &Context, _args: Args) -> anyhow::Result<ExitCode> {
    print_json(&load(ctx)?)?;
    Ok(ExitCode::SUCCESS)
}

/// Loads (or reloads) the demo into the data directory; returns what it did.
pub fn load(ctx: &Context) -> anyhow::Result<Value> {
    let (mut store, node, _) = ctx.init_store()?;
    let now = Timestamp::now();
    let lines = demo_lines(now);
    let summary = import_lines(
        &mut store,
        lines.iter().map(|l| Ok::<_, String>(l.to_string())),
        now,
    )?;
    let jazz_start = now.plus_ms(7 * DAY);
    let policies = [
        policy(
            PolicyScope::Template("tpl-hlf-ticket".into()),
            EntryMode::Single,
            None,
        ),
        policy(
            PolicyScope::Template("tpl-hlf-weekend".into()),
            EntryMode::EntryExit,
            None,
        ),
        policy(
            PolicyScope::Event(JAZZ.into()),
            EntryMode::Single,
            Some(jazz_start.minus_ms(2 * HOUR)),
        ),
    ];
    for p in &policies {
        catalog::set_policy(store.conn(), p, now)?;
    }
    let history = coffee_shop(&mut store, &node.node_id, now)?;
    Ok(json!({
        "dataDir": ctx.data_dir(),
        "imported": summary,
        "policies": policies.len(),
        "loyaltyOperations": history,
        "try": {
            "festivalTicket": "HLF-0001 at gate-a (then again at gate-b: already used)",
            "voidedTicket": "HLF-0040",
            "typedOrderNumber": "HLF-ORDER-1003 at gate-a (refused: a typed number is not a ticket)",
            "weekendPass": "HLW-001 (entry at gate-a, exit at exit-1, entry again)",
            "jazzTicket": "JAZZ-001 (wrong event at gate-a; doors not open yet at jazz-door)",
            "coffeeCard": "BEAN-0001 at till-1 (any number of times)",
            "expiredCoffeeCard": "BEAN-0025",
            "loyalty": "passdesk loyalty earn BEAN-0001 --amount 450; passdesk loyalty reward redeem BEAN-0005 --tier 'Free coffee'",
        }
    }))
}

/// The Bean There program (1 point per pound, a 10-stamp card, two rewards, points expire after
/// a year, at most 2 redemptions per card per day while offline) and some history on the cards.
/// Operation ids are derived from the card and step, so running the demo again replays them.
fn coffee_shop(store: &mut Store, node_id: &str, now: Timestamp) -> anyhow::Result<usize> {
    let program = Program {
        template_id: "tpl-bean-there".into(),
        points_per_unit: 1,
        unit_minor: 100,
        card_size: Some(10),
        stamp_overflow: StampOverflow::Carry,
        expiry_days: Some(365),
        offline_redemptions_per_day: Some(2),
        tiers: vec![
            Tier {
                name: "Free coffee".into(),
                threshold: 10,
                unit: RewardUnit::Stamps,
            },
            Tier {
                name: "£5 off".into(),
                threshold: 50,
                unit: RewardUnit::Points,
            },
        ],
    };
    store.write(|tx| loyalty::program::set_program(tx, &program, now))?;
    let mut applied = 0;
    for i in 1..=150usize {
        let pass = format!("BEAN-{i:04}");
        let ops = [
            Operation::Earn {
                pass: pass.clone(),
                amount_minor: Some((i as i64 * 377) % 4_000 + 350),
                points: None,
            },
            Operation::Stamp {
                pass: pass.clone(),
                count: (i as i64 % 9) + 1,
            },
            Operation::Earn {
                pass: pass.clone(),
                amount_minor: Some(if i % 5 == 0 { 4_800 } else { 600 }),
                points: None,
            },
        ];
        for (step, op) in ops.iter().enumerate() {
            match loyalty::apply(store, node_id, &demo_op_id(&pass, step), op, now) {
                Ok(_) => applied += 1,
                Err(LoyaltyError::PassNotUsable { .. }) => {} // voided and expired cards earn nothing
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(applied)
}

fn demo_op_id(pass: &str, step: usize) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("passdesk-demo-op/{pass}/{step}"));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Uuid::from_bytes(bytes).to_string()
}

fn policy(scope: PolicyScope, mode: EntryMode, valid_from: Option<Timestamp>) -> CheckinPolicy {
    CheckinPolicy {
        scope,
        entry_mode: mode,
        max_entries: None,
        duplicate_window_ms: DEFAULT_DUPLICATE_WINDOW_MS,
        valid_from,
        valid_until: None,
        allowed_readers: None,
    }
}

/// The demo as PassEntry-shaped JSON lines.
pub fn demo_lines(now: Timestamp) -> Vec<Value> {
    let t = |ms: Timestamp| ms.to_rfc3339();
    let fest_start = now.minus_ms(HOUR);
    let fest_end = now.plus_ms(5 * HOUR);
    let jazz_start = now.plus_ms(7 * DAY);
    let mut lines = vec![
        json!({"id": "tpl-hlf-ticket", "type": "passTemplate", "attributes": {"name": "Harbour Lights Ticket", "templateType": "eventTicket"}}),
        json!({"id": "tpl-hlf-weekend", "type": "passTemplate", "attributes": {"name": "Harbour Lights Weekend Pass", "templateType": "eventTicket"}}),
        json!({"id": "tpl-jazz", "type": "passTemplate", "attributes": {"name": "Late Jazz Night Ticket", "templateType": "eventTicket"}}),
        json!({"id": "tpl-bean-there", "type": "passTemplate", "attributes": {"name": "Bean There Coffee Card", "templateType": "storeCard"}}),
        json!({"id": FESTIVAL, "type": "event", "attributes": {"name": "Harbour Lights Festival", "venueName": "Pier 4 Amphitheatre", "startTime": t(fest_start), "endTime": t(fest_end), "timeZone": "UTC"}}),
        json!({"id": JAZZ, "type": "event", "attributes": {"name": "Late Jazz Night", "venueName": "The Cellar", "startTime": t(jazz_start), "endTime": t(jazz_start.plus_ms(4 * HOUR)), "timeZone": "UTC"}}),
        json!({"id": "gate-a", "type": "reader", "attributes": {"name": "Gate A", "readerType": "PassdeskCounter", "eventUuid": FESTIVAL}}),
        json!({"id": "gate-b", "type": "reader", "attributes": {"name": "Gate B", "readerType": "PassdeskCounter", "eventUuid": FESTIVAL}}),
        json!({"id": "exit-1", "type": "reader", "attributes": {"name": "Exit 1", "readerType": "PassdeskCounter", "eventUuid": FESTIVAL, "direction": "exit"}}),
        json!({"id": "jazz-door", "type": "reader", "attributes": {"name": "Cellar Door", "readerType": "PassdeskCounter", "eventUuid": JAZZ}}),
        // The till adds points and redeems in the same request as its scan; new readers only scan.
        json!({"id": "till-1", "type": "reader", "attributes": {"name": "Till 1", "readerType": "PassdeskCounter", "redeemEnabled": true, "addPointsEnabled": true}}),
    ];
    let pass = |label: String,
                barcode: String,
                template: &str,
                kind: &str,
                event: Option<&str>,
                i: usize,
                extra: Value| {
        let id = pass_id(&label);
        let mut attributes = json!({
            "passType": kind,
            "status": "issued",
            "extId": label,
            "passTemplateUuid": template,
            "eventUuid": event,
            "nfc": id,
            "barcode": {"type": "qrCode", "value": barcode, "displayText": true},
            "passContent": {"fullName": name(i)},
            "createdAt": t(now.minus_ms(DAY * (1 + (i as i64 % 30)))),
        });
        if let (Value::Object(a), Value::Object(e)) = (&mut attributes, extra) {
            a.extend(e);
        }
        json!({"id": id, "type": "pass", "attributes": attributes})
    };
    let voided = |i: usize| json!({"status": "voided", "deactivatedAt": t(now.minus_ms(HOUR * (i as i64 % 48 + 1)))});
    for i in 1..=240 {
        let extra = if i % 40 == 0 {
            voided(i)
        } else {
            json!({"expiresAt": t(fest_end.plus_ms(HOUR))})
        };
        lines.push(pass(
            format!("HLF-ORDER-{}", 1000 + i),
            format!("HLF-{i:04}"),
            "tpl-hlf-ticket",
            "eventTicket",
            Some(FESTIVAL),
            i,
            extra,
        ));
    }
    for i in 1..=30 {
        let extra = if i == 30 {
            voided(i)
        } else {
            json!({"expiresAt": t(fest_end.plus_ms(2 * DAY))})
        };
        lines.push(pass(
            format!("HLW-ORDER-{}", 500 + i),
            format!("HLW-{i:03}"),
            "tpl-hlf-weekend",
            "eventTicket",
            Some(FESTIVAL),
            i + 300,
            extra,
        ));
    }
    for i in 1..=40 {
        lines.push(pass(
            format!("JAZZ-ORDER-{}", 700 + i),
            format!("JAZZ-{i:03}"),
            "tpl-jazz",
            "eventTicket",
            Some(JAZZ),
            i + 400,
            json!({}),
        ));
    }
    for i in 1..=150 {
        let extra = match i {
            _ if i % 25 == 0 => json!({"expiresAt": t(now.minus_ms(DAY * (i as i64 / 25)))}),
            _ if i % 33 == 0 => json!({"status": "removed", "removedAt": t(now.minus_ms(3 * DAY))}),
            _ if i % 49 == 0 => voided(i),
            _ => {
                json!({"status": "active", "deviceType": if i % 2 == 0 { "apple" } else { "android" }})
            }
        };
        lines.push(pass(
            format!("CUST-{}", 9000 + i),
            format!("BEAN-{i:04}"),
            "tpl-bean-there",
            "storeCard",
            None,
            i + 600,
            extra,
        ));
    }
    lines
}
