//! PassEntry's list pages, as the seed's example page shows them: `data`, `meta` {totalCount,
//! resultsPerPage, currentPage, totalPages}, `links` {first, prev, next, last}. A link is null
//! where it would point at the current page's own end (on page 1 `first` and `prev` are null;
//! on the last page `next` and `last` are), exactly as the seed's page 1 of 2.

use crate::error::ApiError;
use serde_json::{json, Value};

/// PassEntry's default `perPage` (the seed: "Record limiter per page. Default is 100").
pub const DEFAULT_PER_PAGE: u32 = 100;

/// `page` and `perPage` of a list request, and its other parameters (kept for the links).
#[derive(Debug, Clone)]
pub(crate) struct PageRequest {
    pub page: u32,
    pub per_page: u32,
    /// The other query parameters, in the order given.
    pub rest: Vec<(String, String)>,
}

impl PageRequest {
    /// Reads `page` (1 when absent) and `perPage` (100 when absent, at most `max`).
    pub fn parse(query: Vec<(String, String)>, max: u32) -> Result<Self, ApiError> {
        let mut page = 1;
        let mut per_page = DEFAULT_PER_PAGE.min(max);
        let mut rest = Vec::new();
        for (k, v) in query {
            match k.as_str() {
                "page" => {
                    page = v.parse().ok().filter(|&p| p >= 1).ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "page: expected a positive integer, got {v:?}"
                        ))
                    })?
                }
                "perPage" => {
                    per_page = v
                        .parse()
                        .ok()
                        .filter(|&p| (1..=max).contains(&p))
                        .ok_or_else(|| {
                            ApiError::bad_request(format!(
                                "perPage: expected an integer from 1 to {max}, got {v:?}"
                            ))
                        })?
                }
                _ => rest.push((k, v)),
            }
        }
        Ok(Self {
            page,
            per_page,
            rest,
        })
    }

    /// The first item's offset.
    pub fn offset(&self) -> usize {
        (self.page as usize - 1).saturating_mul(self.per_page as usize)
    }

    /// A filter's value, if given.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.rest
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn link(&self, path: &str, page: u32) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("page", &page.to_string());
        q.append_pair("perPage", &self.per_page.to_string());
        for (k, v) in &self.rest {
            q.append_pair(k, v);
        }
        format!("{path}?{}", q.finish())
    }

    /// The page document for `data`, the items of this page out of `total`.
    pub fn document(&self, path: &str, total: usize, data: Vec<Value>) -> Value {
        let per = self.per_page as usize;
        let total_pages = total.div_ceil(per) as u32;
        let current = self.page;
        let link = |cond: bool, page: u32| {
            if cond {
                Value::String(self.link(path, page))
            } else {
                Value::Null
            }
        };
        json!({
            "data": data,
            "meta": {
                "totalCount": total,
                "resultsPerPage": self.per_page,
                "currentPage": current,
                "totalPages": total_pages,
            },
            "links": {
                "first": link(current > 1, 1),
                "prev": link(current > 1, current.saturating_sub(1).clamp(1, total_pages.max(1))),
                "next": link(current < total_pages, current + 1),
                "last": link(current < total_pages, total_pages),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn links_as_the_seed_page_one_of_two() {
        let r = PageRequest::parse(q(&[("page", "1"), ("perPage", "5")]), 100).unwrap();
        let doc = r.document("/api/v1/passes", 8, vec![]);
        assert_eq!(
            doc["meta"],
            json!({"totalCount": 8, "resultsPerPage": 5, "currentPage": 1, "totalPages": 2})
        );
        assert_eq!(
            doc["links"],
            json!({"first": null, "prev": null,
                   "next": "/api/v1/passes?page=2&perPage=5",
                   "last": "/api/v1/passes?page=2&perPage=5"})
        );
        let r = PageRequest::parse(
            q(&[("page", "2"), ("perPage", "5"), ("status", "a b")]),
            100,
        )
        .unwrap();
        let doc = r.document("/api/v1/passes", 8, vec![]);
        assert_eq!(
            doc["links"],
            json!({"first": "/api/v1/passes?page=1&perPage=5&status=a+b",
                   "prev": "/api/v1/passes?page=1&perPage=5&status=a+b",
                   "next": null, "last": null})
        );
    }

    #[test]
    fn bad_page_parameters_are_refused() {
        for bad in [
            ("page", "0"),
            ("page", "x"),
            ("perPage", "0"),
            ("perPage", "101"),
        ] {
            let e = PageRequest::parse(q(&[bad]), 100).unwrap_err();
            assert_eq!(e.status, 400, "{bad:?}");
            assert!(e.detail.contains(bad.0), "{}", e.detail);
        }
    }
}
