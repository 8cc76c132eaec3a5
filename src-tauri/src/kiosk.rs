//! The window's two commands: the first-paint report, and leaving kiosk mode.

use crate::Shell;
use passdesk_core::api_keys::Role;
use std::sync::Arc;
use tauri::{State, WebviewWindow};

/// The page calls this once its first frame is on screen (two animation frames after
/// DOMContentLoaded); the time from process start is printed once as a JSON line.
#[tauri::command]
pub fn painted(shell: State<'_, Arc<Shell>>) {
    let ms = shell.started.elapsed().as_millis() as u64;
    if shell.first_paint_ms.set(ms).is_ok() {
        println!("{}", serde_json::json!({ "firstPaintMs": ms }));
        tracing::info!(first_paint_ms = ms, "first paint");
    }
}

/// Ctrl+Alt+K on a kiosk asks for a key; a live manager (or admin) key, checked by the
/// service's own key store, gives back a normal window. Nothing else changes: the screens and
/// their key stay as they were.
#[tauri::command]
pub fn leave_kiosk(
    key: String,
    window: WebviewWindow,
    shell: State<'_, Arc<Shell>>,
) -> Result<(), String> {
    match shell.authenticate(&key) {
        Ok(Some(role)) if role >= Role::Manager => {
            tracing::info!(%role, "kiosk mode left with a manager key");
            shell
                .kiosk
                .store(false, std::sync::atomic::Ordering::Relaxed);
            let _ = window.set_always_on_top(false);
            let _ = window.set_fullscreen(false);
            let _ = window.set_decorations(true);
            Ok(())
        }
        Ok(Some(role)) => {
            tracing::warn!(%role, "kiosk: a key without the manager role was refused");
            Err(format!(
                "a {role} key cannot leave kiosk mode; a manager's key can"
            ))
        }
        Ok(None) => {
            tracing::warn!("kiosk: an unknown or revoked key was refused");
            Err("this is not a valid key (unknown or revoked)".into())
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "kiosk: cannot check a key");
            Err("the key cannot be checked now; try again".into())
        }
    }
}
