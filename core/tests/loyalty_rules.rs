//! The loyalty ledger's promises, each on a real SQLite store: exact, idempotent, never twice.

mod common;

use common::{add_template, qr_pass, scan_input, TestStore, DAY, T0};
use passdesk_core::local_day::TimeZone;
use passdesk_core::loyalty::{
    self, ledger, program, Account, EntryKind, LoyaltyError, Operation, Program, RewardRef,
    RewardUnit, StampOverflow, Tier,
};
use passdesk_core::pass::{Pass, PassStatus, PassType};
use passdesk_core::scan::Medium;
use passdesk_core::{checkin, pass_store, OpenMode, Store, Timestamp};
use std::path::PathBuf;

struct Till {
    store: Store,
    node_id: String,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

fn program() -> Program {
    Program {
        template_id: "coffee".into(),
        points_per_unit: 1,
        unit_minor: 100,
        card_size: Some(10),
        stamp_overflow: StampOverflow::Refuse,
        expiry_days: Some(10),
        offline_redemptions_per_day: None,
        tiers: vec![
            Tier {
                name: "£5 off".into(),
                threshold: 50,
                unit: RewardUnit::Points,
            },
            Tier {
                name: "Free coffee".into(),
                threshold: 10,
                unit: RewardUnit::Stamps,
            },
        ],
    }
}

impl Till {
    fn new() -> Self {
        Self::with(program())
    }

    fn with(p: Program) -> Self {
        let TestStore {
            store,
            node,
            path,
            dir,
        } = TestStore::new();
        add_template(store.conn(), "coffee", "Coffee Card", PassType::STORE_CARD);
        program::set_program(store.conn(), &p, Timestamp::from_unix_ms(T0)).unwrap();
        let till = Self {
            store,
            node_id: node.node_id,
            path,
            _dir: dir,
        };
        till.add_pass("card", |_| {});
        till
    }

    fn add_pass(&self, id: &str, edit: impl FnOnce(&mut Pass)) {
        let at = Timestamp::from_unix_ms(T0);
        let mut p = qr_pass(id, "coffee", PassType::STORE_CARD, format!("BC-{id}"), at);
        edit(&mut p);
        pass_store::upsert_pass(self.store.conn(), &p).unwrap();
    }

    fn apply_at(&mut self, day: i64, op: Operation) -> Result<loyalty::OpResult, LoyaltyError> {
        let op_id = uuid::Uuid::now_v7().to_string();
        self.apply_id(&op_id, day, op)
    }

    fn apply_id(
        &mut self,
        op_id: &str,
        day: i64,
        op: Operation,
    ) -> Result<loyalty::OpResult, LoyaltyError> {
        let at = Timestamp::from_unix_ms(T0 + day * DAY);
        self.apply_as(op_id, at, TimeZone::UTC, &op)
    }

    /// `loyalty::apply` on this till's store, at `at` in `zone`.
    fn apply_as(
        &mut self,
        op_id: &str,
        at: Timestamp,
        zone: TimeZone,
        op: &Operation,
    ) -> Result<loyalty::OpResult, LoyaltyError> {
        loyalty::apply(&mut self.store, &self.node_id, op_id, op, at, zone)
    }

    fn apply(&mut self, op: Operation) -> Result<loyalty::OpResult, LoyaltyError> {
        self.apply_at(0, op)
    }

    fn account(&self) -> Account {
        ledger::account(self.store.conn(), "card").unwrap()
    }

    /// Ledger, accounts, lots, rewards, operations and outbox row counts plus the account.
    fn state(&self) -> (Vec<i64>, Account) {
        let counts = [
            "loyalty_ledger",
            "loyalty_accounts",
            "loyalty_lots",
            "loyalty_rewards",
            "loyalty_operations",
            "outbox",
        ]
        .iter()
        .map(|t| {
            self.store
                .conn()
                .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                .unwrap()
        })
        .collect();
        (counts, self.account())
    }

    /// The pass's lots, oldest first: (points left, the day they expire).
    fn lots(&self) -> Vec<(i64, Option<i64>)> {
        let mut stmt = self
            .store
            .conn()
            .prepare("SELECT remaining, expires_at FROM loyalty_lots WHERE pass_id = 'card' ORDER BY seq")
            .unwrap();
        stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<i64>>(1)?.map(|t| (t - T0) / DAY),
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    /// `passdesk loyalty verify`: every cached balance is the fold of its ledger.
    fn assert_folds(&self) {
        let (_, drift) = ledger::verify(self.store.conn()).unwrap();
        assert!(drift.is_empty(), "{drift:?}");
    }

    fn create_reward(&mut self, day: i64, tier: &str) -> String {
        self.apply_at(
            day,
            Operation::RewardCreate {
                pass: "card".into(),
                tier: tier.into(),
            },
        )
        .unwrap()
        .reward
        .unwrap()
        .id
    }

    fn delete_reward(&mut self, day: i64, id: &str) -> loyalty::OpResult {
        self.apply_at(
            day,
            Operation::RewardDelete {
                reward_id: id.into(),
                pass: None,
            },
        )
        .unwrap()
    }

    fn assert_refused(&mut self, op: Operation, code: &str) -> LoyaltyError {
        let before = self.state();
        let err = self.apply(op).unwrap_err();
        assert_eq!(err.code(), code, "{err}");
        assert_eq!(
            self.state(),
            before,
            "a refused operation changed something: {err}"
        );
        err
    }
}

fn earn(points: i64) -> Operation {
    Operation::Earn {
        pass: "card".into(),
        amount_minor: None,
        points: Some(points),
    }
}

fn earn_amount(amount: i64) -> Operation {
    Operation::Earn {
        pass: "card".into(),
        amount_minor: Some(amount),
        points: None,
    }
}

fn adjust(points: i64) -> Operation {
    Operation::Adjust {
        pass: "card".into(),
        points,
        reason: "manager correction".into(),
    }
}

fn stamp(count: i64) -> Operation {
    Operation::Stamp {
        pass: "card".into(),
        count,
    }
}

fn redeem_tier(tier: &str) -> Operation {
    Operation::RewardRedeem {
        reward: RewardRef::Tier {
            pass: "card".into(),
            tier: tier.into(),
        },
    }
}

#[test]
fn earn_by_amount_rounds_down_and_by_barcode_finds_the_pass() {
    let mut t = Till::new();
    let r = t
        .apply(Operation::Earn {
            pass: "BC-card".into(),
            amount_minor: Some(5_299),
            points: None,
        })
        .unwrap();
    assert_eq!(r.pass_id, "card");
    assert_eq!(
        (r.entries[0].points, r.entries[0].amount_minor),
        (52, Some(5_299))
    );
    assert_eq!(t.account().points, 52);
}

#[test]
fn bad_amounts_are_refused_and_change_nothing() {
    let mut t = Till::new();
    t.apply(earn(10)).unwrap();
    t.assert_refused(earn_amount(-100), "invalid_amount");
    t.assert_refused(earn(0), "invalid_amount");
    t.assert_refused(earn(-5), "invalid_amount");
    t.assert_refused(
        Operation::Earn {
            pass: "card".into(),
            amount_minor: Some(1),
            points: Some(1),
        },
        "invalid_amount",
    );
    t.assert_refused(stamp(0), "invalid_amount");
    t.assert_refused(adjust(0), "invalid_amount");
    t.assert_refused(
        Operation::Adjust {
            pass: "card".into(),
            points: 5,
            reason: "  ".into(),
        },
        "invalid_amount",
    );
    t.assert_refused(
        Operation::Override {
            pass: "card".into(),
            balance: -1,
        },
        "invalid_amount",
    );
    t.assert_refused(
        Operation::Earn {
            pass: "nobody".into(),
            amount_minor: None,
            points: Some(1),
        },
        "unknown_pass",
    );
    t.assert_refused(redeem_tier("Free car"), "unknown_tier");
    t.assert_refused(
        Operation::RewardRedeem {
            reward: RewardRef::Id("no-such-reward".into()),
        },
        "unknown_reward",
    );
    t.assert_refused(
        Operation::Reverse {
            entry_id: "no-such-entry".into(),
            reason: None,
        },
        "unknown_entry",
    );
    let err = t.apply_id("not-a-uuid", 0, earn(1)).unwrap_err();
    assert_eq!(err.code(), "invalid_op_id");
}

#[test]
fn overflow_of_i64_is_refused() {
    let mut t = Till::with(Program {
        points_per_unit: i64::MAX,
        unit_minor: 1,
        ..program()
    });
    t.assert_refused(earn_amount(i64::MAX), "overflow");
    t.apply(earn(i64::MAX - 1)).unwrap();
    t.assert_refused(earn(10), "overflow");
    assert_eq!(t.account().points, i64::MAX - 1);
}

#[test]
fn a_replayed_op_id_is_a_no_op_and_a_reused_one_a_conflict() {
    let mut t = Till::new();
    let id = uuid::Uuid::now_v7().to_string();
    let first = t.apply_id(&id, 0, earn(30)).unwrap();
    let state = t.state();
    let again = t.apply_id(&id, 0, earn(30)).unwrap();
    assert!(again.replayed && !first.replayed);
    assert_eq!(again.entries, first.entries);
    assert_eq!(t.state(), state, "replay changed something");
    // The same request naming the pass by its barcode is the same request.
    let by_barcode = t
        .apply_id(
            &id,
            0,
            Operation::Earn {
                pass: "BC-card".into(),
                amount_minor: None,
                points: Some(30),
            },
        )
        .unwrap();
    assert!(by_barcode.replayed);
    let err = t.apply_id(&id, 0, earn(31)).unwrap_err();
    assert_eq!(err.code(), "op_conflict");
    assert_eq!(t.state(), state);
    // Upper-case ids are the same id.
    assert!(
        t.apply_id(&id.to_uppercase(), 0, earn(30))
            .unwrap()
            .replayed
    );
}

#[test]
fn stamp_card_refuses_overflow_or_carries_it() {
    let mut t = Till::new();
    t.apply(stamp(8)).unwrap();
    let err = t.assert_refused(stamp(3), "card_full");
    assert!(err.to_string().contains("8 of 10"), "{err}");
    t.apply(stamp(2)).unwrap();
    let r = t.apply(redeem_tier("Free coffee")).unwrap();
    assert_eq!(r.account.stamps, 0);
    t.apply(stamp(1)).unwrap();

    let mut carry = Till::with(Program {
        stamp_overflow: StampOverflow::Carry,
        ..program()
    });
    carry.apply(stamp(13)).unwrap();
    let view = loyalty::view(carry.store.conn(), "card", "coffee")
        .unwrap()
        .unwrap();
    assert_eq!((view.stamps, view.stamps_on_card), (13, Some(3)));
    assert_eq!(
        view.claimable
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["Free coffee"]
    );
    carry.apply(redeem_tier("Free coffee")).unwrap();
    assert_eq!(carry.account().stamps, 3);
}

#[test]
fn override_is_an_entry_of_the_difference() {
    let mut t = Till::new();
    t.apply(earn(40)).unwrap();
    let r = t
        .apply(Operation::Override {
            pass: "card".into(),
            balance: 25,
        })
        .unwrap();
    assert_eq!(
        (r.entries[0].kind, r.entries[0].points, r.account.points),
        (EntryKind::Override, -15, 25)
    );
    let r = t
        .apply(Operation::Override {
            pass: "card".into(),
            balance: 100,
        })
        .unwrap();
    assert_eq!((r.entries[0].points, r.account.points), (75, 100));
}

#[test]
fn adjustments_and_redemptions_cannot_go_below_zero_but_a_refund_can() {
    let mut t = Till::new();
    let e = t.apply(earn(60)).unwrap().entries[0].id.clone();
    t.assert_refused(adjust(-61), "insufficient_balance");
    t.apply(redeem_tier("£5 off")).unwrap();
    assert_eq!(t.account().points, 10);
    t.assert_refused(redeem_tier("£5 off"), "insufficient_balance");
    // The purchase is refunded after its points were spent: the balance goes negative.
    let r = t
        .apply(Operation::Reverse {
            entry_id: e.clone(),
            reason: Some("refund".into()),
        })
        .unwrap();
    assert_eq!(
        (r.account.points, r.entries[0].reverses.as_deref()),
        (-50, Some(e.as_str()))
    );
    t.assert_refused(
        Operation::Reverse {
            entry_id: e,
            reason: None,
        },
        "already_reversed",
    );
    t.assert_refused(adjust(-1), "insufficient_balance");
}

#[test]
fn only_earn_stamp_and_adjust_can_be_reversed() {
    let mut t = Till::new();
    t.apply(earn(60)).unwrap();
    let redeemed = t.apply(redeem_tier("£5 off")).unwrap();
    for e in &redeemed.entries {
        t.assert_refused(
            Operation::Reverse {
                entry_id: e.id.clone(),
                reason: None,
            },
            "not_reversible",
        );
    }
    let s = t.apply(stamp(4)).unwrap().entries[0].id.clone();
    assert_eq!(
        t.apply(Operation::Reverse {
            entry_id: s,
            reason: None
        })
        .unwrap()
        .account
        .stamps,
        0
    );
}

#[test]
fn rewards_reserve_then_redeem_once_or_release() {
    let mut t = Till::new();
    t.apply(earn(120)).unwrap();
    let created = t
        .apply(Operation::RewardCreate {
            pass: "card".into(),
            tier: "£5 off".into(),
        })
        .unwrap();
    let reward = created.reward.unwrap();
    assert_eq!(
        (created.account.points, created.account.reserved_points),
        (70, 50)
    );
    let view = loyalty::view(t.store.conn(), "card", "coffee")
        .unwrap()
        .unwrap();
    assert_eq!(view.rewards.len(), 1);
    let r = t
        .apply(Operation::RewardRedeem {
            reward: RewardRef::Id(reward.id.clone()),
        })
        .unwrap();
    assert_eq!((r.account.points, r.account.reserved_points), (70, 0));
    t.assert_refused(
        Operation::RewardRedeem {
            reward: RewardRef::Id(reward.id.clone()),
        },
        "reward_not_available",
    );
    t.assert_refused(
        Operation::RewardDelete {
            reward_id: reward.id,
            pass: None,
        },
        "reward_not_available",
    );

    let second = t
        .apply(Operation::RewardCreate {
            pass: "card".into(),
            tier: "£5 off".into(),
        })
        .unwrap()
        .reward
        .unwrap();
    let r = t
        .apply(Operation::RewardDelete {
            reward_id: second.id.clone(),
            pass: None,
        })
        .unwrap();
    assert_eq!((r.account.points, r.account.reserved_points), (70, 0));
    t.assert_refused(
        Operation::RewardRedeem {
            reward: RewardRef::Id(second.id),
        },
        "reward_not_available",
    );
}

#[test]
fn oldest_points_are_spent_first_and_expire_on_their_day() {
    let mut t = Till::new(); // points expire 10 days after they are earned
    t.apply_at(0, earn(100)).unwrap();
    t.apply_at(5, earn(50)).unwrap();
    t.apply_at(6, adjust(-120)).unwrap(); // takes all 100 of day 0 and 20 of day 5
    assert_eq!(t.account().points, 30);
    // Day 11: the day-0 lot is empty, nothing expires.
    assert!(t
        .apply_at(11, earn(1))
        .unwrap()
        .entries
        .iter()
        .all(|e| e.kind != EntryKind::Expire));
    assert_eq!(t.account().points, 31);
    // Day 16: the 30 left of day 5 expire; the day-11 point stays.
    let history_before = ledger::history(t.store.conn(), "card").unwrap().len();
    let decision = scan(&mut t, 16);
    assert_eq!(decision.loyalty.unwrap().balance, 1);
    let history = ledger::history(t.store.conn(), "card").unwrap();
    assert_eq!(history.len(), history_before + 1);
    assert_eq!(
        (history.last().unwrap().kind, history.last().unwrap().points),
        (EntryKind::Expire, -30)
    );
}

#[test]
fn expiry_never_takes_the_balance_below_zero() {
    let mut t = Till::new();
    let first = t.apply_at(0, earn(100)).unwrap().entries[0].id.clone();
    t.apply_at(0, adjust(-100)).unwrap();
    t.apply_at(
        1,
        Operation::Reverse {
            entry_id: first,
            reason: Some("refund".into()),
        },
    )
    .unwrap();
    assert_eq!(t.account().points, -100);
    t.apply_at(2, earn(60)).unwrap(); // balance -40, a lot of 60 expiring on day 12
    t.apply_at(13, earn(1)).unwrap();
    assert_eq!(
        t.account().points,
        -39,
        "nothing expired: the balance had nothing to give"
    );
}

#[test]
fn offline_redemptions_are_capped_per_day_until_synced() {
    let mut t = Till::with(Program {
        offline_redemptions_per_day: Some(2),
        ..program()
    });
    t.apply(earn(500)).unwrap();
    t.apply(redeem_tier("£5 off")).unwrap();
    t.apply(redeem_tier("£5 off")).unwrap();
    let err = t.assert_refused(redeem_tier("£5 off"), "offline_limit");
    assert!(err.to_string().contains("limit 2"), "{err}");
    // Once upstream has them, the counter is no longer carrying the risk alone.
    t.store
        .conn()
        .execute("UPDATE loyalty_ledger SET synced_at = ?1", [T0])
        .unwrap();
    t.apply(redeem_tier("£5 off")).unwrap();
    // The next day starts a new count.
    t.apply_at(1, redeem_tier("£5 off")).unwrap();
}

#[test]
fn the_redemption_cap_counts_the_counters_local_day() {
    let mut t = Till::with(Program {
        offline_redemptions_per_day: Some(1),
        ..program()
    });
    t.apply(earn(500)).unwrap();
    let berlin: TimeZone = "Europe/Berlin".parse().unwrap();
    let redeem_at = |t: &mut Till, at: &str| {
        let at = Timestamp::parse_rfc3339(at).unwrap();
        let op_id = uuid::Uuid::now_v7().to_string();
        t.apply_as(&op_id, at, berlin, &redeem_tier("£5 off"))
    };
    // 22:30 UTC is 23:30 in Berlin; 23:30 UTC is 00:30 the next day there, the same UTC day.
    redeem_at(&mut t, "2027-01-15T22:30:00Z").unwrap();
    redeem_at(&mut t, "2027-01-15T23:30:00Z").unwrap();
    let err = redeem_at(&mut t, "2027-01-16T22:59:00Z").unwrap_err();
    assert_eq!(err.code(), "offline_limit", "{err}");
}

#[test]
fn voided_and_expired_passes_get_no_points() {
    let mut t = Till::new();
    t.add_pass("void", |p| p.status = PassStatus::Voided);
    t.add_pass("old", |p| {
        p.expires_at = Some(Timestamp::from_unix_ms(T0 - 1))
    });
    for pass in ["void", "old"] {
        t.assert_refused(
            Operation::Earn {
                pass: pass.into(),
                amount_minor: None,
                points: Some(5),
            },
            "pass_not_usable",
        );
    }
}

#[test]
fn every_mutation_writes_its_outbox_row_and_verify_finds_drift() {
    let mut t = Till::new();
    t.apply(earn(70)).unwrap();
    t.apply(stamp(2)).unwrap();
    t.apply(redeem_tier("£5 off")).unwrap();
    let (counts, _) = t.state();
    assert_eq!(counts[5], 3, "one outbox row per operation");
    let (checked, drift) = ledger::verify(t.store.conn()).unwrap();
    assert_eq!((checked, drift.len()), (1, 0));
    t.store
        .conn()
        .execute("UPDATE loyalty_accounts SET points = points + 7", [])
        .unwrap();
    let (_, drift) = ledger::verify(t.store.conn()).unwrap();
    assert_eq!(drift.len(), 1);
    assert_eq!((drift[0].cached.points, drift[0].ledger.points), (27, 20));
}

fn scan(t: &mut Till, day: i64) -> passdesk_core::Decision {
    let input = scan_input(b"BC-card", Medium::Qr, "till-1", T0 + day * DAY);
    let node = t.node_id.clone();
    checkin(&mut t.store, &node, &input).unwrap()
}

#[test]
fn a_scan_shows_balance_stamps_and_rewards() {
    let mut t = Till::new();
    t.apply(earn(75)).unwrap();
    t.apply(stamp(10)).unwrap();
    t.apply(Operation::RewardCreate {
        pass: "card".into(),
        tier: "Free coffee".into(),
    })
    .unwrap();
    let view = scan(&mut t, 0).loyalty.unwrap();
    assert_eq!((view.balance, view.stamps, view.rewards.len()), (75, 0, 1));
    assert_eq!(
        view.claimable
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["£5 off"]
    );
}

#[test]
fn two_threads_redeem_the_same_reward_exactly_once() {
    let mut t = Till::new();
    t.apply(earn(50 * 20)).unwrap();
    let rewards: Vec<String> = (0..20)
        .map(|_| {
            t.apply(Operation::RewardCreate {
                pass: "card".into(),
                tier: "£5 off".into(),
            })
            .unwrap()
            .reward
            .unwrap()
            .id
        })
        .collect();
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (path, node, rewards) = (t.path.clone(), t.node_id.clone(), rewards.clone());
            std::thread::spawn(move || {
                let mut store = Store::open(&path, OpenMode::MustExist).unwrap();
                rewards
                    .iter()
                    .map(|id| {
                        let op = Operation::RewardRedeem {
                            reward: RewardRef::Id(id.clone()),
                        };
                        let op_id = uuid::Uuid::now_v7().to_string();
                        match loyalty::apply(
                            &mut store,
                            &node,
                            &op_id,
                            &op,
                            Timestamp::from_unix_ms(T0),
                            TimeZone::UTC,
                        ) {
                            Ok(_) => true,
                            Err(e) => {
                                assert_eq!(e.code(), "reward_not_available", "{e}");
                                false
                            }
                        }
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let results: Vec<Vec<bool>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for (i, (a, b)) in results[0].iter().zip(&results[1]).enumerate() {
        assert!(a ^ b, "reward {i} redeemed {} times", *a as u8 + *b as u8);
    }
    assert_eq!(t.account().reserved_points, 0);
    assert!(ledger::verify(t.store.conn()).unwrap().1.is_empty());
}

#[test]
fn deleting_a_reward_puts_its_points_back_into_the_lots_they_came_from() {
    let mut t = Till::new(); // points expire 10 days after they are earned
    t.apply_at(0, earn(40)).unwrap();
    t.apply_at(5, earn(30)).unwrap();
    let reward = t.create_reward(6, "£5 off"); // 40 of day 0, 10 of day 5
    assert_eq!(t.lots(), [(0, Some(10)), (20, Some(15))]);
    let r = t.delete_reward(7, &reward);
    assert_eq!(
        (r.entries.len(), r.entries[0].kind, r.entries[0].points),
        (1, EntryKind::RewardDelete, 50)
    );
    assert_eq!((r.account.points, r.account.reserved_points), (70, 0));
    assert_eq!(
        t.lots(),
        [(40, Some(10)), (30, Some(15))],
        "the same lots, no new one that never expires"
    );
    t.assert_folds();
    // The points due on day 10 still go on day 10, and those of day 5 on day 15.
    assert_eq!(scan(&mut t, 11).loyalty.unwrap().balance, 30);
    assert_eq!(scan(&mut t, 16).loyalty.unwrap().balance, 0);
    t.assert_folds();
}

#[test]
fn points_whose_lot_expired_while_a_reward_held_them_expire_when_it_is_deleted() {
    let mut t = Till::new();
    t.apply_at(0, earn(30)).unwrap(); // expires day 10
    t.apply_at(5, earn(40)).unwrap(); // expires day 15
    let reward = t.create_reward(6, "£5 off"); // all 30 of day 0, 20 of day 5
    assert_eq!(t.account().points, 20);
    // Day 12: the day-0 lot expired while the reward held its points. Deleting the reward
    // gives them back and they expire at once, in an entry of their own: they do not live on.
    let r = t.delete_reward(12, &reward);
    let kinds: Vec<_> = r.entries.iter().map(|e| (e.kind, e.points)).collect();
    assert_eq!(
        kinds,
        [(EntryKind::RewardDelete, 50), (EntryKind::Expire, -30)]
    );
    assert_eq!((r.account.points, r.account.reserved_points), (40, 0));
    assert_eq!(r.account, t.account());
    assert_eq!(t.lots(), [(0, Some(10)), (40, Some(15))]);
    t.assert_folds();
    assert_eq!(scan(&mut t, 16).loyalty.unwrap().balance, 0);
    t.assert_folds();
}

#[test]
fn a_reward_from_before_lots_were_recorded_gives_its_points_back_as_before() {
    let mut t = Till::new();
    t.apply_at(0, earn(60)).unwrap();
    let reward = t.create_reward(1, "£5 off");
    // What migration 08 leaves on a reward created before it: no record of its lots.
    t.store
        .conn()
        .execute("UPDATE loyalty_rewards SET taken_lots = NULL", [])
        .unwrap();
    let r = t.delete_reward(2, &reward);
    assert_eq!((r.account.points, r.account.reserved_points), (60, 0));
    assert_eq!(t.lots(), [(10, Some(10)), (50, None)]);
    assert_eq!(scan(&mut t, 11).loyalty.unwrap().balance, 50);
    t.assert_folds();
    // Stamp rewards have no lots: their stamps simply come back.
    t.apply_at(11, stamp(10)).unwrap();
    let free = t.create_reward(11, "Free coffee");
    let r = t.delete_reward(11, &free);
    assert_eq!((r.account.stamps, r.account.reserved_stamps), (10, 0));
    assert_eq!(t.lots().len(), 2);
    t.assert_folds();
}

#[test]
fn a_reward_named_under_another_pass_is_unknown_there() {
    let mut t = Till::new();
    t.add_pass("other", |_| {});
    t.apply(Operation::Earn {
        pass: "other".into(),
        amount_minor: None,
        points: Some(100),
    })
    .unwrap();
    let theirs = t
        .apply(Operation::RewardCreate {
            pass: "other".into(),
            tier: "£5 off".into(),
        })
        .unwrap()
        .reward
        .unwrap()
        .id;
    t.apply(earn(100)).unwrap();
    t.create_reward(0, "£5 off");
    t.assert_refused(
        Operation::RewardRedeem {
            reward: RewardRef::OfPass {
                pass: "card".into(),
                id: theirs.clone(),
            },
        },
        "unknown_reward",
    );
    t.assert_refused(
        Operation::RewardDelete {
            reward_id: theirs.clone(),
            pass: Some("card".into()),
        },
        "unknown_reward",
    );
    t.assert_refused(
        Operation::RewardDelete {
            reward_id: theirs.clone(),
            pass: Some("nobody".into()),
        },
        "unknown_pass",
    );
    let theirs_now = |t: &Till| {
        loyalty::rewards::get(t.store.conn(), &theirs)
            .unwrap()
            .unwrap()
            .status
    };
    assert_eq!(theirs_now(&t), loyalty::RewardStatus::Available);
    // Under its own pass (named by any of its values) it redeems, and the same redemption
    // asked for by reward id alone is the same request.
    let key = uuid::Uuid::now_v7().to_string();
    let under = t
        .apply_id(
            &key,
            0,
            Operation::RewardRedeem {
                reward: RewardRef::OfPass {
                    pass: "BC-other".into(),
                    id: theirs.clone(),
                },
            },
        )
        .unwrap();
    assert_eq!(under.pass_id, "other");
    assert_eq!(theirs_now(&t), loyalty::RewardStatus::Redeemed);
    let again = t
        .apply_id(
            &key,
            0,
            Operation::RewardRedeem {
                reward: RewardRef::Id(theirs.clone()),
            },
        )
        .unwrap();
    assert!(again.replayed);
    t.assert_folds();
}

#[test]
fn an_operation_inside_the_callers_transaction_commits_with_it_or_leaves_nothing() {
    // No redemption allowed offline: a tier redeemed at once creates its reward, then is refused.
    let mut t = Till::with(Program {
        offline_redemptions_per_day: Some(0),
        ..program()
    });
    t.apply(earn(100)).unwrap();
    let node = t.node_id.clone();
    let apply_in = |tx: &passdesk_core::rusqlite::Transaction<'_>, op: &Operation| {
        let op_id = uuid::Uuid::now_v7().to_string();
        let at = Timestamp::from_unix_ms(T0);
        loyalty::apply_in(tx, &node, &op_id, op, at, TimeZone::UTC)
    };
    let before = t.state();
    // Refused halfway: nothing of it stays, though the caller commits its own work.
    let walk_in = Pass {
        id: "walk-in".into(),
        barcode: None,
        ..pass_store::get_pass(t.store.conn(), "card")
            .unwrap()
            .unwrap()
    };
    t.store
        .write(|tx| {
            pass_store::upsert_pass(tx, &walk_in)?;
            let err = apply_in(tx, &redeem_tier("£5 off")).unwrap_err();
            assert_eq!(err.code(), "offline_limit");
            Ok::<_, LoyaltyError>(())
        })
        .unwrap();
    assert_eq!(t.state(), before, "the refused operation left rows behind");
    assert!(pass_store::get_pass(t.store.conn(), "walk-in")
        .unwrap()
        .is_some());
    // Applied, then the caller fails: the operation goes with the caller's transaction.
    let err = t
        .store
        .write(|tx| {
            apply_in(tx, &earn(5))?;
            Err::<(), _>(LoyaltyError::InvalidAmount(
                "the caller changed its mind".into(),
            ))
        })
        .unwrap_err();
    assert_eq!(err.code(), "invalid_amount");
    assert_eq!(t.state(), before);
    // Applied, and the caller commits: it lasts.
    t.store.write(|tx| apply_in(tx, &earn(5))).unwrap();
    assert_eq!(t.account().points, 105);
    t.assert_folds();
}
