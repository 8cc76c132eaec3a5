//! Where in a JSON body a refusal points, as an RFC 6901 JSON pointer: the API's
//! `errors[].source.pointer`, the hub's "invalid JSON at …" and the provider hooks' field
//! errors all name the place this way.

use serde_path_to_error::{Path, Segment};

/// The pointer of the place serde_path_to_error found the error: `/pass/qr/value`,
/// `/items/2/name`, and `` for the document itself. Keys are escaped as RFC 6901 says (`~` as
/// `~0`, `/` as `~1`), so a key holding either still points at one place.
pub fn of(path: &Path) -> String {
    let mut out = String::new();
    for segment in path.iter() {
        out.push('/');
        match segment {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => push_escaped(&mut out, key),
            Segment::Enum { variant } => push_escaped(&mut out, variant),
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

fn push_escaped(out: &mut String, key: &str) {
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)] // read only to be refused
    struct Body {
        pass: Pass,
        items: Vec<Item>,
        #[serde(default)]
        extra: BTreeMap<String, u32>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Pass {
        qr: Qr,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Qr {
        value: String,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Item {
        name: String,
    }

    fn pointer(json: &str) -> String {
        let de = &mut serde_json::Deserializer::from_str(json);
        let e = serde_path_to_error::deserialize::<_, Body>(de).unwrap_err();
        super::of(e.path())
    }

    #[test]
    fn a_refused_field_is_pointed_at_through_objects_arrays_and_escaped_keys() {
        assert_eq!(
            pointer(r#"{"pass": {"qr": {"value": 5}}, "items": []}"#),
            "/pass/qr/value"
        );
        assert_eq!(
            pointer(r#"{"pass": {"qr": {"value": "x"}}, "items": [{"name": "a"}, {"name": 2}]}"#),
            "/items/1/name"
        );
        assert_eq!(
            pointer(
                r#"{"pass": {"qr": {"value": "x"}}, "items": [], "extra": {"a/b~c": "not a number"}}"#
            ),
            "/extra/a~1b~0c"
        );
        assert_eq!(pointer("[]"), "");
    }
}
