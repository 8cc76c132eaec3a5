//! The one window: the service's screens, and the script the shell adds to them.

use crate::Shell;
use std::sync::Arc;
use tauri::{AppHandle, WebviewUrl, WebviewWindowBuilder};

pub const MAIN: &str = "main";

/// Added to every page before its own scripts: reports the first paint and, in kiosk mode,
/// keeps the counter a counter (no context menu, zoom or devtools keys, the pointer hidden when
/// idle, Ctrl+Alt+K to leave with a manager key). The UI (`ui/`) knows nothing of it.
const SCRIPT: &str = include_str!("shell.js");

pub fn open(app: &AppHandle, shell: &Arc<Shell>, key: &str) -> tauri::Result<()> {
    let cfg = &shell.app;
    // The key goes in the fragment: the UI moves it to sessionStorage and wipes the address;
    // a fragment is never sent to a server, so no log holds it.
    let mut fragment = format!("#/{}?key={key}", cfg.screen);
    if let Some(reader) = &cfg.reader {
        fragment.push_str("&reader=");
        fragment.extend(url_escape(reader));
    }
    let url: tauri::Url = format!("{}/{fragment}", shell.url.get().map_or("", String::as_str))
        .parse()
        .map_err(|e| tauri::Error::Anyhow(anyhow::anyhow!("bad service URL: {e}")))?;
    let origin = url.origin();
    let script = SCRIPT
        .replace("__KIOSK__", if cfg.kiosk { "true" } else { "false" })
        .replace(
            "__HIDE_CURSOR_MS__",
            &(cfg.hide_cursor_after_secs.saturating_mul(1000)).to_string(),
        );
    let kiosk = cfg.kiosk;
    WebviewWindowBuilder::new(app, MAIN, WebviewUrl::External(url))
        .title("Passdesk")
        .inner_size(1280.0, 800.0)
        .min_inner_size(1024.0, 700.0)
        .initialization_script(&script)
        // The window shows this counter and nothing else: a link elsewhere does not navigate.
        .on_navigation(move |u| u.origin() == origin)
        .zoom_hotkeys_enabled(false)
        .devtools(!kiosk)
        .fullscreen(kiosk)
        .decorations(!kiosk)
        .always_on_top(kiosk)
        .build()?;
    Ok(())
}

/// Percent-encodes what is not an unreserved URL character.
fn url_escape(s: &str) -> impl Iterator<Item = char> + '_ {
    s.bytes().flat_map(|b| {
        let keep = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
        let text: Vec<char> = if keep {
            vec![b as char]
        } else {
            format!("%{b:02X}").chars().collect()
        };
        text
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reader_ids_are_escaped() {
        assert_eq!(
            super::url_escape("gate a&b").collect::<String>(),
            "gate%20a%26b"
        );
        assert_eq!(super::url_escape("till-1").collect::<String>(), "till-1");
    }
}
