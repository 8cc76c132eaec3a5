//! The judge alone, on facts as the storage would load them.

use super::*;
use passdesk_core::sync::wire::{LedgerEntryRecord, PassRecord, TemplateRecord};

const PUSHER: &str = "gate-b";

fn names() -> HashMap<String, String> {
    [
        ("gate-a".to_owned(), "Gate A".to_owned()),
        ("gate-b".to_owned(), "Gate B".to_owned()),
    ]
    .into_iter()
    .collect()
}

fn at(hh: i64, mm: i64) -> Timestamp {
    // 2026-12-01T00:00:00Z
    Timestamp::from_unix_ms(1_796_083_200_000 + (hh * 60 + mm) * 60_000)
}

fn side_of(node: &str, name: &str, ref_id: &str, at: Timestamp, offline: bool) -> ConflictSide {
    ConflictSide {
        node_id: node.into(),
        node_name: name.into(),
        ref_id: ref_id.into(),
        change_id: format!("change-{ref_id}"),
        at,
        offline,
        reader_name: Some("Gate 1".into()),
    }
}

fn scan_change(id: &str, pass: &str, direction: &str, mode: &str, limit: Option<u32>) -> Change {
    Change {
        id: format!("change-{id}"),
        node_id: PUSHER.into(),
        at: at(19, 44),
        body: ChangeBody::Scan(ScanRecordWire {
            scan_id: id.into(),
            at: at(19, 44),
            reader_id: "r1".into(),
            reader_name: Some("Gate 1".into()),
            medium: "qr".into(),
            direction: direction.into(),
            value: pass.into(),
            value_len: pass.len() as u64,
            pass_id: Some(pass.into()),
            verdict: "accept".into(),
            reason: None,
            detail: None,
            counted: true,
            duplicate_of: None,
            via_token: false,
            offline: true,
            entry_mode: Some(mode.into()),
            entry_limit: limit,
        }),
    }
}

fn op(id: &str, pass: &str, entries: &[(&str, i64, Option<&str>)], offline: bool) -> Change {
    Change {
        id: format!("change-{id}"),
        node_id: PUSHER.into(),
        at: at(10, 7),
        body: ChangeBody::Ledger(LedgerOperation {
            op_id: id.into(),
            pass_id: pass.into(),
            entries: entries
                .iter()
                .enumerate()
                .map(|(i, (kind, points, reward))| LedgerEntryRecord {
                    id: format!("{id}-{i}"),
                    kind: (*kind).into(),
                    points: *points,
                    stamps: 0,
                    reserved_points: 0,
                    reserved_stamps: 0,
                    amount_minor: None,
                    reward_id: reward.map(str::to_owned),
                    reverses: None,
                    reason: None,
                    at: at(10, 7),
                    expires_at: None,
                })
                .collect(),
            rewards: Vec::new(),
            offline,
            offline_redemptions_per_day: Some(1),
        }),
    }
}

fn judge_all(changes: Vec<Change>, facts: &mut Facts) -> Plan {
    let mut n = 0;
    judge(changes, PUSHER, &names(), facts, at(20, 0), || {
        n += 1;
        format!("conflict-{n}")
    })
}

#[test]
fn a_second_single_entry_from_another_gate_is_flagged_with_the_first_gates_words() {
    let first = side_of("gate-a", "Gate A", "s1", at(19, 42), true);
    let mut facts = Facts::default();
    facts.admissions.insert(
        "t1".into(),
        AdmissionFacts {
            entries: 1,
            last: Some((ENTRY.into(), first.clone())),
            first_foreign_entry: Some(first.clone()),
        },
    );
    let plan = judge_all(
        vec![scan_change("s2", "t1", "entry", "single", Some(1))],
        &mut facts,
    );
    assert_eq!(plan.log.len(), 2, "the scan, then its conflict");
    assert_eq!(plan.conflicts.len(), 1);
    let (index, c) = &plan.conflicts[0];
    assert_eq!(*index, 1);
    assert_eq!(c.kind, ConflictKind::DoubleAdmission);
    assert_eq!(c.first, first);
    assert_eq!(c.flagged.ref_id, "s2");
    assert_eq!(c.flagged.node_name, "Gate B");
    assert_eq!(c.message, "Admitted at Gate A at 19:42 UTC while offline");
    assert_eq!(plan.log[1].node_id, HUB_NODE_ID);
    assert_eq!(plan.log[1].id, c.id);
    assert_eq!(plan.admissions.len(), 1);
    assert_eq!(facts.admissions["t1"].entries, 2);
}

#[test]
fn a_gate_over_its_own_limit_is_no_conflict_and_a_push_judges_its_changes_in_order() {
    // Nothing held: the first entry is fine, the second of the same push is this gate's own
    // (it knew), so no conflict either.
    let mut facts = Facts::default();
    let plan = judge_all(
        vec![
            scan_change("s1", "t1", "entry", "single", Some(1)),
            scan_change("s2", "t1", "entry", "single", Some(1)),
        ],
        &mut facts,
    );
    assert!(plan.conflicts.is_empty());
    assert_eq!(plan.admissions.len(), 2);
    assert_eq!(plan.admissions[1].log_index, 1);
}

#[test]
fn entry_exit_counts_inside_twice_only_against_another_gate() {
    let theirs = side_of("gate-a", "Gate A", "s1", at(19, 42), false);
    let mut facts = Facts::default();
    facts.admissions.insert(
        "p".into(),
        AdmissionFacts {
            entries: 1,
            last: Some((ENTRY.into(), theirs.clone())),
            first_foreign_entry: Some(theirs),
        },
    );
    let plan = judge_all(
        vec![scan_change("s2", "p", "entry", "entry_exit", None)],
        &mut facts,
    );
    assert_eq!(plan.conflicts.len(), 1);
    assert_eq!(
        plan.conflicts[0].1.message,
        "Admitted at Gate A at 19:42 UTC"
    );
    // Out and in again at this gate: the last counted scan is its own now.
    let plan = judge_all(
        vec![
            scan_change("s3", "p", "exit", "entry_exit", None),
            scan_change("s4", "p", "entry", "entry_exit", None),
        ],
        &mut facts,
    );
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
}

#[test]
fn refused_and_uncounted_scans_are_not_admissions() {
    let mut refused = scan_change("s1", "t1", "entry", "single", Some(1));
    if let ChangeBody::Scan(s) = &mut refused.body {
        s.verdict = "reject".into();
        s.counted = false;
    }
    assert_eq!(needs(std::slice::from_ref(&refused)), Needs::default());
    let plan = judge_all(vec![refused], &mut Facts::default());
    assert!(plan.admissions.is_empty());
    assert_eq!(plan.log.len(), 1, "still in the log");
}

#[test]
fn a_reward_redeemed_by_another_operation_is_a_double_redemption() {
    let first = side_of("gate-a", "Till 2", "op1", at(10, 5), false);
    let mut facts = Facts::default();
    facts.rewards.insert("r1".into(), first.clone());
    let plan = judge_all(
        vec![op(
            "op2",
            "card",
            &[("reward_redeem", 0, Some("r1"))],
            false,
        )],
        &mut facts,
    );
    assert_eq!(plan.conflicts.len(), 1);
    let c = &plan.conflicts[0].1;
    assert_eq!(c.kind, ConflictKind::DoubleRedemption);
    assert_eq!(c.first, first);
    assert_eq!(c.message, "Reward redeemed at Till 2 at 10:05 UTC");
    // The operation that redeemed it, seen again, is not another redemption of it.
    facts.rewards.insert(
        "r2".into(),
        side_of("gate-b", "Gate B", "op3", at(10, 5), false),
    );
    let plan = judge_all(
        vec![op(
            "op3",
            "card",
            &[("reward_redeem", 0, Some("r2"))],
            false,
        )],
        &mut facts,
    );
    assert!(plan.conflicts.is_empty());
}

#[test]
fn offline_redemptions_over_the_cap_count_every_node_that_utc_day() {
    let first = side_of("gate-a", "Till 1", "op1", at(9, 0), true);
    let mut facts = Facts::default();
    let day = utc_day(at(10, 7));
    facts.offline_days.insert(
        ("card".into(), day),
        OfflineDay {
            count: 1,
            first: Some(first.clone()),
        },
    );
    assert_eq!(
        needs(&[op("op2", "card", &[("reward_redeem", 0, Some("r2"))], true)]).offline_days,
        [("card".to_owned(), day)].into_iter().collect()
    );
    let plan = judge_all(
        vec![op("op2", "card", &[("reward_redeem", 0, Some("r2"))], true)],
        &mut facts,
    );
    assert_eq!(plan.conflicts.len(), 1);
    let c = &plan.conflicts[0].1;
    assert_eq!(c.kind, ConflictKind::OfflineRedemptionCap);
    assert_eq!(
        c.message,
        "2 offline redemptions on 2026-12-01, over the cap of 1 a day; the first at Till 1 at \
         09:00 UTC while offline"
    );
    // Online redemptions are not counted.
    let plan = judge_all(
        vec![op(
            "op3",
            "card",
            &[("reward_redeem", 0, Some("r3"))],
            false,
        )],
        &mut facts,
    );
    assert!(plan.conflicts.is_empty());
}

#[test]
fn a_spend_below_zero_is_a_conflict_only_with_another_nodes_spend() {
    let theirs = side_of("gate-a", "Till 1", "op1", at(9, 0), true);
    let mut facts = Facts::default();
    facts.balances.insert(
        "card".into(),
        BalanceFacts {
            points: 20,
            last_foreign_spend: None,
        },
    );
    // Below zero with no other node's spend: nothing to merge against.
    let plan = judge_all(
        vec![op("op2", "card", &[("adjust", -30, None)], true)],
        &mut facts,
    );
    assert!(plan.conflicts.is_empty());
    assert_eq!(plan.balance_deltas["card"], -30);
    assert_eq!(plan.spends.len(), 1);
    facts.balances.get_mut("card").unwrap().last_foreign_spend = Some(theirs.clone());
    let plan = judge_all(
        vec![op("op3", "card", &[("adjust", -5, None)], true)],
        &mut facts,
    );
    assert_eq!(plan.conflicts.len(), 1);
    let c = &plan.conflicts[0].1;
    assert_eq!(c.kind, ConflictKind::NegativeBalance);
    assert_eq!(c.first, theirs);
    assert_eq!(
        c.message,
        "Balance -15 points after the merge; points also spent at Till 1 at 09:00 UTC while \
         offline"
    );
    // An earn leaves it where it is: no new conflict.
    let plan = judge_all(
        vec![op("op4", "card", &[("earn", 5, None)], false)],
        &mut facts,
    );
    assert!(plan.conflicts.is_empty());
}

#[test]
fn other_kinds_pass_through_untouched() {
    let pass = Change {
        id: "c1".into(),
        node_id: PUSHER.into(),
        at: at(9, 0),
        body: ChangeBody::Pass(PassRecord {
            id: "p1".into(),
            ext_id: None,
            status: "issued".into(),
            pass_type: "eventTicket".into(),
            device_type: None,
            template: TemplateRecord {
                id: "t".into(),
                name: "T".into(),
                pass_type: "eventTicket".into(),
                design: None,
            },
            event: None,
            barcode_type: None,
            barcode_value: None,
            barcode_display_text: false,
            nfc_value: None,
            group_tag: None,
            pass_content: Default::default(),
            latest_message: None,
            created_at: at(9, 0),
            updated_at: at(9, 0),
            added_at: None,
            removed_at: None,
            deactivated_at: None,
            expires_at: None,
            valid_from: None,
            valid_until: None,
        }),
    };
    assert_eq!(needs(std::slice::from_ref(&pass)), Needs::default());
    let plan = judge_all(vec![pass.clone()], &mut Facts::default());
    assert_eq!(plan.log, vec![pass]);
    assert!(plan.conflicts.is_empty() && plan.admissions.is_empty());
}
