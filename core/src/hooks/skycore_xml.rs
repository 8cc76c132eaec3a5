//! Skycore's pass postback in (seeds `skycore-pass-postback-xml.txt`, v1.3, and
//! `skycore-pass-postback-bundle.txt`): an XML `<POSTBACK>` with ORIGIN `GENERATE_PASS`, read
//! with quick-xml (no DTD, no external entity: an undefined entity is an error, so nothing
//! expands).
//!
//! Read as the outbound format writes it (`crate::webhook::skycore_xml`): SERIALNUMBER ("a
//! unique number generated for each pass") is the pass id; CUSTOMPASSID (the optional id given
//! when the pass was made, to reference it later) the extId; TIMESTAMP (with an offset) when
//! the pass was generated, the event's time. STATUSCODE N801 (generated) creates the pass;
//! any other code (a failure) is noted and changes nothing.
//!
//! PASSDATA, in the long form only: BARCODEVALUE the barcode (BARCODETEXT not empty: printed
//! under it), then each LABELn / VALUEn pair of the HEADER, PRIMARY, SEC, AUX and BACK slots a
//! passContent key and its text. A slot labelled `XXXXX` (how the seed fills an unused slot)
//! or not labelled at all is skipped; a label `Name` / `Full name` is the holder's `fullName`.
//! REFERENCEDBY `Email` / `Phone` puts REFERENCEVALUE into the content as `email` / `phone`.
//! The short (bundle) form has no PASSDATA: a pass with no barcode and no content.
//!
//! The postback names no template: passes made from it go under the provider's
//! (`skycore-passes`, [`super::apply::fallback_template`]). No event id either: the dedup key
//! is the SHA-256 of the body.

use super::{
    body_key, pass_id, quote, scannable, Change, Content, HookError, HookEvent, PassData, PassRef,
    Provider,
};
use crate::pass::Barcode;
use crate::time::Timestamp;
use quick_xml::events::Event as Xml;
use serde_json::{Map, Value};

/// The ORIGIN of a pass generation postback.
pub const ORIGIN_GENERATE_PASS: &str = "GENERATE_PASS";
/// Skycore's "pass generated".
pub const STATUS_GENERATED: &str = "N801";

/// PASSDATA's label / value slots in the order the front of a pass shows them; the back has
/// as many as it likes.
const SLOT_KINDS: [&str; 5] = ["HEADER", "PRIMARY", "SEC", "AUX", "BACK"];

/// What the seed writes in a slot it does not use.
const UNUSED_SLOT: &str = "XXXXX";

/// The elements of a postback: name → text, in the order given; PASSDATA's own elements apart.
#[derive(Debug, Default)]
struct Postback {
    fields: Vec<(String, String)>,
    pass_data: Option<Vec<(String, String)>>,
}

impl Postback {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
    }

    fn required(&self, name: &str) -> Result<&str, HookError> {
        match self.get(name) {
            Some(v) if !v.is_empty() => Ok(v),
            Some(_) => Err(HookError::field(format!("/POSTBACK/{name}"), "empty")),
            None => Err(HookError::field(format!("/POSTBACK/{name}"), "missing")),
        }
    }
}

pub fn parse(raw: &[u8]) -> Result<HookEvent, HookError> {
    let postback = read(raw)?;
    let origin = postback.required("ORIGIN")?;
    if origin != ORIGIN_GENERATE_PASS {
        return Err(HookError::UnknownEvent(origin.chars().take(60).collect()));
    }
    let status = postback.required("STATUSCODE")?.to_owned();
    let id = pass_id("/POSTBACK/SERIALNUMBER", postback.required("SERIALNUMBER")?)?;
    let stamp = postback.required("TIMESTAMP")?;
    let at = Timestamp::parse_rfc3339(stamp).map_err(|_| {
        HookError::field(
            "/POSTBACK/TIMESTAMP",
            format!(
                "expected a time like 2013-11-26T11:37:11-05:00, got {}",
                quote(stamp)
            ),
        )
    })?;
    let change = if status == STATUS_GENERATED {
        Change::Created(Box::new(pass_data(&postback, &id, at)?))
    } else {
        Change::Noted {
            why: format!("pass generation answered {}", quote(&status)),
        }
    };
    Ok(HookEvent {
        provider: Provider::Skycore,
        dedup_key: body_key("", raw),
        event_name: format!("{ORIGIN_GENERATE_PASS}/{status}"),
        at: Some(at),
        pass: Some(PassRef(id)),
        change,
    })
}

fn pass_data(p: &Postback, id: &str, at: Timestamp) -> Result<PassData, HookError> {
    let ext_id = match p.get("CUSTOMPASSID").filter(|v| !v.is_empty()) {
        Some(v) => Some(pass_id("/POSTBACK/CUSTOMPASSID", v)?),
        None => None,
    };
    let mut content = Map::new();
    let reference_key = match p
        .get("REFERENCEDBY")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("email") => Some("email"),
        Some("phone") => Some("phone"),
        _ => None,
    };
    if let (Some(key), Some(value)) = (reference_key, p.get("REFERENCEVALUE")) {
        if !value.is_empty() {
            content.insert(key.into(), Value::String(value.into()));
        }
    }
    let mut barcode = None;
    if let Some(data) = &p.pass_data {
        let get = |name: &str| {
            data.iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.trim().to_owned())
        };
        if let Some(value) = get("BARCODEVALUE").filter(|v| !v.is_empty()) {
            let value = scannable("/POSTBACK/PASSDATA/BARCODEVALUE", &value)?;
            barcode = Some(Barcode {
                kind: "qrCode".into(),
                value,
                display_text: get("BARCODETEXT").is_some_and(|t| !t.is_empty()),
            });
        }
        for kind in SLOT_KINDS {
            for n in 1..=slot_count(data, kind) {
                let label = get(&format!("{kind}LABEL{n}")).unwrap_or_default();
                if label.is_empty() || label == UNUSED_SLOT {
                    continue;
                }
                let value = get(&format!("{kind}VALUE{n}")).unwrap_or_default();
                content.insert(content_key(&label), Value::String(value));
            }
        }
    }
    Ok(PassData {
        id: id.to_owned(),
        ext_id,
        barcode,
        content: Content::Merge(content),
        created_at: Some(at),
        ..PassData::default()
    })
}

/// The highest n of `{kind}LABELn` in PASSDATA (bounded by what is there: the body limit).
fn slot_count(data: &[(String, String)], kind: &str) -> usize {
    let prefix = format!("{kind}LABEL");
    data.iter()
        .filter_map(|(name, _)| name.strip_prefix(&prefix)?.parse::<usize>().ok())
        .max()
        .unwrap_or(0)
        .min(data.len())
}

/// A slot's label as a content key; the holder's name as the cache names it.
fn content_key(label: &str) -> String {
    let folded: String = label
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    match folded.as_str() {
        "name" | "fullname" | "holdername" => "fullName".into(),
        _ => label.to_owned(),
    }
}

/// The document: one root, `POSTBACK`; its elements' text (and PASSDATA's), entities
/// resolved; anything deeper read for well-formedness and dropped.
fn read(raw: &[u8]) -> Result<Postback, HookError> {
    let text = std::str::from_utf8(raw)
        .map_err(|e| HookError::NotXml(format!("not UTF-8 text (at byte {})", e.valid_up_to())))?;
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut out = Postback::default();
    // The open elements' names, and the text of the innermost one being gathered.
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut seen_root = false;
    let not_xml = |e: quick_xml::Error, at: u64| HookError::NotXml(format!("{e} (at byte {at})"));
    loop {
        let event = reader
            .read_event()
            .map_err(|e| not_xml(e, reader.error_position()))?;
        let is_start = matches!(event, Xml::Start(_));
        match event {
            Xml::Start(e) | Xml::Empty(e) if path.is_empty() => {
                let name = element_name(e.name().as_ref())?;
                if seen_root {
                    return Err(HookError::NotXml(format!(
                        "a second root element <{name}> after </POSTBACK>"
                    )));
                }
                if name != "POSTBACK" {
                    return Err(HookError::field(
                        format!("/{name}"),
                        "expected the root element POSTBACK",
                    ));
                }
                seen_root = true;
                if is_start {
                    path.push(name);
                }
            }
            Xml::Start(e) => {
                let name = element_name(e.name().as_ref())?;
                if path.len() == 1 && name == "PASSDATA" {
                    if out.pass_data.is_some() {
                        return Err(twice(&path, &name));
                    }
                    out.pass_data = Some(Vec::new());
                }
                path.push(name);
                text.clear();
            }
            Xml::Empty(e) => {
                let name = element_name(e.name().as_ref())?;
                path.push(name);
                text.clear();
                keep(&mut out, &path, &text)?;
                path.pop();
            }
            Xml::End(_) => {
                keep(&mut out, &path, &text)?;
                text.clear();
                path.pop();
            }
            Xml::Text(t) if path.len() >= 2 => {
                let t = t
                    .xml10_content()
                    .map_err(|e| HookError::NotXml(e.to_string()))?;
                text.push_str(&t);
            }
            Xml::CData(t) if path.len() >= 2 => {
                text.push_str(&String::from_utf8_lossy(&t.into_inner()));
            }
            Xml::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = r.decode().map_err(|e| HookError::NotXml(e.to_string()))?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| {
                                HookError::NotXml(format!("an undefined entity &{name};"))
                            })?
                            .to_owned()
                    }
                    Err(e) => return Err(HookError::NotXml(e.to_string())),
                };
                if path.len() >= 2 {
                    text.push_str(&c);
                }
            }
            Xml::Eof if !seen_root => {
                return Err(HookError::NotXml("no root element".into()));
            }
            Xml::Eof if !path.is_empty() => {
                return Err(HookError::NotXml(format!(
                    "<{}> is not closed",
                    path.join("/")
                )));
            }
            Xml::Eof => return Ok(out),
            Xml::Text(t) if path.is_empty() && !t.iter().all(u8::is_ascii_whitespace) => {
                return Err(HookError::NotXml("text outside the root element".into()));
            }
            Xml::Text(_) | Xml::CData(_) | Xml::Comment(_) | Xml::Decl(_) | Xml::PI(_) => {}
            Xml::DocType(_) => {
                return Err(HookError::NotXml("a DOCTYPE is not accepted".into()));
            }
        }
    }
}

/// Keeps the text of the element `path` ends with, if it is one the postback uses: a child of
/// POSTBACK, or of its PASSDATA.
fn keep(out: &mut Postback, path: &[String], text: &str) -> Result<(), HookError> {
    let Some(name) = path.last() else {
        return Ok(());
    };
    let list = match path.len() {
        2 if name != "PASSDATA" => &mut out.fields,
        3 if path[1] == "PASSDATA" => out.pass_data.as_mut().expect("opened with PASSDATA"),
        _ => return Ok(()),
    };
    if list.iter().any(|(n, _)| n == name) {
        return Err(twice(&path[..path.len() - 1], name));
    }
    list.push((name.clone(), text.to_owned()));
    Ok(())
}

fn twice(parent: &[String], name: &str) -> HookError {
    HookError::field(format!("/{}/{name}", parent.join("/")), "given twice")
}

fn element_name(raw: &[u8]) -> Result<String, HookError> {
    std::str::from_utf8(raw)
        .map(str::to_owned)
        .map_err(|_| HookError::NotXml("an element name that is not UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit as seeds;

    fn long() -> String {
        seeds::skycore_xml("skycore-pass-postback-xml.txt")
    }

    fn short() -> String {
        seeds::skycore_xml("skycore-pass-postback-bundle.txt")
    }

    #[test]
    fn the_seeds_long_form() {
        let body = long();
        let e = parse(body.as_bytes()).unwrap();
        assert_eq!(e.provider, Provider::Skycore);
        assert_eq!(e.event_name, "GENERATE_PASS/N801");
        assert_eq!(e.dedup_key, body_key("", body.as_bytes()));
        assert_eq!(
            e.at,
            Some(Timestamp::parse_rfc3339("2013-11-26T16:37:11Z").unwrap())
        );
        assert_eq!(e.pass, Some(PassRef("5294CE37878AE-112613-113711".into())));
        let Change::Created(p) = e.change else {
            panic!("{:?}", e.change)
        };
        assert_eq!(p.id, "5294CE37878AE-112613-113711");
        assert_eq!(p.ext_id.as_deref(), Some("ID-123323"));
        assert_eq!(p.template, None);
        let b = p.barcode.unwrap();
        assert_eq!((b.value.as_str(), b.display_text), ("XSSDEW2223", true));
        let Content::Merge(c) = p.content else {
            panic!()
        };
        assert_eq!(c["fullName"], "John");
        assert_eq!(c["email"], "vikmut@mail.com");
        assert_eq!(c["Occupation"], "Software Developer");
        assert_eq!(c["Salary"], "$120,000.00");
        assert_eq!(c["Experience"], "5+ Years");
        assert_eq!(
            c["Sky Technologies Ltd."],
            "111 Technology Dr, Boston MA 02111"
        );
        assert_eq!(
            c["Terms and Conditions"],
            "Please show this pass at the event entrance to get in."
        );
        assert!(!c.contains_key(UNUSED_SLOT));
        assert_eq!(c.len(), 7, "{c:?}");
    }

    #[test]
    fn the_seeds_short_form() {
        let e = parse(short().as_bytes()).unwrap();
        let Change::Created(p) = e.change else {
            panic!()
        };
        assert_eq!(p.id, "5294CE37878AE-112613-113711");
        assert_eq!(p.barcode, None);
        let Content::Merge(c) = p.content else {
            panic!()
        };
        assert_eq!(c.len(), 1);
        assert_eq!(c["email"], "vikmut@mail.com");
    }

    #[test]
    fn other_codes_are_noted() {
        let body = short().replace("N801", "N802");
        let e = parse(body.as_bytes()).unwrap();
        assert_eq!(e.event_name, "GENERATE_PASS/N802");
        assert!(matches!(e.change, Change::Noted { .. }));
    }

    #[test]
    fn entities_and_cdata_are_read() {
        let body = short().replace(
            "<CUSTOMPASSID>ID-123323</CUSTOMPASSID>",
            "<CUSTOMPASSID>ID&amp;&#49;<![CDATA[<2>]]></CUSTOMPASSID>",
        );
        let Change::Created(p) = parse(body.as_bytes()).unwrap().change else {
            panic!()
        };
        assert_eq!(p.ext_id.as_deref(), Some("ID&1<2>"));
    }

    #[test]
    fn bad_bodies_name_what_is_wrong() {
        for (body, code) in [
            (String::new(), "not_xml"),
            ("{\"origin\":\"wallet\"}".into(), "not_xml"),
            ("<POSTBACK><ORIGIN>x</POSTBACK>".into(), "not_xml"),
            ("<POSTBACK>".into(), "not_xml"),
            (
                short().replace("</POSTBACK>", "</POSTBACK><POSTBACK/>"),
                "not_xml",
            ),
            (short().replace("ID-123323", "&lol;"), "not_xml"),
            (
                format!("<!DOCTYPE x [<!ENTITY a \"b\">]>{}", short()),
                "not_xml",
            ),
            (
                short().replace("GENERATE_PASS", "SEND_SMS"),
                "unknown_event",
            ),
        ] {
            let err = parse(body.as_bytes()).unwrap_err();
            assert_eq!(err.code(), code, "{body:.80}: {err}");
        }
        assert_eq!(parse(b"\xff<POSTBACK/>").unwrap_err().code(), "not_xml");
        let pointed = |body: String, pointer: &str| {
            let err = parse(body.as_bytes()).unwrap_err();
            assert_eq!(err.pointer(), Some(pointer), "{err}");
        };
        pointed("<PASSBACK/>".into(), "/PASSBACK");
        pointed(
            short().replace(
                "<SERIALNUMBER>5294CE37878AE-112613-113711</SERIALNUMBER>",
                "",
            ),
            "/POSTBACK/SERIALNUMBER",
        );
        pointed(
            short().replace("5294CE37878AE-112613-113711", "  "),
            "/POSTBACK/SERIALNUMBER",
        );
        pointed(
            short().replace("2013-11-26T11:37:11-05:00", "Tuesday"),
            "/POSTBACK/TIMESTAMP",
        );
        pointed(
            short().replace("<ORIGIN>", "<ORIGIN>GENERATE_PASS</ORIGIN><ORIGIN>"),
            "/POSTBACK/ORIGIN",
        );
        pointed(
            long().replace("<BARCODEVALUE>XSSDEW2223", "<BARCODEVALUE>X&#9;Y"),
            "/POSTBACK/PASSDATA/BARCODEVALUE",
        );
    }
}
