//! Skycore's pass postback (seed `skycore-pass-postback-xml.txt`, v1.3): an XML `<POSTBACK>`
//! with ORIGIN `GENERATE_PASS`, STATUSCODE `N801` and the PASSDATA block, sent for a created
//! pass only (the postback speaks of generation and nothing else).
//!
//! What Passdesk fills in: REFERENCEDBY / REFERENCEVALUE `Email` and the content's `email`
//! (else `Phone` and its `phone`, else both empty); CUSTOMPASSID the extId; PASSDATAID and
//! SERIALNUMBER the pass id (a counter has no numeric data id, and the pass id is the serial
//! number of its wallet pass); TIMESTAMP when the pass was created, `+00:00`. PASSDATA holds
//! BARCODEVALUE and BARCODETEXT (the value when it is printed under the code), then the pass
//! content as label / value pairs in Skycore's slots: the holder's name first (HEADER1), then
//! the others in order in PRIMARY1, SEC1-4, AUX1-4 and BACK1 onwards (the back of a pass has
//! room for any number). Unused slots are left out rather than filled with the seed's `XXXXX`.
//!
//! The short form of `skycore-pass-postback-bundle.txt` (the same postback without PASSDATA)
//! is what Skycore sends for passes generated in a bundle, which carry no data of their own.
//! Passdesk's bulk generation is an import, and imports are not webhook events; so the short
//! form is sent where a created pass likewise has no data to show: no barcode and no content.
//!
//! Written with quick-xml, which escapes every value; characters XML 1.0 cannot hold at all
//! (control characters other than tab and line ends, U+FFFE, U+FFFF) become U+FFFD.

use super::event::Event;
use super::resource::{text_of, PassFields};
use super::{EventType, Rendered};
use crate::pass::holder_name_of;
use crate::time::Timestamp;
use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesDecl, BytesText, Event as Xml};
use quick_xml::Writer;
use std::borrow::Cow;

pub const CONTENT_TYPE: &str = "application/xml";

/// The ORIGIN of a pass generation postback, and the event's name in the delivery log.
pub const ORIGIN: &str = "GENERATE_PASS";
/// Skycore's "pass generated" status.
pub const STATUS_GENERATED: &str = "N801";

const SCHEMA_NS: (&str, &str) = ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance");
const SCHEMA_LOCATION: (&str, &str) = (
    "xsi:noNamespaceSchemaLocation",
    "http://www.skycore.com/schema/pass-postback.xsd",
);

/// The front-of-pass slots in the order content fills them; what is left goes on the back.
const FRONT_SLOTS: [(&str, &str); 10] = [
    ("HEADERLABEL1", "HEADERVALUE1"),
    ("PRIMARYLABEL1", "PRIMARYVALUE1"),
    ("SECLABEL1", "SECVALUE1"),
    ("SECLABEL2", "SECVALUE2"),
    ("SECLABEL3", "SECVALUE3"),
    ("SECLABEL4", "SECVALUE4"),
    ("AUXLABEL1", "AUXVALUE1"),
    ("AUXLABEL2", "AUXVALUE2"),
    ("AUXLABEL3", "AUXVALUE3"),
    ("AUXLABEL4", "AUXVALUE4"),
];

pub fn render(event: &Event) -> Option<Rendered> {
    // The test event is a generation postback of the sample pass, so the receiver's usual
    // parser is what the test exercises.
    if !matches!(
        event.event_type,
        EventType::PassCreated | EventType::WebhookTest
    ) {
        return None;
    }
    let pass = PassFields::of(event.pass.as_ref()?)?;
    Some(Rendered {
        event_name: ORIGIN.to_owned(),
        content_type: CONTENT_TYPE,
        body: postback(&pass, event.at),
    })
}

fn postback(pass: &PassFields, event_at: Timestamp) -> Vec<u8> {
    let (referenced_by, reference_value) = reference(pass);
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 4);
    let written: std::io::Result<()> = (|| {
        w.write_event(Xml::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.create_element("POSTBACK")
            .with_attributes([SCHEMA_NS, SCHEMA_LOCATION])
            .write_inner_content(|w| {
                text(w, "ORIGIN", ORIGIN)?;
                text(w, "STATUSCODE", STATUS_GENERATED)?;
                text(w, "REFERENCEDBY", referenced_by)?;
                text(w, "REFERENCEVALUE", &reference_value)?;
                text(
                    w,
                    "CUSTOMPASSID",
                    pass.ext_id.as_deref().unwrap_or_default(),
                )?;
                text(w, "PASSDATAID", &pass.id)?;
                text(w, "SERIALNUMBER", &pass.id)?;
                text(
                    w,
                    "TIMESTAMP",
                    &timestamp(pass.created_at.unwrap_or(event_at)),
                )?;
                let fields = pass_data(pass);
                if !fields.is_empty() {
                    w.create_element("PASSDATA").write_inner_content(|w| {
                        for (element, value) in &fields {
                            text(w, element, value)?;
                        }
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
        Ok(())
    })();
    written.expect("writing XML into memory cannot fail");
    w.into_inner()
}

/// One `<NAME>value</NAME>`, the value escaped (`<`, `>`, `&`: quotes need none in text) and
/// made fit for XML 1.0. A carriage return is written as a character reference: a parser turns
/// a literal one into a line feed.
fn text(w: &mut Writer<Vec<u8>>, element: &str, value: &str) -> std::io::Result<()> {
    let escaped = partial_escape(xml_chars(value)).replace('\r', "&#13;");
    w.create_element(element)
        .write_text_content(BytesText::from_escaped(escaped))?;
    Ok(())
}

/// How the pass was referenced when it was made: its holder's email, else phone.
fn reference(pass: &PassFields) -> (&'static str, String) {
    for (key, kind) in [("email", "Email"), ("phone", "Phone")] {
        if let Some(v) = pass.content.get(key).map(text_of).filter(|v| !v.is_empty()) {
            return (kind, v);
        }
    }
    ("", String::new())
}

/// The PASSDATA elements in order: the barcode, then the content in Skycore's slots.
fn pass_data(pass: &PassFields) -> Vec<(Cow<'static, str>, String)> {
    let mut out: Vec<(Cow<'static, str>, String)> = Vec::new();
    if let Some(value) = &pass.barcode_value {
        out.push(("BARCODEVALUE".into(), value.clone()));
        let shown = if pass.barcode_text_shown {
            value.clone()
        } else {
            String::new()
        };
        out.push(("BARCODETEXT".into(), shown));
    }
    // The holder's name heads the pass, as in the seed (HEADERLABEL1 Name, HEADERVALUE1 John).
    let holder_key = holder_name_of(&pass.content).and_then(|name| {
        pass.content
            .iter()
            .find(|(_, v)| v.as_str().map(str::trim) == Some(name.as_str()))
            .map(|(k, _)| k.clone())
    });
    let ordered = holder_key
        .iter()
        .filter_map(|k| pass.content.get_key_value(k))
        .chain(
            pass.content
                .iter()
                .filter(|(k, _)| Some(*k) != holder_key.as_ref()),
        );
    for (i, (label, value)) in ordered.enumerate() {
        let (label_element, value_element): (Cow<'static, str>, Cow<'static, str>) =
            match FRONT_SLOTS.get(i) {
                Some((l, v)) => ((*l).into(), (*v).into()),
                None => {
                    let n = i - FRONT_SLOTS.len() + 1;
                    (
                        format!("BACKLABEL{n}").into(),
                        format!("BACKVALUE{n}").into(),
                    )
                }
            };
        out.push((label_element, label.clone()));
        out.push((value_element, text_of(value)));
    }
    out
}

/// `2013-11-26T16:37:11+00:00`: the seed's form (a numeric offset), in UTC.
fn timestamp(t: Timestamp) -> String {
    t.to_datetime()
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S+00:00").to_string())
        .unwrap_or_default()
}

/// The text with every character XML 1.0 cannot carry, even escaped, replaced by U+FFFD.
fn xml_chars(s: &str) -> Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
    };
    if s.chars().all(allowed) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(
            s.chars()
                .map(|c| if allowed(c) { c } else { '\u{FFFD}' })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pass::Pass;
    use crate::webhook::testkit::{self, parse_xml, Element};
    use serde_json::json;

    fn rendered(pass: &Pass) -> Element {
        let e = testkit::event(EventType::PassCreated, Some(pass), testkit::resource(pass));
        let r = render(&e).unwrap();
        assert_eq!(r.event_name, "GENERATE_PASS");
        assert_eq!(r.content_type, "application/xml");
        parse_xml(std::str::from_utf8(&r.body).expect("UTF-8"))
    }

    #[test]
    fn a_created_pass_is_the_seeds_postback() {
        let seed = parse_xml(&crate::testkit::skycore_xml(
            "skycore-pass-postback-xml.txt",
        ));
        let pass = testkit::pass();
        let ours = rendered(&pass);
        assert_eq!(ours.name, "POSTBACK");
        assert_eq!(ours.attributes, seed.attributes);
        assert_eq!(ours.child_names(), seed.child_names());
        let text = |name: &str| ours.child(name).unwrap().text.as_str();
        assert_eq!(text("ORIGIN"), seed.child("ORIGIN").unwrap().text);
        assert_eq!(text("STATUSCODE"), "N801");
        assert_eq!(text("REFERENCEDBY"), "Email");
        assert_eq!(text("REFERENCEVALUE"), "zoe@example.com");
        assert_eq!(text("CUSTOMPASSID"), "CRM-4411");
        assert_eq!(text("PASSDATAID"), pass.id);
        assert_eq!(text("SERIALNUMBER"), pass.id);
        assert_eq!(text("TIMESTAMP"), "2027-01-15T08:00:00+00:00");
        let seed_stamp = &seed.child("TIMESTAMP").unwrap().text;
        let form = "%Y-%m-%dT%H:%M:%S%:z";
        assert!(chrono::DateTime::parse_from_str(seed_stamp, form).is_ok());

        let data = ours.child("PASSDATA").unwrap();
        let seed_data = seed.child("PASSDATA").unwrap();
        for name in data.child_names() {
            assert!(
                seed_data.child(name).is_some(),
                "{name} is not an element of the seed's PASSDATA"
            );
        }
        let pairs: Vec<(&str, &str)> = data
            .children
            .iter()
            .map(|c| (c.name.as_str(), c.text.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("BARCODEVALUE", "PD-QR-0042"),
                ("BARCODETEXT", "PD-QR-0042"),
                ("HEADERLABEL1", "fullName"),
                ("HEADERVALUE1", "Zoë O'Brien"),
                ("PRIMARYLABEL1", "email"),
                ("PRIMARYVALUE1", "zoe@example.com"),
                ("SECLABEL1", "points"),
                ("SECVALUE1", "17"),
                ("SECLABEL2", "secondaryFields"),
                ("SECVALUE2", r#"[{"Name":"Gold"}]"#),
            ]
        );
    }

    #[test]
    fn a_pass_with_nothing_to_show_is_the_short_bundle_form() {
        let seed = parse_xml(&crate::testkit::skycore_xml(
            "skycore-pass-postback-bundle.txt",
        ));
        let bare = Pass {
            barcode: None,
            pass_content: Default::default(),
            ..testkit::pass()
        };
        let ours = rendered(&bare);
        assert_eq!(ours.attributes, seed.attributes);
        assert_eq!(ours.child_names(), seed.child_names());
        assert!(ours.child("PASSDATA").is_none());
    }

    #[test]
    fn hostile_content_is_escaped_and_reads_back_as_written() {
        let hostile = json!({
            "fullName": "</HEADERVALUE1><ORIGIN>HACK</ORIGIN> & \"quotes\" 'single'",
            "Prénom <&>": "Ünïcödé 日本語 \u{1F600}",
            "note": "line one\r\nline two\ttabbed",
            "bell": "ring\u{7}ring\u{FFFF}",
            "cdata": "]]><![CDATA[x]]>",
        });
        let pass = Pass {
            ext_id: Some("<CUSTOM>&id".into()),
            pass_content: serde_json::from_value(hostile.clone()).unwrap(),
            ..testkit::pass()
        };
        let ours = rendered(&pass);
        assert_eq!(ours.child("ORIGIN").unwrap().text, "GENERATE_PASS");
        assert_eq!(ours.child("CUSTOMPASSID").unwrap().text, "<CUSTOM>&id");
        let data = ours.child("PASSDATA").unwrap();
        let mut found = std::collections::BTreeMap::new();
        for pair in data.children[2..].chunks(2) {
            found.insert(pair[0].text.clone(), pair[1].text.clone());
        }
        for (k, v) in hostile.as_object().unwrap() {
            let expected = match k.as_str() {
                // XML 1.0 has no way to carry these: each becomes U+FFFD.
                "bell" => "ring\u{FFFD}ring\u{FFFD}".to_owned(),
                _ => v.as_str().unwrap().to_owned(),
            };
            assert_eq!(found.get(k), Some(&expected), "{k}");
        }
    }

    #[test]
    fn content_beyond_the_front_slots_goes_on_the_back() {
        let content: serde_json::Map<String, serde_json::Value> = (0..14)
            .map(|i| (format!("field{i:02}"), json!(format!("v{i}"))))
            .collect();
        let pass = Pass {
            pass_content: content,
            ..testkit::pass()
        };
        let data = rendered(&pass).child("PASSDATA").unwrap().clone();
        let names = data.child_names();
        assert_eq!(names[2..4], ["HEADERLABEL1", "HEADERVALUE1"]);
        assert_eq!(names[names.len() - 2..], ["BACKLABEL4", "BACKVALUE4"]);
        assert_eq!(data.child("BACKVALUE4").unwrap().text, "v13");
    }

    #[test]
    fn only_a_created_pass_and_the_test_are_postbacks() {
        let pass = testkit::pass();
        for e in testkit::every_event(&pass) {
            let sent = render(&e).is_some();
            let expected = matches!(
                e.event_type,
                EventType::PassCreated | EventType::WebhookTest
            );
            assert_eq!(sent, expected, "{}", e.event_type);
        }
    }
}
