//! Class and object ids: `<issuer id>.<suffix>`, where Google allows only letters, digits,
//! `.`, `_` and `-`. The suffix is the template id (a class) or the pass id (an object), kept as
//! it is when it has only those characters but `_`, else escaped so that two different ids
//! never meet: `_` becomes `__`, any other character the `_xx` of each of its UTF-8 bytes
//! (lowercase hex). Every counter maps a pass to the same object, so saving it twice (or from
//! two counters) updates one object rather than making a second.

use super::GoogleWalletError;
use std::fmt;
use std::fmt::Write as _;
use std::str::FromStr;

/// A Google Wallet issuer id, as the Business Console shows it: digits only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IssuerId(String);

impl IssuerId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IssuerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for IssuerId {
    type Err = GoogleWalletError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(GoogleWalletError::IssuerId("empty".into()));
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 32 {
            return Err(GoogleWalletError::IssuerId(format!(
                "{:?} is not a Google Wallet issuer id (its digits, as the Business Console \
                 shows them)",
                s.chars().take(40).collect::<String>()
            )));
        }
        Ok(Self(s.to_owned()))
    }
}

/// The class a template's passes share.
pub fn class_id(issuer: &IssuerId, template_id: &str) -> String {
    format!("{issuer}.{}", suffix(template_id))
}

/// One pass's object.
pub fn object_id(issuer: &IssuerId, pass_id: &str) -> String {
    format!("{issuer}.{}", suffix(pass_id))
}

/// The escaped suffix (see the module's note).
pub fn suffix(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for c in id.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' => out.push(c),
            '_' => out.push_str("__"),
            other => {
                let mut buf = [0u8; 4];
                for b in other.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "_{b:02x}");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer() -> IssuerId {
        "3388000000012345678".parse().unwrap()
    }

    fn allowed(id: &str) -> bool {
        id.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    }

    #[test]
    fn plain_ids_are_kept() {
        assert_eq!(
            object_id(&issuer(), "0190f3a2-7c1e-7000-8000-1234567890ab"),
            "3388000000012345678.0190f3a2-7c1e-7000-8000-1234567890ab"
        );
        assert_eq!(
            class_id(&issuer(), "tmpl.A-1"),
            "3388000000012345678.tmpl.A-1"
        );
    }

    #[test]
    fn other_characters_are_escaped_deterministically_and_never_collide() {
        let cases = [
            ("a b", "a_20b"),
            ("a_b", "a__b"),
            ("a_20b", "a__20b"),
            ("café", "caf_c3_a9"),
            ("x/y:z", "x_2fy_3az"),
            ("", ""),
        ];
        for (given, want) in cases {
            assert_eq!(suffix(given), want, "{given:?}");
            assert!(allowed(&object_id(&issuer(), given)), "{given:?}");
            assert_eq!(suffix(given), suffix(given));
        }
        let all: std::collections::HashSet<_> = cases.iter().map(|(g, _)| suffix(g)).collect();
        assert_eq!(all.len(), cases.len(), "two ids met: {all:?}");
    }

    #[test]
    fn issuer_ids_are_digits() {
        assert_eq!(
            " 3388000000012345678 "
                .parse::<IssuerId>()
                .unwrap()
                .as_str(),
            "3388000000012345678"
        );
        for bad in ["", "  ", "33880000000.1", "issuer", "-1"] {
            let e = bad.parse::<IssuerId>().unwrap_err();
            assert!(e.to_string().starts_with("issuer_id: "), "{e}");
        }
    }
}
