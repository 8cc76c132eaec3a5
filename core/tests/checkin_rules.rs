//! Every reason and every policy of the check-in engine, on a real SQLite store.

mod common;

use common::{add_event, add_template, qr_pass, scan_input, TestStore, MIN, T0};
use passdesk_core::catalog;
use passdesk_core::catalog::SaveMode;
use passdesk_core::decision::Warning;
use passdesk_core::keys;
use passdesk_core::pass::{Pass, PassStatus, PassType};
use passdesk_core::pass_store;
use passdesk_core::policy::{CheckinPolicy, EntryMode, PolicyScope};
use passdesk_core::reader::{Direction, Reader, ReaderChanges};
use passdesk_core::scan::{Medium, ScanInput};
use passdesk_core::scan_log::ScanRecord;
use passdesk_core::token::TokenClaims;
use passdesk_core::{checkin, outbox, scan_log, Decision, Reason, Store, Timestamp, Verdict};

struct Counter {
    store: Store,
    node_id: String,
    key: passdesk_core::token::NodeKey,
    _dir: tempfile::TempDir,
}

impl Counter {
    fn new() -> Self {
        let TestStore {
            store, node, dir, ..
        } = TestStore::new();
        let c = store.conn();
        let at = Timestamp::from_unix_ms(T0);
        for (id, kind) in [
            ("tickets", PassType::EVENT_TICKET),
            ("coffee", PassType::STORE_CARD),
        ] {
            add_template(c, id, &format!("{id} template"), kind);
        }
        for (id, name) in [("ev1", "Harbour Lights"), ("ev2", "Other Show")] {
            add_event(c, id, name, "UTC");
        }
        // Gates A and B take scans both ways (entry / exit tests give the direction); the till
        // and the desk only one; the desk is where staff type pass numbers.
        for (id, name, event, exit_enabled, accept_ids) in [
            ("gate-a", "Gate A", Some("ev1"), true, false),
            ("gate-b", "Gate B", Some("ev1"), true, false),
            ("till", "Till 1", None, false, false),
            ("desk", "Box Office", None, false, true),
        ] {
            let changes = ReaderChanges {
                name: Some(name.into()),
                event_id: event.map(Into::into),
                exit_enabled: Some(exit_enabled),
                accept_ids: Some(accept_ids),
                ..Default::default()
            };
            catalog::save_reader(c, id, changes, SaveMode::Create, at).unwrap();
        }
        Self {
            store,
            node_id: node.node_id,
            key: node.key,
            _dir: dir,
        }
    }

    fn add(&self, id: &str, template: &str, event: Option<&str>, edit: impl FnOnce(&mut Pass)) {
        let kind = if template == "coffee" {
            PassType::STORE_CARD
        } else {
            PassType::EVENT_TICKET
        };
        let created = Timestamp::from_unix_ms(T0 - 1000 * MIN);
        let mut p = Pass {
            ext_id: Some(format!("ext-{id}")),
            event_id: event.map(Into::into),
            nfc: Some(format!("NFC-{id}")),
            pass_content: serde_json::json!({"fullName": format!("Holder {id}")})
                .as_object()
                .unwrap()
                .clone(),
            ..qr_pass(id, template, kind, format!("QR-{id}"), created)
        };
        edit(&mut p);
        pass_store::upsert_pass(self.store.conn(), &p).unwrap();
    }

    fn policy(&self, scope: PolicyScope, mode: EntryMode, edit: impl FnOnce(&mut CheckinPolicy)) {
        let mut p = CheckinPolicy {
            scope,
            ..CheckinPolicy::default_for(&PassType::default())
        };
        p.entry_mode = mode;
        edit(&mut p);
        catalog::set_policy(self.store.conn(), &p, Timestamp::from_unix_ms(T0)).unwrap();
    }

    fn scan_raw(
        &mut self,
        value: &[u8],
        reader: &str,
        at_min: i64,
        direction: Option<Direction>,
    ) -> Decision {
        self.scan_as(value, Medium::Qr, reader, at_min, direction)
    }

    fn scan_as(
        &mut self,
        value: &[u8],
        medium: Medium,
        reader: &str,
        at_min: i64,
        direction: Option<Direction>,
    ) -> Decision {
        let input = ScanInput {
            direction,
            ..scan_input(value, medium, reader, T0 + at_min * MIN)
        };
        checkin(&mut self.store, &self.node_id, &input).unwrap()
    }

    fn scan(&mut self, value: &str, reader: &str, at_min: i64) -> Decision {
        self.scan_raw(value.as_bytes(), reader, at_min, None)
    }

    fn token(
        &self,
        pid: &str,
        tpl: &str,
        evt: Option<&str>,
        edit: impl FnOnce(&mut TokenClaims),
    ) -> String {
        let mut c = TokenClaims {
            tid: format!("tid-{pid}"),
            pid: pid.into(),
            tpl: tpl.into(),
            evt: evt.map(Into::into),
            nbf: None,
            exp: None,
            iat: T0 / 1000,
            kid: String::new(),
        };
        edit(&mut c);
        self.key.sign(c)
    }

    fn scans_and_outbox(&self) -> (u64, u64) {
        (
            scan_log::count(self.store.conn()).unwrap(),
            outbox::count(self.store.conn()).unwrap(),
        )
    }

    /// The latest scans in the log, newest first (at most 10).
    fn logged(&self) -> Vec<ScanRecord> {
        let latest = scan_log::ScanFilter {
            limit: 10,
            ..Default::default()
        };
        scan_log::list(self.store.conn(), &latest).unwrap()
    }
}

fn assert_reject(d: &Decision, reason: Reason) {
    assert_eq!(
        (d.verdict, d.reason),
        (Verdict::Reject, Some(reason)),
        "{d:#?}"
    );
}

fn assert_accept(d: &Decision) {
    assert_eq!((d.verdict, d.reason), (Verdict::Accept, None), "{d:#?}");
}

#[test]
fn single_entry_ticket_then_already_used_with_when_and_where() {
    let mut c = Counter::new();
    c.add("t1", "tickets", Some("ev1"), |_| {});
    let first = c.scan("QR-t1", "gate-b", 0);
    assert_accept(&first);
    assert_eq!(
        first.pass.as_ref().unwrap().holder_name.as_deref(),
        Some("Holder t1")
    );
    assert_eq!(
        first.pass.as_ref().unwrap().event_name.as_deref(),
        Some("Harbour Lights")
    );
    let again = c.scan("QR-t1", "gate-a", 5);
    assert_reject(&again, Reason::AlreadyUsed);
    let prev = again.previous_use.as_ref().unwrap();
    assert_eq!(
        (prev.scan_id.as_str(), prev.reader_name.as_str()),
        (first.scan_id.as_str(), "Gate B")
    );
    assert_eq!(again.message, "Already used 08:00 UTC at Gate B");
}

#[test]
fn every_lookup_key_finds_the_pass() {
    let mut c = Counter::new();
    for i in 0..4 {
        c.add(&format!("p{i}"), "coffee", None, |_| {});
    }
    for (value, medium, by, typed) in [
        ("QR-p0", Medium::Qr, "barcode", false),
        ("NFC-p1", Medium::NfcVas, "nfc", false),
        ("p2", Medium::Qr, "passId", true),
        ("ext-p3", Medium::Manual, "extId", true),
    ] {
        let d = c.scan_as(value.as_bytes(), medium, "desk", 0, None);
        assert_accept(&d);
        assert_eq!(serde_json::to_value(d.matched_by).unwrap(), by);
        assert_eq!(d.warnings.contains(&Warning::TypedId), typed, "{value}");
    }
}

#[test]
fn a_typed_pass_id_or_ext_id_is_refused_at_a_gate_and_logged_with_the_pass() {
    let mut c = Counter::new();
    c.add("t1", "tickets", Some("ev1"), |p| {
        p.ext_id = Some("ORDER-1001".into())
    });
    for value in ["ORDER-1001", "t1"] {
        let d = c.scan(value, "gate-a", 0);
        assert_reject(&d, Reason::TypedIdNotAccepted);
        assert_eq!(
            d.message,
            "Typed pass number not accepted here: scan the code on the pass"
        );
        // The attempt names the pass for the audit, and shows nothing of its holder.
        assert_eq!(d.pass_id.as_deref(), Some("t1"));
        assert_eq!(d.pass, None);
        assert!(d.matched_by.unwrap().is_typed_id());
    }
    assert_eq!(c.scans_and_outbox(), (2, 2));
    let logged = c.logged();
    assert!(logged.iter().all(|s| s.pass_id.as_deref() == Some("t1")
        && s.reason == Some(Reason::TypedIdNotAccepted)
        && !s.counted));
    // Nothing was counted: the code on the ticket still admits, once.
    assert_accept(&c.scan("QR-t1", "gate-a", 1));
    assert_reject(&c.scan("QR-t1", "gate-b", 2), Reason::AlreadyUsed);
}

#[test]
fn an_nfc_value_that_does_not_come_from_nfc_is_typed() {
    // PassEntry's passes (and ours) carry the pass id as their NFC value; it is in emails and
    // on screens, never printed on the pass. Typed or shown as a QR code, it is a typed id.
    let mut c = Counter::new();
    c.add("t1", "tickets", Some("ev1"), |p| p.nfc = Some("t1".into()));
    for medium in [Medium::Manual, Medium::Qr, Medium::Serial] {
        let d = c.scan_as(b"t1", medium, "gate-a", 0, None);
        assert_reject(&d, Reason::TypedIdNotAccepted);
    }
    assert_eq!(c.scans_and_outbox(), (3, 3));
    // From the phone's wallet it is the pass, once.
    for medium in [Medium::NfcVas, Medium::NfcSmartTap] {
        let d = c.scan_as(b"t1", medium, "gate-a", 1, None);
        assert_eq!(serde_json::to_value(d.matched_by).unwrap(), "nfc");
        assert!(d.warnings.is_empty(), "{medium}: {:?}", d.warnings);
    }
    assert_reject(
        &c.scan_as(b"t1", Medium::NfcVas, "gate-b", 2, None),
        Reason::AlreadyUsed,
    );
    // At a desk that takes typed numbers it admits with the warning.
    c.add("t2", "tickets", Some("ev1"), |p| p.nfc = Some("t2".into()));
    let d = c.scan_as(b"t2", Medium::Manual, "desk", 3, None);
    assert_accept(&d);
    assert_eq!(d.warnings, vec![Warning::TypedId]);
}

#[test]
fn a_typed_id_admits_with_a_warning_where_the_reader_accepts_ids() {
    let mut c = Counter::new();
    c.add("t1", "tickets", Some("ev1"), |p| {
        p.ext_id = Some("ORDER-1001".into())
    });
    let d = c.scan("ORDER-1001", "desk", 0);
    assert_accept(&d);
    assert_eq!(d.warnings, vec![Warning::TypedId]);
    assert_eq!(d.message, "Valid (typed pass number)");
    assert_eq!(
        d.pass.as_ref().unwrap().holder_name.as_deref(),
        Some("Holder t1")
    );
    // The scan row says so too, and it counts like any entry.
    let row = scan_log::get(c.store.conn(), &d.scan_id).unwrap().unwrap();
    assert_eq!(row.detail.as_deref(), Some("Valid (typed pass number)"));
    assert!(row.counted);
    assert_reject(&c.scan("QR-t1", "gate-b", 20), Reason::AlreadyUsed);
    // Still checked like any scan: a voided pass typed at the desk is voided.
    c.add("v", "tickets", None, |p| p.status = PassStatus::Voided);
    assert_reject(&c.scan("v", "desk", 21), Reason::Voided);
}

#[test]
fn a_barcode_equal_to_a_pass_id_is_a_scan_of_that_pass() {
    let mut c = Counter::new();
    // PassEntry's own passes carry their id in the barcode.
    c.add("pe-1", "tickets", Some("ev1"), |p| {
        p.barcode.as_mut().unwrap().value = "pe-1".into()
    });
    let d = c.scan("pe-1", "gate-a", 0);
    assert_accept(&d);
    assert_eq!(serde_json::to_value(d.matched_by).unwrap(), "barcode");
    assert!(d.warnings.is_empty());
    // A value that is one pass's barcode and another's id is a scan of the first.
    c.add("QR-other", "tickets", Some("ev1"), |_| {});
    c.add("holder", "tickets", Some("ev1"), |p| {
        p.barcode.as_mut().unwrap().value = "QR-other".into()
    });
    let d = c.scan("QR-other", "gate-a", 1);
    assert_accept(&d);
    assert_eq!(d.pass_id.as_deref(), Some("holder"));
}

#[test]
fn an_ext_id_reused_by_two_passes_finds_the_newest() {
    let mut c = Counter::new();
    let created = |min: i64| Timestamp::from_unix_ms(T0 - min * MIN);
    // The newer is written first: the answer follows createdAt, not the order of writing.
    c.add("new", "coffee", None, |p| {
        p.ext_id = Some("CARD-7".into());
        p.created_at = created(10);
    });
    c.add("old", "coffee", None, |p| {
        p.ext_id = Some("CARD-7".into());
        p.created_at = created(500);
    });
    let found = pass_store::find(c.store.conn(), "CARD-7").unwrap().unwrap();
    assert_eq!(
        (found.pass.id.as_str(), found.matched_by),
        ("new", pass_store::MatchedBy::ExtId)
    );
    let d = c.scan("CARD-7", "desk", 0);
    assert_eq!(d.pass_id.as_deref(), Some("new"));
    assert_eq!(pass_store::find(c.store.conn(), "CARD-8").unwrap(), None);
}

#[test]
fn unknown_pass_is_rejected_and_logged() {
    let mut c = Counter::new();
    let d = c.scan("NOPE-123", "till", 0);
    assert_reject(&d, Reason::UnknownPass);
    assert_eq!(d.pass_id, None);
    assert_eq!(c.scans_and_outbox(), (1, 1));
}

#[test]
fn voided_by_status_or_deactivated_at() {
    let mut c = Counter::new();
    c.add("v1", "tickets", Some("ev1"), |p| {
        p.status = PassStatus::Voided
    });
    c.add("v2", "tickets", Some("ev1"), |p| {
        p.status = PassStatus::Deactivated
    });
    c.add("v3", "tickets", Some("ev1"), |p| {
        p.deactivated_at = Some(Timestamp::from_unix_ms(T0 - MIN))
    });
    for v in ["QR-v1", "QR-v2", "QR-v3"] {
        assert_reject(&c.scan(v, "gate-a", 0), Reason::Voided);
    }
}

#[test]
fn expired_by_status_expires_at_or_valid_until() {
    let mut c = Counter::new();
    c.add("e1", "coffee", None, |p| p.status = PassStatus::Expired);
    c.add("e2", "coffee", None, |p| {
        p.expires_at = Some(Timestamp::from_unix_ms(T0))
    });
    c.add("e3", "coffee", None, |p| {
        p.valid_until = Some(Timestamp::from_unix_ms(T0 - 1))
    });
    c.add("ok", "coffee", None, |p| {
        p.expires_at = Some(Timestamp::from_unix_ms(T0 + MIN))
    });
    for v in ["QR-e1", "QR-e2", "QR-e3"] {
        assert_reject(&c.scan(v, "till", 0), Reason::Expired);
    }
    assert_accept(&c.scan("QR-ok", "till", 0));
}

#[test]
fn not_yet_valid_until_valid_from() {
    let mut c = Counter::new();
    c.add("f", "tickets", Some("ev1"), |p| {
        p.valid_from = Some(Timestamp::from_unix_ms(T0 + 30 * MIN))
    });
    assert_reject(&c.scan("QR-f", "gate-a", 0), Reason::NotYetValid);
    assert_accept(&c.scan("QR-f", "gate-a", 31));
}

#[test]
fn wrong_event_at_a_gate_bound_to_another_event() {
    let mut c = Counter::new();
    c.add("w", "tickets", Some("ev2"), |_| {});
    c.add("loyal", "coffee", None, |_| {});
    let d = c.scan("QR-w", "gate-a", 0);
    assert_reject(&d, Reason::WrongEvent);
    assert!(d.message.contains("Other Show"), "{}", d.message);
    assert_reject(&c.scan("QR-loyal", "gate-a", 0), Reason::WrongEvent);
}

#[test]
fn reader_not_allowed_by_reader_setting_or_policy() {
    let mut c = Counter::new();
    let mut off = Reader::unconfigured("off");
    off.scan_enabled = false;
    catalog::upsert_reader(c.store.conn(), &off, Timestamp::from_unix_ms(T0)).unwrap();
    c.add("r", "tickets", Some("ev1"), |_| {});
    assert_reject(&c.scan("QR-r", "off", 0), Reason::ReaderNotAllowed);
    c.policy(PolicyScope::Event("ev1".into()), EntryMode::Single, |p| {
        p.allowed_readers = Some(vec!["gate-a".into()])
    });
    assert_reject(&c.scan("QR-r", "gate-b", 0), Reason::ReaderNotAllowed);
    assert_accept(&c.scan("QR-r", "gate-a", 0));
}

#[test]
fn loyalty_cards_scan_any_number_of_times_by_default() {
    let mut c = Counter::new();
    c.add("l", "coffee", None, |_| {});
    for minute in 0..5 {
        let d = c.scan("QR-l", "till", minute);
        assert_accept(&d);
        assert_eq!(d.duplicate_of, None);
    }
}

#[test]
fn multiple_entries_up_to_a_limit() {
    let mut c = Counter::new();
    c.add("m", "tickets", Some("ev1"), |_| {});
    c.policy(PolicyScope::Event("ev1".into()), EntryMode::Multiple, |p| {
        p.max_entries = Some(3)
    });
    for minute in 0..3 {
        let d = c.scan("QR-m", "gate-a", minute);
        assert_accept(&d);
        assert_eq!(d.entries.unwrap().used, minute as u32 + 1);
    }
    let d = c.scan("QR-m", "gate-a", 3);
    assert_reject(&d, Reason::AlreadyUsed);
    assert_eq!(d.message, "All 3 entries used");
}

#[test]
fn event_policy_wins_over_template_policy() {
    let mut c = Counter::new();
    c.add("x", "tickets", Some("ev1"), |_| {});
    c.policy(
        PolicyScope::Template("tickets".into()),
        EntryMode::Single,
        |_| {},
    );
    c.policy(
        PolicyScope::Event("ev1".into()),
        EntryMode::Multiple,
        |_| {},
    );
    assert_accept(&c.scan("QR-x", "gate-a", 0));
    assert_accept(&c.scan("QR-x", "gate-a", 1));
}

#[test]
fn entry_after_exit() {
    let mut c = Counter::new();
    c.add("io", "tickets", Some("ev1"), |_| {});
    c.policy(
        PolicyScope::Event("ev1".into()),
        EntryMode::EntryExit,
        |_| {},
    );
    assert_reject(
        &c.scan_raw(b"QR-io", "gate-a", 0, Some(Direction::Exit)),
        Reason::NotCheckedIn,
    );
    assert_accept(&c.scan("QR-io", "gate-a", 1));
    let inside = c.scan("QR-io", "gate-b", 2);
    assert_reject(&inside, Reason::AlreadyUsed);
    assert!(
        inside.message.starts_with("Already inside since"),
        "{}",
        inside.message
    );
    assert_accept(&c.scan_raw(b"QR-io", "gate-b", 3, Some(Direction::Exit)));
    assert_accept(&c.scan("QR-io", "gate-a", 4));
}

#[test]
fn exit_reader_direction_is_the_default() {
    let mut c = Counter::new();
    let out = catalog::save_reader(
        c.store.conn(),
        "out",
        ReaderChanges {
            direction: Some(Direction::Exit),
            event_id: Some("ev1".into()),
            ..Default::default()
        },
        SaveMode::Create,
        Timestamp::from_unix_ms(T0),
    )
    .unwrap();
    assert!(out.exit_enabled, "an exit reader takes exit scans");
    c.add("io", "tickets", Some("ev1"), |_| {});
    c.policy(
        PolicyScope::Event("ev1".into()),
        EntryMode::EntryExit,
        |_| {},
    );
    assert_accept(&c.scan("QR-io", "gate-a", 0));
    let d = c.scan("QR-io", "out", 1);
    assert_accept(&d);
    assert_eq!(d.direction, Direction::Exit);
}

#[test]
fn duplicate_tap_returns_the_earlier_decision_without_counting() {
    let mut c = Counter::new();
    c.add("d", "tickets", Some("ev1"), |_| {});
    let first = c.scan_raw(b"QR-d", "gate-a", 0, None);
    // 5 seconds later, same reader: the same answer, not "already used".
    let input_at = |ms: i64| scan_input(b"QR-d", Medium::NfcVas, "gate-a", T0 + ms);
    let node = c.node_id.clone();
    let repeat = checkin(&mut c.store, &node, &input_at(5_000)).unwrap();
    assert_accept(&repeat);
    assert_eq!(repeat.duplicate_of.as_deref(), Some(first.scan_id.as_str()));
    assert_ne!(repeat.scan_id, first.scan_id);
    // After the window it is a second entry.
    let later = checkin(&mut c.store, &node, &input_at(11_000)).unwrap();
    assert_reject(&later, Reason::AlreadyUsed);
    // At another reader inside the window it is a second entry too.
    let other = c.scan("QR-d", "gate-b", 0);
    assert_reject(&other, Reason::AlreadyUsed);
}

#[test]
fn duplicate_window_is_per_policy_and_can_be_off() {
    let mut c = Counter::new();
    c.add("l", "coffee", None, |_| {});
    c.policy(
        PolicyScope::Template("coffee".into()),
        EntryMode::Multiple,
        |p| p.duplicate_window_ms = 0,
    );
    let a = c.scan("QR-l", "till", 0);
    let b = c.scan("QR-l", "till", 0);
    assert_eq!((a.duplicate_of, b.duplicate_of), (None, None));
}

#[test]
fn policy_window_opens_and_closes() {
    let mut c = Counter::new();
    c.add("pw", "tickets", Some("ev1"), |_| {});
    c.policy(PolicyScope::Event("ev1".into()), EntryMode::Single, |p| {
        p.valid_from = Some(Timestamp::from_unix_ms(T0 + 10 * MIN));
        p.valid_until = Some(Timestamp::from_unix_ms(T0 + 20 * MIN));
    });
    assert_reject(&c.scan("QR-pw", "gate-a", 0), Reason::NotYetValid);
    assert_reject(&c.scan("QR-pw", "gate-a", 21), Reason::Expired);
    assert_accept(&c.scan("QR-pw", "gate-a", 15));
}

#[test]
fn removed_from_wallet_is_accepted_with_a_warning() {
    let mut c = Counter::new();
    c.add("rm", "coffee", None, |p| p.status = PassStatus::Removed);
    let d = c.scan("QR-rm", "till", 0);
    assert_accept(&d);
    assert_eq!(d.warnings, vec![Warning::RemovedFromWallet]);
}

#[test]
fn token_of_an_uncached_pass_is_admitted_offline_once() {
    let mut c = Counter::new();
    let tok = c.token("new-pass", "tickets", Some("ev1"), |_| {});
    let d = c.scan(&tok, "gate-a", 0);
    assert_accept(&d);
    assert_eq!(d.pass_id.as_deref(), Some("new-pass"));
    assert_eq!(d.warnings, vec![Warning::NotInCache]);
    assert_eq!(
        d.pass.as_ref().unwrap().template_name.as_deref(),
        Some("tickets template")
    );
    assert_reject(&c.scan(&tok, "gate-b", 1), Reason::AlreadyUsed);
}

#[test]
fn token_of_a_cached_pass_uses_the_cache_status() {
    let mut c = Counter::new();
    c.add("cv", "tickets", Some("ev1"), |p| {
        p.status = PassStatus::Voided
    });
    let tok = c.token("cv", "tickets", Some("ev1"), |_| {});
    assert_reject(&c.scan(&tok, "gate-a", 0), Reason::Voided);
}

#[test]
fn token_window_event_and_revocation() {
    let mut c = Counter::new();
    let early = c.token("a", "tickets", Some("ev1"), |t| {
        t.nbf = Some(T0 / 1000 + 3600)
    });
    let late = c.token("b", "tickets", Some("ev1"), |t| t.exp = Some(T0 / 1000 - 1));
    let other = c.token("c", "tickets", Some("ev2"), |_| {});
    let revoked = c.token("d", "tickets", Some("ev1"), |_| {});
    keys::revoke_token(
        c.store.conn(),
        "tid-d",
        Some("d"),
        None,
        Timestamp::from_unix_ms(T0),
    )
    .unwrap();
    assert_reject(&c.scan(&early, "gate-a", 0), Reason::NotYetValid);
    assert_reject(&c.scan(&late, "gate-a", 0), Reason::Expired);
    assert_reject(&c.scan(&other, "gate-a", 0), Reason::WrongEvent);
    assert_reject(&c.scan(&revoked, "gate-a", 0), Reason::Revoked);
}

#[test]
fn bad_tokens_are_invalid_token() {
    let mut c = Counter::new();
    let good = c.token("g", "tickets", Some("ev1"), |_| {});
    let stranger = passdesk_core::token::NodeKey::generate().sign(TokenClaims {
        tid: "x".into(),
        pid: "g".into(),
        tpl: "tickets".into(),
        evt: None,
        nbf: None,
        exp: None,
        iat: 0,
        kid: String::new(),
    });
    let mut flipped = good.clone().into_bytes();
    let last = flipped.len() - 3;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let cases: Vec<Vec<u8>> = vec![
        good.as_bytes()[..good.len() / 2].to_vec(), // truncated
        stranger.into_bytes(),                      // unknown key
        flipped,                                    // bad signature
        b"PD1.not-base64!.x".to_vec(),              // broken encoding
        b"PD1.".to_vec(),
    ];
    for case in cases {
        let d = c.scan_raw(&case, "gate-a", 0, None);
        assert_reject(&d, Reason::InvalidToken);
    }
    assert_accept(&c.scan(&good, "gate-a", 0));
}

#[test]
fn malformed_values_are_rejected_and_logged_whole_never_partially() {
    let mut c = Counter::new();
    let huge = vec![b'7'; 100 * 1024];
    let garbage: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    for (value, what) in [
        (huge.as_slice(), "bytes long"),
        (garbage.as_slice(), "not UTF-8"),
        (b"".as_slice(), "empty"),
        (b"\r\n".as_slice(), "empty"),
        (b"abc\x1b[2J".as_slice(), "control character"),
    ] {
        let before = c.scans_and_outbox();
        let d = c.scan_raw(value, "till", 0, None);
        assert_reject(&d, Reason::MalformedValue);
        assert!(d.message.contains(what), "{} / {what}", d.message);
        let after = c.scans_and_outbox();
        assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1));
    }
    let logged = c.logged();
    assert!(logged.iter().all(|s| s.value.chars().count() <= 257));
    assert!(logged.iter().any(|s| s.value_len == 100 * 1024));
}

#[test]
fn unknown_reader_is_registered_on_first_scan_with_scan_only() {
    let mut c = Counter::new();
    c.add("l", "coffee", None, |_| {});
    assert_accept(&c.scan("QR-l", "pos-7", 0));
    let r = catalog::get_reader(c.store.conn(), "pos-7")
        .unwrap()
        .unwrap();
    assert_eq!(r, Reader::unconfigured("pos-7"));
    assert!(r.scan_enabled);
    assert!(!r.redeem_enabled && !r.add_points_enabled && !r.accept_ids && !r.exit_enabled);
    // So a typed id is refused there, and so is a direction of the client's choosing.
    assert_reject(&c.scan("l", "pos-7", 1), Reason::TypedIdNotAccepted);
    let d = c.scan_raw(b"QR-l", "pos-8", 2, Some(Direction::Exit));
    assert_reject(&d, Reason::ReaderNotAllowed);
    assert_eq!(d.message, "pos-8 takes entry scans only");
    assert_eq!(d.direction, Direction::Entry);
    // A reader a manager configured is never changed by a scan naming it.
    let before = catalog::get_reader(c.store.conn(), "desk").unwrap();
    c.scan("QR-l", "desk", 3);
    assert_eq!(catalog::get_reader(c.store.conn(), "desk").unwrap(), before);
}

#[test]
fn a_direction_is_taken_only_where_exit_scans_are_enabled() {
    let mut c = Counter::new();
    c.add("io", "tickets", Some("ev1"), |_| {});
    c.policy(
        PolicyScope::Template("tickets".into()),
        EntryMode::EntryExit,
        |_| {},
    );
    assert_accept(&c.scan("QR-io", "till", 0));
    // The till is an entry reader without exit scans: an exit there is refused, counts nothing.
    let d = c.scan_raw(b"QR-io", "till", 1, Some(Direction::Exit));
    assert_reject(&d, Reason::ReaderNotAllowed);
    assert_eq!(d.message, "Till 1 takes entry scans only");
    assert!(
        !scan_log::get(c.store.conn(), &d.scan_id)
            .unwrap()
            .unwrap()
            .counted
    );
    // Still inside, so an exit where exits are enabled is accepted.
    assert_accept(&c.scan_raw(b"QR-io", "gate-a", 2, Some(Direction::Exit)));
}

#[test]
fn two_threads_admit_a_single_entry_ticket_once() {
    let db = TestStore::new();
    let path = db.path.clone();
    let node_id = {
        let TestStore { store, node, .. } = &db;
        let c = store.conn();
        let at = Timestamp::from_unix_ms(T0);
        add_template(c, "t", "t", PassType::GENERIC);
        for i in 0..50 {
            let p = Pass {
                status: PassStatus::Issued,
                ..qr_pass(
                    &format!("p{i}"),
                    "t",
                    PassType::GENERIC,
                    format!("V{i}"),
                    at,
                )
            };
            pass_store::upsert_pass(c, &p).unwrap();
        }
        node.node_id.clone()
    };
    let handles: Vec<_> = ["gate-1", "gate-2"]
        .into_iter()
        .map(|reader| {
            let path = path.clone();
            let node_id = node_id.clone();
            std::thread::spawn(move || {
                let mut store = Store::open(&path, passdesk_core::OpenMode::MustExist).unwrap();
                (0..50)
                    .map(|i| {
                        let input = scan_input(format!("V{i}").as_bytes(), Medium::Qr, reader, T0);
                        checkin(&mut store, &node_id, &input).unwrap().accepted()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let results: Vec<Vec<bool>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for (i, (a, b)) in results[0].iter().zip(&results[1]).enumerate() {
        assert!(a ^ b, "pass {i} admitted {} times", *a as u8 + *b as u8);
    }
}

#[test]
fn a_batch_decides_in_order_in_one_transaction() {
    let mut c = Counter::new();
    c.add("b1", "tickets", Some("ev1"), |_| {});
    let input = |value: &[u8], reader: &str| scan_input(value, Medium::Qr, reader, T0);
    let batch = [
        input(b"QR-b1", "gate-a"),
        input(b"QR-b1", "gate-b"),
        input(b"", "gate-a"),
        input(b"nope", "till"),
    ];
    let node = c.node_id.clone();
    let out: Vec<Decision> = passdesk_core::checkin_batch(&mut c.store, &node, &batch)
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_accept(&out[0]);
    assert_reject(&out[1], Reason::AlreadyUsed);
    assert_reject(&out[2], Reason::MalformedValue);
    assert_reject(&out[3], Reason::UnknownPass);
    assert_eq!(c.scans_and_outbox(), (4, 4));
}
