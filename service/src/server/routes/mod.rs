//! The HTTP routes, one file per resource, each with the same shape: handlers taking the state,
//! a [`Caller`](super::auth::Caller) and a parsed request, answering JSON:API documents.

pub mod camera;
pub mod catalog;
pub mod hooks;
pub mod loyalty;
pub mod me;
pub mod pass_page;
pub mod passes;
pub mod scans;
pub mod scans_passentry;
pub mod status;
pub mod sync;
pub mod upstream;
pub mod wallet;
pub mod webhooks;

use axum::Json;
use serde_json::{json, Value};

/// `{"data": ...}`
pub fn doc(data: Value) -> Json<Value> {
    Json(json!({ "data": data }))
}

/// A page of a collection with PassEntry's `meta` and `links`.
pub fn page_doc(
    data: Vec<Value>,
    total: u64,
    page: u32,
    per_page: u32,
    base: &str,
    query: &str,
) -> Json<Value> {
    let total_pages = total.div_ceil(u64::from(per_page).max(1)).max(1) as u32;
    let link = |p: u32| -> Value {
        let sep = if query.is_empty() { "" } else { "&" };
        json!(format!("{base}?{query}{sep}page={p}&perPage={per_page}"))
    };
    Json(json!({
        "data": data,
        "meta": { "totalCount": total, "resultsPerPage": per_page, "currentPage": page, "totalPages": total_pages },
        "links": {
            "first": link(1),
            "prev": if page > 1 { link(page - 1) } else { Value::Null },
            "next": if page < total_pages { link(page + 1) } else { Value::Null },
            "last": link(total_pages),
        }
    }))
}
