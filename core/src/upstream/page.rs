//! One page of a PassEntry list (`GET /api/v1/passes`, `/pass-templates`, `/events`) read into
//! what the cache holds: JSON:API `data` (resource objects, parsed by the import's own
//! [`import::parse_resource`]), `meta` {totalCount, resultsPerPage, currentPage, totalPages}
//! checked against itself and against the page asked for. A page is whole or refused: any bad
//! item or lying `meta` refuses the page, so nothing of it is applied.

use crate::import::{self, ImportRecord};
use crate::time::Timestamp;
use serde_json::{Map, Value};

/// What a list holds: the type every item of its `data` must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pass,
    Template,
    Event,
}

impl Kind {
    /// The JSON:API `type` PassEntry gives its items.
    pub fn resource_type(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Template => "passTemplate",
            Self::Event => "event",
        }
    }

    /// The list's path under the API host.
    pub fn path(self) -> &'static str {
        match self {
            Self::Pass => "/api/v1/passes",
            Self::Template => "/api/v1/pass-templates",
            Self::Event => "/api/v1/events",
        }
    }
}

/// A page's `meta`, as PassEntry pages carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageMeta {
    pub total_count: u64,
    pub results_per_page: u64,
    pub current_page: u64,
    pub total_pages: u64,
}

impl PageMeta {
    /// No page after this one.
    pub fn is_last(&self) -> bool {
        self.current_page >= self.total_pages
    }
}

/// One item read: the record for the cache, and PassEntry's loyalty balance when the item
/// carries one (`meta.loyalty.balance`, as a pass answer does).
#[derive(Debug, Clone)]
pub struct Item {
    pub record: ImportRecord,
    pub balance: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Item>,
    pub meta: PageMeta,
}

/// Why a page was refused. Each says what was wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("the answer is not JSON: {0}")]
    NotJson(String),
    #[error("the answer is not a JSON:API list: {0}")]
    NotJsonApi(String),
    #[error("data[{index}]{}: {message}", id.as_deref().map(|i| format!(" (id {i:?})")).unwrap_or_default())]
    Item {
        index: usize,
        id: Option<String>,
        message: String,
    },
    #[error("the page's meta does not hold together: {0}")]
    Meta(String),
}

/// Reads page `asked` of a `kind` list. `now` stands in for times an item leaves out.
pub fn parse(body: &[u8], kind: Kind, asked: u64, now: Timestamp) -> Result<Page, PageError> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| PageError::NotJson(e.to_string()))?;
    let Value::Object(doc) = doc else {
        return Err(PageError::NotJsonApi("expected an object".into()));
    };
    let data = match doc.get("data") {
        Some(Value::Array(items)) => items,
        Some(_) => return Err(PageError::NotJsonApi("data: expected an array".into())),
        None => return Err(PageError::NotJsonApi("data: missing".into())),
    };
    let meta = match doc.get("meta") {
        Some(Value::Object(m)) => read_meta(m)?,
        Some(_) => return Err(PageError::NotJsonApi("meta: expected an object".into())),
        None => return Err(PageError::NotJsonApi("meta: missing".into())),
    };
    check_meta(&meta, asked, data.len())?;
    let items = data
        .iter()
        .enumerate()
        .map(|(index, v)| {
            read_item(v, kind, now).map_err(|(id, message)| PageError::Item { index, id, message })
        })
        .collect::<Result<_, _>>()?;
    Ok(Page { items, meta })
}

fn read_meta(m: &Map<String, Value>) -> Result<PageMeta, PageError> {
    let n = |key: &str| -> Result<u64, PageError> {
        match m.get(key) {
            Some(Value::Number(n)) => n.as_u64().ok_or_else(|| {
                PageError::NotJsonApi(format!("meta.{key}: expected a whole number ≥ 0, got {n}"))
            }),
            Some(_) => Err(PageError::NotJsonApi(format!(
                "meta.{key}: expected a number"
            ))),
            None => Err(PageError::NotJsonApi(format!("meta.{key}: missing"))),
        }
    };
    Ok(PageMeta {
        total_count: n("totalCount")?,
        results_per_page: n("resultsPerPage")?,
        current_page: n("currentPage")?,
        total_pages: n("totalPages")?,
    })
}

/// A page that says it is another page, holds more than it says a page holds, counts pages
/// that do not fit its total, or stops short before the last page, is not believed.
fn check_meta(meta: &PageMeta, asked: u64, len: usize) -> Result<(), PageError> {
    let len = len as u64;
    let lie = |what: String| Err(PageError::Meta(what));
    if meta.current_page != asked {
        return lie(format!(
            "page {asked} was asked for, currentPage is {}",
            meta.current_page
        ));
    }
    if meta.results_per_page == 0 {
        if len > 0 || meta.total_count > 0 {
            return lie(format!(
                "resultsPerPage is 0 with {len} items here and totalCount {}",
                meta.total_count
            ));
        }
        return Ok(());
    }
    if len > meta.results_per_page {
        return lie(format!(
            "{len} items, resultsPerPage is {}",
            meta.results_per_page
        ));
    }
    let pages = meta.total_count.div_ceil(meta.results_per_page);
    // An empty list may say 0 pages or 1.
    if meta.total_pages != pages && !(meta.total_count == 0 && meta.total_pages <= 1) {
        return lie(format!(
            "totalPages is {}, but totalCount {} at {} a page makes {pages}",
            meta.total_pages, meta.total_count, meta.results_per_page
        ));
    }
    if meta.current_page < meta.total_pages && len != meta.results_per_page {
        return lie(format!(
            "page {} of {} holds {len} items, not {}",
            meta.current_page, meta.total_pages, meta.results_per_page
        ));
    }
    if meta.current_page > meta.total_pages.max(1) && len > 0 {
        return lie(format!(
            "page {} is past the last ({}) and holds {len} items",
            meta.current_page, meta.total_pages
        ));
    }
    Ok(())
}

/// One item: a resource object of the list's type.
fn read_item(v: &Value, kind: Kind, now: Timestamp) -> Result<Item, (Option<String>, String)> {
    let Value::Object(obj) = v else {
        return Err((None, "expected a resource object".into()));
    };
    let id = obj
        .get("id")
        .and_then(Value::as_str)
        .map(|s| s.chars().take(64).collect());
    let fail = |message: String| (id.clone(), message);
    match obj.get("type").and_then(Value::as_str) {
        Some(t) if t == kind.resource_type() => {}
        Some(t) => {
            return Err(fail(format!(
                "type {:?} in a list of {:?}",
                t.chars().take(40).collect::<String>(),
                kind.resource_type()
            )))
        }
        None => return Err(fail("type: missing".into())),
    }
    let record = import::parse_resource(obj, now).map_err(fail)?;
    let balance = match obj
        .get("meta")
        .and_then(|m| m.get("loyalty"))
        .and_then(|l| l.get("balance"))
    {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.as_i64().ok_or_else(|| {
            fail(format!(
                "meta.loyalty.balance: expected a whole number, got {n}"
            ))
        })?),
        Some(_) => return Err(fail("meta.loyalty.balance: expected a number".into())),
    };
    Ok(Item { record, balance })
}

/// `meta.loyalty.balance` of a single pass answer (`GET /passes/{id}`, the loyalty PATCH).
pub fn pass_answer_balance(body: &[u8]) -> Result<Option<i64>, PageError> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| PageError::NotJson(e.to_string()))?;
    match doc.pointer("/meta/loyalty/balance") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| {
            PageError::NotJsonApi(format!(
                "meta.loyalty.balance: expected a whole number, got {n}"
            ))
        }),
        Some(_) => Err(PageError::NotJsonApi(
            "meta.loyalty.balance: expected a number".into(),
        )),
    }
}

/// The pass of a single pass answer (`GET /passes/{id}`), with its balance.
pub fn pass_answer(body: &[u8], now: Timestamp) -> Result<Item, PageError> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| PageError::NotJson(e.to_string()))?;
    let data = doc
        .get("data")
        .ok_or_else(|| PageError::NotJsonApi("data: missing".into()))?;
    let mut item = read_item(data, Kind::Pass, now).map_err(|(id, message)| PageError::Item {
        index: 0,
        id,
        message,
    })?;
    if item.balance.is_none() {
        item.balance = pass_answer_balance(body)?;
    }
    Ok(item)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_unix_ms(1_700_000_000_000);

    /// The seed's page (`GET /api/v1/passes`, page 1 of 2 at 5 a page), its "- " prefixes and
    /// slips removed, as PassEntry sends it.
    pub(crate) const SEED_PAGE: &str = r#"{"data":[
      {"id":"237f0526-b2aa-4dd1-884b-ed49abbd7447","type":"pass","attributes":{"passType":"generic","createdAt":"2022-01-08T00:00:00Z","status":"issued","extId":"d994dfcf8b6d0b0a3267","passTemplateUuid":"2e2d7ee8c306e8f0223dbdc1","passTemplateName":"PassEntry Ticketing","nfc":null,"barcode":null,"passContent":{"fullName":"John Johnson"}}},
      {"id":"237f0526-b2aa-4dd1-884b-ed49abbd7446","type":"pass","attributes":{"passType":"generic","createdAt":"2022-01-07T00:00:00Z","status":"issued","extId":"d994dfcf8b6d0b0a3266","passTemplateUuid":"2e2d7ee8c306e8f0223dbdc1","passTemplateName":"PassEntry Ticketing","nfc":null,"barcode":null,"passContent":{"fullName":"John Johnson"}}},
      {"id":"237f0526-b2aa-4dd1-884b-ed49abbd7445","type":"pass","attributes":{"passType":"generic","createdAt":"2022-01-06T00:00:00Z","status":"issued","extId":"d994dfcf8b6d0b0a3265","passTemplateUuid":"2e2d7ee8c306e8f0223dbdc1","passTemplateName":"PassEntry Ticketing","nfc":null,"barcode":null,"passContent":{"fullName":"John Johnson"}}},
      {"id":"237f0526-b2aa-4dd1-884b-ed49abbd7444","type":"pass","attributes":{"passType":"generic","createdAt":"2022-01-05T00:00:00Z","status":"issued","extId":"d994dfcf8b6d0b0a3264","passTemplateUuid":"2e2d7ee8c306e8f0223dbdc1","passTemplateName":"PassEntry Ticketing","nfc":null,"barcode":null,"passContent":{"fullName":"John Johnson"}}},
      {"id":"237f0526-b2aa-4dd1-884b-ed49abbd7443","type":"pass","attributes":{"passType":"generic","createdAt":"2022-01-04T00:00:00Z","status":"issued","extId":"d994dfcf8b6d0b0a3263","passTemplateUuid":"2e2d7ee8c306e8f0223dbdc1","passTemplateName":"PassEntry Ticketing","nfc":null,"barcode":null,"passContent":{"fullName":"John Johnson"}}}
    ],
    "meta":{"totalCount":8,"resultsPerPage":5,"currentPage":1,"totalPages":2},
    "links":{"first":null,"prev":null,"next":"/api/v1/passes?page=2&perPage=5","last":"/api/v1/passes?page=2&perPage=5"}}"#;

    #[test]
    fn the_seeds_page_reads_as_five_passes_and_more_to_come() {
        let page = parse(SEED_PAGE.as_bytes(), Kind::Pass, 1, NOW).unwrap();
        assert_eq!(page.items.len(), 5);
        assert!(!page.meta.is_last());
        let ImportRecord::Pass {
            pass,
            template_name,
            ..
        } = &page.items[0].record
        else {
            panic!("a pass")
        };
        assert_eq!(pass.id, "237f0526-b2aa-4dd1-884b-ed49abbd7447");
        assert_eq!(pass.template_id, "2e2d7ee8c306e8f0223dbdc1");
        assert_eq!(template_name.as_deref(), Some("PassEntry Ticketing"));
        assert_eq!(pass.holder_name().as_deref(), Some("John Johnson"));
        assert_eq!(page.items[0].balance, None);
    }

    #[test]
    fn a_last_page_and_an_empty_list_end_the_stage() {
        let last = r#"{"data":[{"id":"e1","type":"event","attributes":{"name":"The Lion King Live","venueName":"Lyceum Theathre","startTime":"2023-09-15T11:45:00Z","endTime":"2023-09-15T11:45:00Z","timeZone":"UTC","status":"ended"},"meta":{"passesCount":0}}],
            "meta":{"totalCount":3,"resultsPerPage":2,"currentPage":2,"totalPages":2},"links":{}}"#;
        let page = parse(last.as_bytes(), Kind::Event, 2, NOW).unwrap();
        assert!(page.meta.is_last());
        assert!(matches!(page.items[0].record, ImportRecord::Event(_)));
        for empty in [
            r#"{"data":[],"meta":{"totalCount":0,"resultsPerPage":100,"currentPage":1,"totalPages":0}}"#,
            r#"{"data":[],"meta":{"totalCount":0,"resultsPerPage":100,"currentPage":1,"totalPages":1}}"#,
        ] {
            let page = parse(empty.as_bytes(), Kind::Pass, 1, NOW).unwrap();
            assert!(page.items.is_empty() && page.meta.is_last(), "{empty}");
        }
    }

    #[test]
    fn a_balance_is_read_from_the_items_meta() {
        let body = r#"{"data":[{"id":"p1","type":"pass","attributes":{"passType":"storeCard","passTemplateUuid":"t1","nfc":"941c3534"},"meta":{"loyalty":{"balance":17}}}],
            "meta":{"totalCount":1,"resultsPerPage":100,"currentPage":1,"totalPages":1}}"#;
        let page = parse(body.as_bytes(), Kind::Pass, 1, NOW).unwrap();
        assert_eq!(page.items[0].balance, Some(17));
    }

    #[test]
    fn bad_pages_are_refused_naming_what_is_wrong() {
        let seed = SEED_PAGE;
        let cases: Vec<(String, &str)> = vec![
            ("not json at all".into(), "not JSON"),
            ("[1,2]".into(), "not a JSON:API list"),
            (r#"{"meta":{}}"#.into(), "data: missing"),
            (r#"{"data":{},"meta":{}}"#.into(), "data: expected an array"),
            (r#"{"data":[]}"#.into(), "meta: missing"),
            (
                r#"{"data":[],"meta":{"totalCount":"8","resultsPerPage":5,"currentPage":1,"totalPages":2}}"#.into(),
                "meta.totalCount: expected a number",
            ),
            (
                r#"{"data":[],"meta":{"totalCount":-1,"resultsPerPage":5,"currentPage":1,"totalPages":2}}"#.into(),
                "meta.totalCount: expected a whole number",
            ),
            (
                seed.replace(r#""id":"237f0526-b2aa-4dd1-884b-ed49abbd7445","#, ""),
                "data[2]: id: missing",
            ),
            (
                seed.replace(r#""passTemplateUuid":"2e2d7ee8c306e8f0223dbdc1","passTemplateName":"PassEntry Ticketing","nfc":null,"barcode":null,"passContent":{"fullName":"John Johnson"}}},
      {"id":"237f0526-b2aa-4dd1-884b-ed49abbd7446""#, r#""passTemplateName":"PassEntry Ticketing","nfc":null,"barcode":null,"passContent":{"fullName":"John Johnson"}}},
      {"id":"237f0526-b2aa-4dd1-884b-ed49abbd7446""#),
                "passTemplateUuid: missing",
            ),
            (
                seed.replacen(r#""type":"pass""#, r#""type":"event""#, 1),
                "data[0] (id \"237f0526-b2aa-4dd1-884b-ed49abbd7447\"): type \"event\" in a list of \"pass\"",
            ),
            (seed.replace(r#""currentPage":1"#, r#""currentPage":2"#), "page 1 was asked for, currentPage is 2"),
            (seed.replace(r#""resultsPerPage":5"#, r#""resultsPerPage":4"#), "5 items, resultsPerPage is 4"),
            (seed.replace(r#""totalPages":2"#, r#""totalPages":3"#), "totalPages is 3, but totalCount 8 at 5 a page makes 2"),
            (seed.replace(r#""totalCount":8"#, r#""totalCount":20"#).replace(r#""totalPages":2"#, r#""totalPages":4"#).replace(r#""resultsPerPage":5"#, r#""resultsPerPage":6"#), "page 1 of 4 holds 5 items, not 6"),
            (
                seed.replace(r#""currentPage":1"#, r#""currentPage":3"#),
                "page 3 is past the last (2) and holds 5 items",
            ),
        ];
        for (body, says) in cases {
            let asked = if body.contains(r#""currentPage":3"#) {
                3
            } else {
                1
            };
            let err = parse(body.as_bytes(), Kind::Pass, asked, NOW)
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{says:?} not in {err:?}");
        }
    }

    #[test]
    fn a_pass_answer_gives_the_pass_and_its_balance() {
        let body = r#"{"data":{"id":"2258d9ed-05bc-47cd-be65-83b9bb5e0273","type":"pass","attributes":{"passType":"storeCard","deviceType":"android","createdAt":"2022-01-01T00:00:00Z","status":"active","extId":"4e9ab9e571bbc8ff64e7","passTemplateUuid":"b7f3372d08eddd76f28926ff","passTemplateName":"PassEntry Store","nfc":"941c35348d16187199a6b41047f0b7862b2dcb67","barcode":null,"passContent":{"fullName":"Robert Smith","points":"17"}}},"meta":{"loyalty":{"balance":17}}}"#;
        let item = pass_answer(body.as_bytes(), NOW).unwrap();
        assert_eq!(item.balance, Some(17));
        assert_eq!(pass_answer_balance(body.as_bytes()).unwrap(), Some(17));
        assert!(pass_answer(b"{}", NOW).is_err());
    }
}
