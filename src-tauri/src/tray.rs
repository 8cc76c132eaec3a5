//! The tray icon: whether the counter service answers and which readers are connected, with
//! Show and Quit. It asks the service every few seconds from its own thread.

use crate::Shell;
use std::sync::Arc;
use std::time::Duration;
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager};

const ONLINE: &[u8] = include_bytes!("../icons/tray-online.png");
const OFFLINE: &[u8] = include_bytes!("../icons/tray-offline.png");

pub fn create(app: &AppHandle, shell: Arc<Shell>) -> tauri::Result<()> {
    let service = MenuItem::with_id(
        app,
        "service",
        "Counter service: starting",
        false,
        None::<&str>,
    )?;
    let readers = MenuItem::with_id(app, "readers", "Readers: …", false, None::<&str>)?;
    let show = MenuItem::with_id(app, "show", "Show", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &service,
            &readers,
            &PredefinedMenuItem::separator(app)?,
            &show,
            &quit,
        ],
    )?;
    let tray = TrayIconBuilder::with_id("passdesk")
        .icon(Image::from_bytes(ONLINE)?)
        .tooltip("Passdesk")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "show" => {
                if let Some(w) = app.get_webview_window(crate::window::MAIN) {
                    let _ = w.unminimize();
                    let _ = w.show();
                    let _ = w.set_focus();
                }
            }
            "quit" => app.exit(0),
            _ => {}
        })
        .build(app)?;
    let online_icon = Image::from_bytes(ONLINE)?.to_owned();
    let offline_icon = Image::from_bytes(OFFLINE)?.to_owned();
    std::thread::Builder::new()
        .name("passdesk-tray".into())
        .spawn(move || {
            let health = format!("{}/health", shell.url.get().map_or("", String::as_str));
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(2)))
                .build()
                .into();
            let mut last: Option<(bool, String)> = None;
            loop {
                let online = agent.get(&health).call().is_ok();
                let devices = {
                    let s = shell.service.lock().unwrap_or_else(|p| p.into_inner());
                    match s.as_ref() {
                        Some(s) => s.devices(),
                        None => return, // shutting down
                    }
                };
                let connected: Vec<String> = devices
                    .iter()
                    .filter(|d| d.connected)
                    .map(|d| d.reader_id.clone().unwrap_or_else(|| d.name.clone()))
                    .collect();
                let readers_text = if devices.is_empty() {
                    "Readers: none configured or found".to_string()
                } else if connected.is_empty() {
                    format!("Readers: 0 of {} connected", devices.len())
                } else {
                    format!(
                        "Readers: {} of {} connected ({})",
                        connected.len(),
                        devices.len(),
                        connected.join(", ")
                    )
                };
                let now = (online, readers_text);
                if last.as_ref() != Some(&now) {
                    let service_text = if now.0 {
                        "Counter service: online".to_string()
                    } else {
                        "Counter service: NOT ANSWERING".to_string()
                    };
                    let _ = service.set_text(service_text);
                    let _ = readers.set_text(&now.1);
                    let _ = tray.set_icon(Some(if now.0 {
                        online_icon.clone()
                    } else {
                        offline_icon.clone()
                    }));
                    let _ = tray.set_tooltip(Some(format!(
                        "Passdesk: {}",
                        if now.0 { "online" } else { "offline" }
                    )));
                    last = Some(now);
                }
                std::thread::sleep(Duration::from_secs(3));
            }
        })?;
    Ok(())
}
