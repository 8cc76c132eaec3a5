//! Test support shared by core's unit tests and the end-to-end tests (`passdesk-tests`, through
//! the `testkit` feature): the providers' example bodies, read from the provider documents
//! beside the repository (`shared/seeds`) at test time, with the web pages' list markers taken
//! out and the seeds' syntax slips corrected as each helper says: what a provider really sends
//! is valid. Not built into the service.

/// The provider documents, beside the repository.
const SEEDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/seeds");

/// A provider document's text, as written.
pub fn seed(file: &str) -> String {
    let path = format!("{SEEDS}/{file}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("seed {path} cannot be read ({e}): shared/ must sit beside the repository")
    })
}

/// The JSON object that starts at the first `{` at or after `from` in `text`, to its matching
/// `}` (braces inside strings are skipped).
pub fn object_at(text: &str, from: usize) -> &str {
    let start = from + text[from..].find('{').expect("an object follows");
    let (mut depth, mut in_string, mut escaped) = (0, false, false);
    for (i, c) in text[start..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '{' if !in_string => depth += 1,
            '}' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return &text[start..=start + i];
                }
            }
            _ => {}
        }
    }
    panic!("unterminated object after {from}")
}

/// A PassEntry webhook body (`passentry-api.txt`) after `marker` (the text that introduces it):
/// the page's `- ` list markers removed (`{- "data"`, `}, - "included"`, a `- ` before each
/// line). Once they are gone the examples are valid JSON.
pub fn passentry(marker: &str) -> String {
    let text = seed("passentry-api.txt");
    let at = text.find(marker).expect("the marker is in the seed");
    let start = at + text[at..].find("{- \"data\"").expect("a body follows");
    let end = start
        + text[start..]
            .find("{- \"status\"")
            .expect("the answer follows");
    text[start..end]
        .lines()
        .map(|l| l.strip_prefix("- ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("{- ", "{")
        .replace("}, - ", "}, ")
}

/// The `n`th Passcreator example body (0: pass_created, 1: pass_updated, 2: pass_voided,
/// 3: first_pushnotification_registered, 4: pushnotification_registered,
/// 5: pushnotification_unregistered), as written: valid JSON, though example 3 has the key
/// `bulkCreationId` twice (the last one counts, as in every JSON parser we know).
pub fn passcreator(n: usize) -> String {
    let text = seed("passcreator-pass-webhooks.txt");
    let mut from = 0;
    for _ in 0..n {
        from += text[from..]
            .find("Webhook POST request body")
            .expect("an example body")
            + 1;
    }
    let at = from + text[from..].find("Webhook POST request body").unwrap();
    object_at(&text, at).to_owned()
}

/// A Skycore wallet postback after its title (`3. Response: …`). The installation and
/// uninstallation examples miss the comma after `"install-id":"…"`: put back.
pub fn skycore_json(title: &str) -> String {
    let text = seed("skycore-wallet-postback-json.txt");
    let at = text.find(title).expect("the title is in the seed");
    object_at(&text, at).replace("\"d04d58f636b245d5\"\n", "\"d04d58f636b245d5\",\n")
}

/// The `<POSTBACK>` of a Skycore XML seed, unescaped from its page (`&lt;` …). The bundle
/// page breaks an attribute name in two (`xsi:no` / `NamespaceSchemaLocation`): joined.
pub fn skycore_xml(file: &str) -> String {
    let text = seed(file);
    let start = text.find("&lt;POSTBACK").expect("a postback");
    let end = text[start..].find("&lt;/POSTBACK&gt;").expect("its end") + start;
    text[start..end + "&lt;/POSTBACK&gt;".len()]
        .replace(
            "xsi:no\nNamespaceSchemaLocation",
            "xsi:noNamespaceSchemaLocation",
        )
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
