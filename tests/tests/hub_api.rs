//! The hub's sync API (`passdesk hub serve`), the real binary on loopback over real HTTP, every
//! case over both engines: an SQLite file and a database on a throwaway PostgreSQL cluster
//! (`passdesk_tests::postgres`). Enrollment, push and pull, duplicates and rejections, the long
//! poll, each kind of conflict, bad bodies and credentials (a clear 4xx, nothing changed), and
//! `passdesk hub nodes | conflicts`. Two hub processes over one PostgreSQL: `hub_chain.rs`.

mod hub_support;

use hub_support::{ledger, redeem, scan, Db, HubProc, Scan};
use serde_json::{json, Value};

macro_rules! both_engines {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $case() { super::$case(&super::Db::sqlite()); } )*
        }
        mod postgres {
            $( #[test] fn $case() { super::$case(&super::Db::postgres()); } )*
        }
    };
}

both_engines!(
    a_token_enrolls_once_and_the_node_key_goes_into_the_log,
    expired_unknown_and_taken_enrollments_are_refused_and_change_nothing,
    changes_pushed_by_one_node_are_pulled_by_the_others,
    a_replayed_push_is_counted_as_duplicates_and_appends_nothing,
    foreign_and_unpushable_changes_are_rejected_and_the_rest_accepted,
    a_waiting_pull_wakes_on_a_push_and_an_idle_one_answers_empty,
    a_single_entry_ticket_admitted_at_two_offline_gates_is_a_double_admission,
    entry_exit_inside_twice_is_a_double_admission_but_in_and_out_is_not,
    a_reward_redeemed_at_two_tills_is_a_double_redemption,
    offline_redemptions_over_the_daily_cap_are_a_conflict,
    spending_below_zero_after_the_merge_is_a_negative_balance,
    bad_bodies_and_credentials_get_a_clear_4xx_and_change_nothing,
    imported_passes_and_their_catalogue_come_down_to_every_counter,
);

fn a_token_enrolls_once_and_the_node_key_goes_into_the_log(db: &Db) {
    let hub = HubProc::start(db);
    let health = hub.send("GET", "/sync/v1/health", None, None);
    assert_eq!(health.status, 200, "{health:?}");
    assert_eq!(health.body["ok"], true);
    assert_eq!(health.body["protocol"], "v1");
    let hub_id = health.body["hubId"].as_str().unwrap().to_owned();

    let token = hub.token("Gate A");
    let r = hub.enroll_raw(&token, "gate-a");
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["nodeId"], "gate-a");
    assert_eq!(r.body["nodeName"], "Gate A");
    assert_eq!(r.body["hubId"], hub_id);
    let credential = r.body["credential"].as_str().unwrap().to_owned();

    let again = hub.enroll_raw(&token, "gate-b");
    assert_eq!(again.status, 401, "{again:?}");
    assert_eq!(again.body["error"]["code"], "bad_token");
    assert!(again.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("used"));

    // The credential works; the node key is in the log for every counter.
    let gate_a = hub_support::Node {
        id: "gate-a".into(),
        credential,
    };
    let b = hub.enroll("Gate B", "gate-b");
    let log = hub.pull_all(&b);
    let keys: Vec<&Value> = log.iter().filter(|c| c["kind"] == "nodeKey").collect();
    assert_eq!(keys.len(), 2, "{log:?}");
    assert_eq!(keys[0]["nodeId"], "hub");
    assert_eq!(keys[0]["data"]["nodeId"], "gate-a");
    assert_eq!(keys[0]["data"]["nodeName"], "Gate A");
    assert_eq!(keys[0]["data"]["publicKey"], hub_support::PUBLIC_KEY);
    assert_eq!(keys[1]["data"]["nodeId"], "gate-b");
    let from_a = hub.pull(&gate_a, 0, None, 0);
    assert_eq!(from_a.status, 200, "{from_a:?}");

    let nodes = hub.nodes();
    assert_eq!(nodes.len(), 2, "{nodes:?}");
    assert_eq!(nodes[0]["nodeId"], "gate-a");
    assert_eq!(nodes[0]["name"], "Gate A");
    assert!(nodes[0]["enrolledAt"].is_string());
    assert!(nodes[0]["lastContactAt"].is_string());
}

fn expired_unknown_and_taken_enrollments_are_refused_and_change_nothing(db: &Db) {
    let hub = HubProc::start(db);
    let a = hub.enroll("Gate A", "gate-a");
    let before = hub.pull_all(&a);

    // A token made 25 hours ago has expired (the enroll command run on a clock a day behind).
    let old = hub.token_made_ago("25h", "Gate Old");
    let r = hub.enroll_raw(&old, "gate-old");
    assert_eq!(r.status, 401, "{r:?}");
    assert_eq!(r.body["error"]["code"], "bad_token");
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));

    let r = hub.enroll_raw("pdhe_not-a-token", "gate-x");
    assert_eq!(r.status, 401, "{r:?}");
    assert_eq!(r.body["error"]["code"], "bad_token");

    // The node id is taken: refused, and the token is still good for another node.
    let token = hub.token("Gate A again");
    let r = hub.enroll_raw(&token, "gate-a");
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["error"]["code"], "node_taken");
    // A malformed key: 400 naming the field, the token not used either.
    let r = hub.send(
        "POST",
        "/sync/v1/enroll",
        None,
        Some(json!({"token": token, "nodeId": "gate-c", "keyId": "k1", "publicKey": "AAAA"})),
    );
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(r.body["error"]["code"], "bad_request");
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("publicKey"));
    assert_eq!(hub.pull_all(&a), before, "nothing was written");
    assert_eq!(hub.nodes().len(), 1);

    let r = hub.enroll_raw(&token, "gate-c");
    assert_eq!(
        r.status, 201,
        "the refused attempts left the token unused: {r:?}"
    );
}

fn changes_pushed_by_one_node_are_pulled_by_the_others(db: &Db) {
    let hub = HubProc::start(db);
    let a = hub.enroll("Gate A", "gate-a");
    let b = hub.enroll("Gate B", "gate-b");
    let scan_a = scan(&a, &Scan::entry("pass-1"));
    let pass_a = hub_support::pass(&a, "pass-2");
    let op = ledger(&a, "pass-3", &[("earn", 50, None)], false, None);
    let r = hub.push(&a, &[scan_a.clone(), pass_a.clone(), op.clone()]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["accepted"], 3);
    assert_eq!(r.body["duplicates"], 0);
    assert_eq!(r.body["rejected"], json!([]));
    assert_eq!(r.body["conflicts"], 0);

    let at_b = hub.pull_all(&b);
    let ids: Vec<&str> = at_b.iter().map(|c| c["id"].as_str().unwrap()).collect();
    for pushed in [&scan_a, &pass_a, &op] {
        assert!(ids.contains(&pushed["id"].as_str().unwrap()), "{ids:?}");
    }
    let scan_at_b = at_b.iter().find(|c| c["id"] == scan_a["id"]).unwrap();
    assert_eq!(
        scan_at_b["data"], scan_a["data"],
        "the change comes down as it went up"
    );
    assert_eq!(scan_at_b["nodeId"], "gate-a");
    let seqs: Vec<i64> = at_b.iter().map(|c| c["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    // A's own scan and ledger operation are left out for A, its pass is not; the cursor moves
    // past all of them.
    let whole = hub.pull(&a, 0, None, 0);
    let own: Vec<&str> = whole.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(!own.contains(&scan_a["id"].as_str().unwrap()));
    assert!(!own.contains(&op["id"].as_str().unwrap()));
    assert!(own.contains(&pass_a["id"].as_str().unwrap()));
    assert_eq!(whole.body["cursor"], *seqs.last().unwrap());
    assert_eq!(whole.body["more"], false);
    assert!(whole.body["hubTime"].is_string());

    // Paging: one at a time, `more` until the end, the same log.
    let mut cursor = 0;
    let mut paged = Vec::new();
    loop {
        let page = hub.pull(&b, cursor, Some(1), 0);
        assert_eq!(page.status, 200, "{page:?}");
        paged.extend(page.body["changes"].as_array().unwrap().iter().cloned());
        cursor = page.body["cursor"].as_i64().unwrap();
        if page.body["more"] == false {
            break;
        }
    }
    assert_eq!(paged, at_b);
}

fn a_replayed_push_is_counted_as_duplicates_and_appends_nothing(db: &Db) {
    let hub = HubProc::start(db);
    let a = hub.enroll("Gate A", "gate-a");
    let b = hub.enroll("Gate B", "gate-b");
    let batch = vec![
        scan(&a, &Scan::entry("pass-1")),
        scan(&a, &Scan::entry("pass-2")),
    ];
    assert_eq!(hub.push(&a, &batch).body["accepted"], 2);
    let log = hub.pull_all(&b);
    let r = hub.push(&a, &batch);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["accepted"], 0);
    assert_eq!(r.body["duplicates"], 2);
    // The same id twice in one push: once.
    let c = scan(&a, &Scan::entry("pass-3"));
    let r = hub.push(&a, &[c.clone(), c]);
    assert_eq!(r.body["accepted"], 1, "{r:?}");
    assert_eq!(r.body["duplicates"], 1);
    assert_eq!(hub.pull_all(&b).len(), log.len() + 1);
}

fn foreign_and_unpushable_changes_are_rejected_and_the_rest_accepted(db: &Db) {
    let hub = HubProc::start(db);
    let a = hub.enroll("Gate A", "gate-a");
    let b = hub.enroll("Gate B", "gate-b");
    let good = scan(&a, &Scan::entry("pass-1"));
    let foreign = scan(&b, &Scan::entry("pass-2"));
    let template = json!({
        "id": hub_support::new_id(), "nodeId": "gate-a", "at": hub_support::AT,
        "kind": "template",
        "data": {"id": "t1", "name": "T", "passType": "eventTicket", "design": null}
    });
    let mut not_uuid = scan(&a, &Scan::entry("pass-3"));
    not_uuid["id"] = json!("not-a-uuid");
    let r = hub.push(
        &a,
        &[foreign.clone(), good.clone(), template.clone(), not_uuid],
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["accepted"], 1);
    let rejected = r.body["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 3, "{r:?}");
    assert_eq!(rejected[0]["id"], foreign["id"]);
    assert!(rejected[0]["reason"]
        .as_str()
        .unwrap()
        .contains("not this node's change"));
    assert_eq!(rejected[1]["id"], template["id"]);
    assert!(rejected[1]["reason"]
        .as_str()
        .unwrap()
        .contains("kind template is not pushed by counters"));
    assert_eq!(rejected[2]["id"], "not-a-uuid");
    let at_b: Vec<Value> = hub.pull_all(&b);
    assert!(at_b.iter().any(|c| c["id"] == good["id"]));
    assert!(!at_b
        .iter()
        .any(|c| c["id"] == template["id"] || c["id"] == foreign["id"]));
}

fn a_waiting_pull_wakes_on_a_push_and_an_idle_one_answers_empty(db: &Db) {
    let hub = HubProc::start(db);
    let a = hub.enroll("Gate A", "gate-a");
    let b = hub.enroll("Gate B", "gate-b");
    let cursor = hub.pull(&b, 0, None, 0).body["cursor"].as_i64().unwrap();

    // Nothing new: after `wait` an empty page, the cursor where it was.
    let idle = hub.pull(&b, cursor, None, 1);
    assert_eq!(idle.status, 200, "{idle:?}");
    assert_eq!(idle.body["changes"], json!([]));
    assert_eq!(idle.body["cursor"], cursor);
    assert_eq!(idle.body["more"], false);

    // A pull waiting up to 30 s answers with A's scan: woken by the push (a page that timed
    // out would be empty), whichever of the two reached the hub first.
    let change = scan(&a, &Scan::entry("pass-1"));
    let waited = std::thread::scope(|s| {
        let waiting = s.spawn(|| hub.pull(&b, cursor, None, 30));
        assert_eq!(hub.push(&a, [&change]).body["accepted"], 1);
        waiting.join().unwrap()
    });
    assert_eq!(waited.status, 200, "{waited:?}");
    let changes = waited.body["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{waited:?}");
    assert_eq!(changes[0]["id"], change["id"]);
}

fn a_single_entry_ticket_admitted_at_two_offline_gates_is_a_double_admission(db: &Db) {
    let hub = HubProc::start(db);
    let a = hub.enroll("Gate A", "gate-a");
    let b = hub.enroll("Gate B", "gate-b");
    let c = hub.enroll("Gate C", "gate-c");
    let at_a = scan(
        &a,
        &Scan::entry("ticket-1")
            .single()
            .offline()
            .at("2026-12-01T19:42:10Z"),
    );
    let at_b = scan(
        &b,
        &Scan::entry("ticket-1")
            .single()
            .offline()
            .at("2026-12-01T19:44:00Z"),
    );
    // Another ticket admitted once, and a refused scan: no conflict.
    let other = scan(&b, &Scan::entry("ticket-2").single().offline());
    let refused = scan(&a, &Scan::entry("ticket-2").single().refused());
    assert_eq!(hub.push(&a, &[at_a.clone(), refused]).body["conflicts"], 0);
    let r = hub.push(&b, &[at_b.clone(), other]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["accepted"], 2);
    assert_eq!(r.body["conflicts"], 1);

    let conflicts = hub.conflicts();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    let conflict = &conflicts[0];
    assert_eq!(conflict["kind"], "doubleAdmission");
    assert_eq!(conflict["passId"], "ticket-1");
    assert_eq!(conflict["first"]["nodeId"], "gate-a");
    assert_eq!(conflict["first"]["nodeName"], "Gate A");
    assert_eq!(conflict["first"]["refId"], at_a["data"]["scanId"]);
    assert_eq!(conflict["first"]["changeId"], at_a["id"]);
    assert_eq!(conflict["first"]["offline"], true);
    assert_eq!(conflict["first"]["readerName"], "Gate 1");
    assert_eq!(conflict["flagged"]["nodeId"], "gate-b");
    assert_eq!(conflict["flagged"]["refId"], at_b["data"]["scanId"]);
    assert_eq!(
        conflict["message"],
        "Admitted at Gate A at 19:42 UTC while offline"
    );

    // Both scans stay in the log, the conflict after the flagged one, for every counter.
    let log = hub.pull_all(&c);
    let pos = |id: &Value| log.iter().position(|x| x["id"] == *id).unwrap();
    let conflict_change = log.iter().find(|x| x["kind"] == "conflict").unwrap();
    assert_eq!(conflict_change["nodeId"], "hub");
    assert_eq!(conflict_change["data"], *conflict);
    assert!(pos(&at_a["id"]) < pos(&at_b["id"]));
    assert!(pos(&at_b["id"]) < pos(&conflict_change["id"]));
    // The flagged gate learns it too (the conflict is not its own change).
    assert!(hub.pull_all(&b).iter().any(|x| x["kind"] == "conflict"));

    // A replay of B's push finds no new conflict; a third gate admitting it is another one,
    // against the first admission.
    assert_eq!(hub.push(&b, &[at_b]).body["conflicts"], 0);
    let at_c = scan(&c, &Scan::entry("ticket-1").single());
    assert_eq!(hub.push(&c, &[at_c]).body["conflicts"], 1);
    let conflicts = hub.conflicts();
    assert_eq!(conflicts.len(), 2);
    assert_eq!(conflicts[1]["first"]["nodeId"], "gate-a");
    assert_eq!(conflicts[1]["flagged"]["nodeId"], "gate-c");
    assert_eq!(conflicts[1]["flagged"]["offline"], false);
}

fn entry_exit_inside_twice_is_a_double_admission_but_in_and_out_is_not(db: &Db) {
    let hub = HubProc::start(db);
    let a = hub.enroll("Gate A", "gate-a");
    let b = hub.enroll("Gate B", "gate-b");
    // In at A and out at A, then in at B: fine.
    let in_out = [
        scan(&a, &Scan::entry("season-1").entry_exit()),
        scan(&a, &Scan::exit("season-1").entry_exit()),
    ];
    assert_eq!(hub.push(&a, &in_out).body["conflicts"], 0);
    let r = hub.push(&b, &[scan(&b, &Scan::entry("season-1").entry_exit())]);
    assert_eq!(r.body["conflicts"], 0, "{r:?}");
    // Now inside (since B): in again at A while offline is inside twice.
    let r = hub.push(
        &a,
        &[scan(&a, &Scan::entry("season-1").entry_exit().offline())],
    );
    assert_eq!(r.body["conflicts"], 1, "{r:?}");
    let conflict = &hub.conflicts()[0];
    assert_eq!(conflict["kind"], "doubleAdmission");
    assert_eq!(conflict["first"]["nodeId"], "gate-b");
    assert_eq!(conflict["flagged"]["nodeId"], "gate-a");
    // A multiple-entry pass without a limit never conflicts.
    let free = [
        scan(&a, &Scan::entry("free-1").multiple(None)),
        scan(&a, &Scan::entry("free-1").multiple(None)),
    ];
    hub.push(&a, &free);
    let r = hub.push(&b, &[scan(&b, &Scan::entry("free-1").multiple(None))]);
    assert_eq!(r.body["conflicts"], 0);
    // With a limit of 2: the third entry across nodes is one too many.
    hub.push(&a, &[scan(&a, &Scan::entry("two-1").multiple(Some(2)))]);
    let r = hub.push(&b, &[scan(&b, &Scan::entry("two-1").multiple(Some(2)))]);
    assert_eq!(r.body["conflicts"], 0);
    let r = hub.push(&b, &[scan(&b, &Scan::entry("two-1").multiple(Some(2)))]);
    assert_eq!(r.body["conflicts"], 1);
    assert_eq!(hub.conflicts().len(), 2);
}

fn a_reward_redeemed_at_two_tills_is_a_double_redemption(db: &Db) {
    let hub = HubProc::start(db);
    let a = hub.enroll("Till 1", "till-1");
    let b = hub.enroll("Till 2", "till-2");
    let first = redeem(&b, "card-1", "reward-1", false, "2026-12-01T10:05:00Z");
    let second = redeem(&a, "card-1", "reward-1", true, "2026-12-01T10:07:00Z");
    assert_eq!(hub.push(&b, [&first]).body["conflicts"], 0);
    let r = hub.push(&a, [&second]);
    assert_eq!(r.body["conflicts"], 1, "{r:?}");
    let conflict = &hub.conflicts()[0];
    assert_eq!(conflict["kind"], "doubleRedemption");
    assert_eq!(conflict["passId"], "card-1");
    assert_eq!(conflict["first"]["refId"], first["data"]["opId"]);
    assert_eq!(conflict["flagged"]["refId"], second["data"]["opId"]);
    assert_eq!(conflict["flagged"]["offline"], true);
    assert_eq!(
        conflict["message"],
        "Reward redeemed at Till 2 at 10:05 UTC"
    );
    // Another reward of the same card: no conflict.
    let r = hub.push(
        &a,
        &[redeem(&a, "card-1", "reward-2", false, hub_support::AT)],
    );
    assert_eq!(r.body["conflicts"], 0);
}

fn offline_redemptions_over_the_daily_cap_are_a_conflict(db: &Db) {
    let hub = HubProc::start(db);
    let a = hub.enroll("Till 1", "till-1");
    let b = hub.enroll("Till 2", "till-2");
    let capped = |node, reward: &str, at: &str| {
        let mut op = redeem(node, "card-1", reward, true, at);
        op["data"]["offlineRedemptionsPerDay"] = json!(1);
        op
    };
    let at_a = capped(&a, "r-1", "2026-12-01T09:00:00Z");
    let at_b = capped(&b, "r-2", "2026-12-01T18:30:00Z");
    let next_day = capped(&b, "r-3", "2026-12-02T09:00:00Z");
    assert_eq!(hub.push(&a, [&at_a]).body["conflicts"], 0);
    let r = hub.push(&b, &[next_day, at_b.clone()]);
    assert_eq!(r.body["conflicts"], 1, "{r:?}");
    let conflict = &hub.conflicts()[0];
    assert_eq!(conflict["kind"], "offlineRedemptionCap");
    assert_eq!(conflict["first"]["refId"], at_a["data"]["opId"]);
    assert_eq!(conflict["flagged"]["refId"], at_b["data"]["opId"]);
    let message = conflict["message"].as_str().unwrap();
    assert!(message.contains("2026-12-01"), "{message}");
    assert!(
        message.contains("Till 1 at 09:00 UTC while offline"),
        "{message}"
    );
}

fn spending_below_zero_after_the_merge_is_a_negative_balance(db: &Db) {
    let hub = HubProc::start(db);
    let a = hub.enroll("Till 1", "till-1");
    let b = hub.enroll("Till 2", "till-2");
    let earn = ledger(&a, "card-1", &[("earn", 100, None)], false, None);
    let spend_a = ledger(&a, "card-1", &[("adjust", -80, None)], true, None);
    assert_eq!(hub.push(&a, &[earn, spend_a.clone()]).body["conflicts"], 0);
    let spend_b = ledger(&b, "card-1", &[("adjust", -50, None)], true, None);
    let r = hub.push(&b, [&spend_b]);
    assert_eq!(r.body["conflicts"], 1, "{r:?}");
    let conflict = &hub.conflicts()[0];
    assert_eq!(conflict["kind"], "negativeBalance");
    assert_eq!(conflict["first"]["refId"], spend_a["data"]["opId"]);
    assert_eq!(conflict["flagged"]["refId"], spend_b["data"]["opId"]);
    assert!(conflict["message"]
        .as_str()
        .unwrap()
        .starts_with("Balance -30 points after the merge"));
    // Earning it back is not a conflict.
    let r = hub.push(
        &b,
        &[ledger(&b, "card-1", &[("earn", 40, None)], false, None)],
    );
    assert_eq!(r.body["conflicts"], 0);
}

fn bad_bodies_and_credentials_get_a_clear_4xx_and_change_nothing(db: &Db) {
    let hub = HubProc::start(db);
    let a = hub.enroll("Gate A", "gate-a");
    let b = hub.enroll("Gate B", "gate-b");
    let log = hub.pull_all(&b);
    let one = json!({"changes": [scan(&a, &Scan::entry("pass-1"))]});

    let no_key = hub.send("POST", "/sync/v1/push", None, Some(one.clone()));
    assert_eq!(no_key.status, 401, "{no_key:?}");
    assert_eq!(no_key.body["error"]["code"], "unauthorized");
    let wrong = hub.send(
        "POST",
        "/sync/v1/push",
        Some("pdhn_wrong"),
        Some(one.clone()),
    );
    assert_eq!(wrong.status, 401, "{wrong:?}");
    assert_eq!(wrong.body["error"]["code"], "unauthorized");
    let token_as_key = hub.token("Gate Z");
    let r = hub.send("GET", "/sync/v1/changes", Some(&token_as_key), None);
    assert_eq!(r.status, 401, "{r:?}");

    let garbage = hub.send_bytes("/sync/v1/push", &a.credential, b"{\"changes\": [");
    assert_eq!(garbage.status, 400, "{garbage:?}");
    assert_eq!(garbage.body["error"]["code"], "bad_request");

    let mut missing = scan(&a, &Scan::entry("pass-1"));
    missing["data"].as_object_mut().unwrap().remove("scanId");
    let r = hub.push(&a, &[missing]);
    assert_eq!(r.status, 400, "{r:?}");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("scanId"),
        "{r:?}"
    );

    let wrong_type = json!({"changes": [{"id": 1}]});
    let r = hub.send(
        "POST",
        "/sync/v1/push",
        Some(&a.credential),
        Some(wrong_type),
    );
    assert_eq!(r.status, 400, "{r:?}");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/changes/0"),
        "{r:?}"
    );

    let too_many: Vec<Value> = (0..1001)
        .map(|_| scan(&a, &Scan::entry("pass-9")))
        .collect();
    let r = hub.push(&a, &too_many);
    assert_eq!(r.status, 413, "{r:?}");
    assert_eq!(r.body["error"]["code"], "too_large");

    let r = hub.send(
        "GET",
        "/sync/v1/changes?after=abc",
        Some(&b.credential),
        None,
    );
    assert_eq!(r.status, 400, "{r:?}");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("after"),
        "{r:?}"
    );
    let r = hub.send(
        "GET",
        "/sync/v1/changes?colour=red",
        Some(&b.credential),
        None,
    );
    assert_eq!(r.status, 400, "{r:?}");

    let r = hub.send("GET", "/sync/v1/nowhere", None, None);
    assert_eq!(r.status, 404, "{r:?}");
    assert_eq!(r.body["error"]["code"], "not_found");

    assert_eq!(hub.pull_all(&b), log, "nothing was appended");
    assert!(hub.conflicts().is_empty());
    // The hub lives on.
    assert_eq!(
        hub.push(&a, &[scan(&a, &Scan::entry("pass-1"))]).body["accepted"],
        1
    );
}

#[test]
fn the_openapi_document_lists_every_route() {
    let db = Db::sqlite();
    let hub = HubProc::start(&db);
    let r = hub.send("GET", "/sync/v1/openapi.json", None, None);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["openapi"], "3.1.0");
    let paths = r.body["paths"].as_object().unwrap();
    for (path, method) in [
        ("/sync/v1/health", "get"),
        ("/sync/v1/openapi.json", "get"),
        ("/sync/v1/enroll", "post"),
        ("/sync/v1/push", "post"),
        ("/sync/v1/changes", "get"),
    ] {
        assert!(paths[path][method].is_object(), "{path} {method}");
    }
    let schemas = r.body["components"]["schemas"].as_object().unwrap();
    for name in [
        "PushRequest",
        "PullResponse",
        "EnrollRequest",
        "ConflictRecord",
        "ErrorBody",
    ] {
        assert!(schemas.contains_key(name), "{name}");
    }
}

/// A PassEntry pass line, as `passdesk import` reads it.
fn pass_line(id: &str, barcode: &str, extra: Value) -> String {
    let mut attributes = json!({
        "passType": "eventTicket", "status": "issued", "extId": format!("ext-{id}"),
        "passTemplateUuid": "tpl-1", "passTemplateName": "Gig Ticket",
        "eventUuid": "ev-1", "eventName": "The Gig",
        "barcode": {"type": "qrCode", "value": barcode, "displayText": true},
        "passContent": {"fullName": format!("Holder {id}")},
        "createdAt": "2026-01-01T10:00:00Z"
    });
    attributes
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({"id": id, "type": "pass", "attributes": attributes}).to_string()
}

fn imported_passes_and_their_catalogue_come_down_to_every_counter(db: &Db) {
    let hub = HubProc::start(db);
    let a = hub.enroll("Gate A", "gate-a");
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("passes.jsonl");
    let lines = [
        pass_line("p1", "GIG-1", json!({})),
        pass_line("p2", "GIG-2", json!({})),
        pass_line("p3", "GIG-3", json!({"status": "voided"})),
    ];
    std::fs::write(&good, lines.join("\n")).unwrap();
    let summary = passdesk_tests::last_json(&hub.ok(&["import", good.to_str().unwrap()]));
    assert_eq!(summary["lines"], 3, "{summary}");
    assert_eq!(summary["passes"], 3, "{summary}");
    assert!(summary["changes"].as_u64().unwrap() >= 5, "{summary}");

    let log = hub.pull_all(&a);
    let of = |kind: &str| -> Vec<&Value> { log.iter().filter(|c| c["kind"] == kind).collect() };
    let passes = of("pass");
    assert_eq!(passes.len(), 3, "{log:?}");
    assert!(passes.iter().all(|c| c["nodeId"] == "hub"));
    let p3 = passes.iter().find(|c| c["data"]["id"] == "p3").unwrap();
    assert_eq!(p3["data"]["status"], "voided");
    assert_eq!(p3["data"]["template"]["id"], "tpl-1");
    assert_eq!(of("template")[0]["data"]["id"], "tpl-1");
    assert_eq!(of("event")[0]["data"]["id"], "ev-1");

    // A bad line: the whole file refused, naming the line, the hub unchanged.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        format!("{}\n{{not json", pass_line("p4", "GIG-4", json!({}))),
    )
    .unwrap();
    let out = hub.run(&["import", bad.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        passdesk_tests::describe(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(stderr.contains("hub unchanged"), "{stderr}");
    assert_eq!(hub.pull_all(&a), log);
}

#[test]
fn routes_without_a_credential_are_rate_limited_per_address_and_the_rest_are_not() {
    let db = Db::sqlite();
    let hub = HubProc::start(&db);
    let a = hub.enroll("Gate A", "gate-a");
    // The burst is 60 and refills at 10 a second: well before 2,000 requests one is refused.
    let limited = (0..2000)
        .map(|_| hub.send("GET", "/sync/v1/health", None, None))
        .find(|r| r.status != 200)
        .expect("a 429 within 2,000 requests");
    assert_eq!(limited.status, 429, "{limited:?}");
    assert_eq!(limited.body["error"]["code"], "rate_limited");
    assert!(limited.header("retry-after").parse::<u64>().unwrap() >= 1);
    // A node with its credential goes on.
    let r = hub.pull(&a, 0, None, 0);
    assert_eq!(r.status, 200, "{r:?}");
}
