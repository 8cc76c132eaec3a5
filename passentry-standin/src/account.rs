//! What a PassEntry account holds, in memory: passes (newest first, as the seed's list page
//! orders them), pass templates, events, the scans logged to it, and each pass's loyalty
//! balance. Shapes are the seed's: a pass is `{"id", "type": "pass", "attributes": {...}}` and
//! a single pass answers `meta.loyalty.balance` when it is a store card.

use chrono::{DateTime, Duration, SecondsFormat, TimeZone, Utc};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// The seeded ticket template's id (24 hex digits, as the seed's `passTemplateUuid`s).
pub const TICKET_TEMPLATE: &str = "5d1e7a9c3b2f4e6a8c0d1f2e";
/// The seeded store-card template's id.
pub const CARD_TEMPLATE: &str = "7b3c9e1a5d2f4a6c8e0b1d3f";
/// The seeded event's id (12 hex digits, as the seed's event ids).
pub const EVENT: &str = "4a7d2c9e1b3f";
/// Every tenth seeded pass (`i % 10 == 9`) is a store card; the rest are tickets.
pub const CARD_EVERY: u64 = 10;

/// A pass as the account keeps it.
#[derive(Debug, Clone)]
pub(crate) struct PassRow {
    pub created_at: DateTime<Utc>,
    /// Order among passes created in the same second: insertion order.
    pub seq: u64,
    pub id: String,
    /// The seed's pass attributes, `createdAt` included.
    pub attributes: Map<String, Value>,
    /// `Some` for a pass with a loyalty balance (every `storeCard`).
    pub balance: Option<i64>,
}

impl PassRow {
    fn key(&self) -> (DateTime<Utc>, u64) {
        (self.created_at, self.seq)
    }

    /// The JSON:API resource object, as in a list page.
    pub fn resource(&self) -> Value {
        json!({"id": self.id, "type": "pass", "attributes": self.attributes})
    }

    /// The single-pass document: the resource, and `meta.loyalty.balance` for a loyalty pass.
    pub fn document(&self) -> Value {
        match self.balance {
            Some(b) => json!({"data": self.resource(), "meta": {"loyalty": {"balance": b}}}),
            None => json!({"data": self.resource()}),
        }
    }
}

/// A scan logged through `POST /api/v1/scans/log`.
#[derive(Debug, Clone)]
pub(crate) struct ScanRow {
    pub id: String,
    pub pass_id: String,
    pub attributes: Map<String, Value>,
}

impl ScanRow {
    pub fn resource(&self) -> Value {
        json!({"id": self.id, "type": "scan", "attributes": self.attributes})
    }
}

#[derive(Debug, Default)]
pub(crate) struct Account {
    /// Ascending by (createdAt, seq); pages are read from the end (newest first).
    passes: Vec<PassRow>,
    /// Pass id → its sort key, to find it by binary search.
    index: HashMap<String, (DateTime<Utc>, u64)>,
    next_seq: u64,
    /// Passes made by [`Account::seed`] so far (the next seeded pass's number).
    seeded: u64,
    pub templates: Vec<Value>,
    pub events: Vec<Value>,
    /// In the order logged.
    pub scans: Vec<ScanRow>,
}

/// A time as the seed writes it: `2022-01-08T00:00:00Z`.
pub fn seed_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The seeded pass number `i`'s id: UUID-shaped, as the seed's list page ids.
pub fn seeded_id(i: u64) -> String {
    format!("{:08x}-5e3d-4c1a-9b7e-{:012x}", i >> 16, i)
}

/// The seeded pass number `i`'s barcode value.
pub fn seeded_barcode(i: u64) -> String {
    format!("PE-{i:08}")
}

/// Whether seeded pass number `i` is a store card (a loyalty balance) rather than a ticket.
pub fn seeded_is_card(i: u64) -> bool {
    i % CARD_EVERY == CARD_EVERY - 1
}

impl Account {
    pub fn len(&self) -> usize {
        self.passes.len()
    }

    fn position(&self, id: &str) -> Option<usize> {
        let key = self.index.get(id)?;
        self.passes.binary_search_by_key(key, PassRow::key).ok()
    }

    pub fn pass(&self, id: &str) -> Option<&PassRow> {
        self.position(id).map(|i| &self.passes[i])
    }

    pub fn pass_mut(&mut self, id: &str) -> Option<&mut PassRow> {
        self.position(id).map(|i| &mut self.passes[i])
    }

    /// The `n`-th pass from the newest (0 = newest).
    pub fn newest(&self, n: usize) -> Option<&PassRow> {
        self.passes
            .len()
            .checked_sub(n + 1)
            .map(|i| &self.passes[i])
    }

    /// Every pass, newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = &PassRow> {
        self.passes.iter().rev()
    }

    /// Adds a pass with these attributes (the seed's pass attributes). `createdAt` is taken
    /// from them when present and valid, otherwise now. A `storeCard` starts at balance 0.
    /// False when the id is taken.
    pub fn insert(&mut self, id: String, mut attributes: Map<String, Value>) -> bool {
        if self.index.contains_key(&id) {
            return false;
        }
        let created_at = attributes
            .get("createdAt")
            .and_then(Value::as_str)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map_or_else(Utc::now, |t| t.with_timezone(&Utc));
        attributes.insert("createdAt".into(), seed_time(created_at).into());
        let balance =
            (attributes.get("passType").and_then(Value::as_str) == Some("storeCard")).then_some(0);
        let row = PassRow {
            created_at,
            seq: self.next_seq,
            id: id.clone(),
            attributes,
            balance,
        };
        self.next_seq += 1;
        let at = self.passes.partition_point(|p| p.key() < row.key());
        self.index.insert(id, row.key());
        self.passes.insert(at, row);
        true
    }

    /// Deletes a pass (as deleting it in PassEntry's dashboard); its logged scans stay.
    pub fn delete(&mut self, id: &str) -> bool {
        match self.position(id) {
            Some(i) => {
                self.passes.remove(i);
                self.index.remove(id);
                true
            }
            None => false,
        }
    }

    fn ensure_seed_catalogue(&mut self) {
        if !self.templates.is_empty() {
            return;
        }
        self.templates.push(template(
            TICKET_TEMPLATE,
            "Stand-in Ticketing",
            "Stand-in event ticket",
            "eventTicket",
        ));
        self.templates.push(template(
            CARD_TEMPLATE,
            "Stand-in Store",
            "Stand-in loyalty card",
            "storeCard",
        ));
        let now = Utc::now();
        self.events.push(json!({
            "id": EVENT,
            "type": "event",
            "attributes": {
                "name": "Stand-in Live",
                "venueName": "The Stand-in Theatre",
                "startTime": seed_time(now - Duration::days(1)),
                "endTime": seed_time(now + Duration::days(30)),
                "timeZone": "UTC",
                "status": "live",
            },
            "meta": {"passesCount": 0},
        }));
    }

    /// Adds `n` passes (numbered on from the ones seeded before): tickets of the seeded event,
    /// every tenth a store card, each with a QR barcode [`seeded_barcode`]. Their `createdAt`
    /// are one second apart from 2024-01-01, so a later seeded pass is newer. Seeding 100,000
    /// passes takes well under a second in a release build.
    pub fn seed(&mut self, n: u64) {
        self.ensure_seed_catalogue();
        let base = Utc
            .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
            .single()
            .expect("a valid date");
        self.passes.reserve(n as usize);
        self.index.reserve(n as usize);
        for i in self.seeded..self.seeded + n {
            let card = seeded_is_card(i);
            let created_at = base + Duration::seconds(i as i64);
            let mut attributes = Map::with_capacity(12);
            let (kind, template, template_name) = if card {
                ("storeCard", CARD_TEMPLATE, "Stand-in Store")
            } else {
                ("eventTicket", TICKET_TEMPLATE, "Stand-in Ticketing")
            };
            attributes.insert("passType".into(), kind.into());
            attributes.insert("createdAt".into(), seed_time(created_at).into());
            attributes.insert(
                "status".into(),
                if card { "active" } else { "issued" }.into(),
            );
            attributes.insert("extId".into(), format!("ext-{i}").into());
            attributes.insert("passTemplateUuid".into(), template.into());
            attributes.insert("passTemplateName".into(), template_name.into());
            if !card {
                // Not in the seed's pass example, but its list filters by `eventUuid`: a pass
                // of an event carries it.
                attributes.insert("eventUuid".into(), EVENT.into());
            }
            attributes.insert("nfc".into(), Value::Null);
            attributes.insert(
                "barcode".into(),
                json!({"type": "qrCode", "value": seeded_barcode(i), "displayText": true}),
            );
            attributes.insert(
                "passContent".into(),
                json!({"fullName": format!("Holder {i}")}),
            );
            let id = seeded_id(i);
            let row = PassRow {
                created_at,
                seq: self.next_seq,
                id: id.clone(),
                attributes,
                balance: card.then_some(0),
            };
            self.next_seq += 1;
            self.index.insert(id, row.key());
            // Seeded passes are newer than every earlier seeded one; a pass added by hand
            // with a later createdAt stays after them.
            if self.passes.last().is_none_or(|p| p.key() < row.key()) {
                self.passes.push(row);
            } else {
                let at = self.passes.partition_point(|p| p.key() < row.key());
                self.passes.insert(at, row);
            }
        }
        self.seeded += n;
    }

    /// Passes of an event (for its `meta.passesCount`).
    pub fn passes_of_event(&self, event: &str) -> usize {
        self.passes
            .iter()
            .filter(|p| p.attributes.get("eventUuid").and_then(Value::as_str) == Some(event))
            .count()
    }
}

fn template(id: &str, name: &str, description: &str, kind: &str) -> Value {
    json!({
        "id": id,
        "type": "passTemplate",
        "attributes": {
            "backgroundColor": "#EFEFEF",
            "name": name,
            "description": description,
            "labelColor": "#FF8477",
            "textColor": "#29323A",
            "templateType": kind,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_first_and_found_by_id_after_deletes() {
        let mut a = Account::default();
        a.seed(50);
        assert_eq!(a.newest(0).unwrap().id, seeded_id(49));
        assert!(a.delete(&seeded_id(10)));
        assert!(!a.delete(&seeded_id(10)));
        assert!(a.pass(&seeded_id(10)).is_none());
        assert_eq!(a.pass(&seeded_id(11)).unwrap().id, seeded_id(11));
        assert_eq!(a.len(), 49);
        let mut attrs = Map::new();
        attrs.insert("passType".into(), "storeCard".into());
        assert!(a.insert("new".into(), attrs));
        assert_eq!(a.newest(0).unwrap().id, "new");
        assert_eq!(a.pass("new").unwrap().balance, Some(0));
        assert!(!a.insert("new".into(), Map::new()));
    }
}
