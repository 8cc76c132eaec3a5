//! `passdesk-app`: the desktop / kiosk shell. It starts the counter service in this process
//! (`passdesk::launch`, the same service as `passdesk serve`) on a free loopback port with a
//! key made for this launch in the station's role (a gate's reader key, a till's cashier key,
//! bound to its reader; never a manager's), and opens a window on the service's screens.
//! Thin: every decision, loyalty change and screen is the service's and the UI's; the shell
//! only owns the window, kiosk mode, the tray and start-up.

// Release builds are a GUI program on Windows; harmless elsewhere.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod kiosk;
mod tray;
mod window;

use anyhow::Context as _;
use clap::Parser;
use passdesk::config::{AppConfig, Config, StationRole};
use passdesk::context::Context;
use passdesk::launch::{self, LaunchKey, Options, Running};
use passdesk_core::api_keys::Role;
use passdesk_core::scan::ReaderId;
use serde_json::json;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;
use tauri::Manager;

/// The name of the key each launch makes (and revokes at exit).
const LAUNCH_KEY_NAME: &str = "desktop app launch key";

#[derive(Debug, Parser)]
#[command(
    name = "passdesk-app",
    version,
    about = "Passdesk's desktop / kiosk app: the counter service and its screens in one window"
)]
struct Args {
    /// Where the database and keys live [default: ~/.local/share/passdesk]
    #[arg(long, env = "PASSDESK_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Load the demo counter first (a festival, a jazz night, a coffee shop).
    #[arg(long)]
    demo: bool,
    /// Kiosk mode, whatever `[app] kiosk` says.
    #[arg(long, conflicts_with = "no_kiosk")]
    kiosk: bool,
    /// A normal window, whatever `[app] kiosk` says.
    #[arg(long)]
    no_kiosk: bool,
    /// The screen to open: gate, cashier, manager or status [config `[app] screen`].
    #[arg(long)]
    screen: Option<String>,
    /// The reader id this station scans as [config `[app] reader`]; the launch key scans only
    /// as it.
    #[arg(long)]
    reader: Option<String>,
    /// The launch key's role: reader (a gate) or cashier (a till) [config `[app] role`;
    /// default: reader for the gate screen, cashier for the others]. Never manager or admin: a
    /// manager signs in on the manager screen with their own key.
    #[arg(long, value_name = "reader|cashier")]
    role: Option<StationRole>,
    /// Where the service listens [default: 127.0.0.1:0, a free loopback port]. A LAN address
    /// lets a manager's tablet in (every API call still needs a key).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Do not watch PC/SC readers.
    #[arg(long)]
    no_readers: bool,
    /// Do not use the camera.
    #[arg(long)]
    no_camera: bool,
    /// Added by WebKitWebDriver when it launches the app for a test.
    #[arg(long, hide = true)]
    automation: bool,
}

/// What the window's commands and the tray share.
pub struct Shell {
    /// The service (from `setup` on); taken out at exit to shut it down.
    pub service: Mutex<Option<Running>>,
    /// The service's `http://127.0.0.1:PORT`.
    pub url: OnceLock<String>,
    pub app: AppConfig,
    /// Kiosk mode is on (from `[app] kiosk` / `--kiosk` until a manager leaves it).
    pub kiosk: AtomicBool,
    /// When this process started, for the first-paint time.
    pub started: Instant,
    pub first_paint_ms: OnceLock<u64>,
}

impl Shell {
    /// The role of a presented key, asked of the service's own key store.
    pub fn authenticate(&self, key: &str) -> anyhow::Result<Option<Role>> {
        let service = self.service.lock().unwrap_or_else(|p| p.into_inner());
        service
            .as_ref()
            .context("the counter service has stopped")?
            .authenticate(key)
    }
}

fn main() -> ExitCode {
    let started = Instant::now();
    let args = Args::parse();
    passdesk::logging::init();
    match run(args, started) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args, started: Instant) -> anyhow::Result<ExitCode> {
    let ctx = Context::new(args.data_dir.clone())?;
    let mut app = Config::load(ctx.data_dir())?.app;
    if args.kiosk {
        app.kiosk = true;
    }
    if args.no_kiosk {
        app.kiosk = false;
    }
    if let Some(s) = args.screen {
        app.screen = s;
    }
    if let Some(r) = args.reader {
        app.reader = Some(r);
    }
    if let Some(role) = args.role {
        app.role = Some(role);
    }
    if !["gate", "cashier", "manager", "status"].contains(&app.screen.as_str()) {
        anyhow::bail!(
            "no screen {:?}: use gate, cashier, manager or status",
            app.screen
        );
    }
    let options = Options {
        listen: Some(
            args.listen
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
        ),
        no_readers: args.no_readers,
        no_camera: args.no_camera,
        launch_key: Some(station_key(&app)?),
    };
    let shell = Arc::new(Shell {
        service: Mutex::new(None),
        url: OnceLock::new(),
        kiosk: AtomicBool::new(app.kiosk),
        app,
        started,
        first_paint_ms: OnceLock::new(),
    });

    let setup_shell = shell.clone();
    let demo = args.demo;
    let tauri_app = tauri::Builder::default()
        // First: a second launch only brings the running window forward and exits, before it
        // starts a service of its own (plugins are set up before `setup` below).
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            if let Some(w) = app.get_webview_window(window::MAIN) {
                let _ = w.unminimize();
                let _ = w.show();
                let _ = w.set_focus();
            }
        }))
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            None,
        ))
        .manage(shell.clone())
        .on_window_event(|window, event| {
            // A kiosk window does not close (Alt+F4); Quit in the tray still ends the app.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                let shell = window.state::<Arc<Shell>>();
                if shell.kiosk.load(Ordering::Relaxed) {
                    api.prevent_close();
                }
            }
        })
        .invoke_handler(tauri::generate_handler![kiosk::leave_kiosk, kiosk::painted])
        .setup(move |app| {
            let shell = setup_shell;
            if demo {
                passdesk::commands::demo::load(&ctx)?;
            } else {
                // A first launch on a new machine starts with an empty counter, not an error.
                ctx.init_store()?;
            }
            let running = launch::start(&ctx, options)?;
            let key = running
                .api_key
                .clone()
                .context("the service made no launch key")?;
            println!(
                "{}",
                json!({
                    "listening": running.url,
                    "nodeId": running.node_id,
                    "dataDir": ctx.data_dir(),
                    "kiosk": shell.app.kiosk,
                    "serviceReadyMs": started.elapsed().as_millis() as u64,
                })
            );
            let _ = shell.url.set(running.url.clone());
            *shell.service.lock().unwrap_or_else(|p| p.into_inner()) = Some(running);
            autostart(app, shell.app.autostart);
            window::open(app.handle(), &shell, &key)?;
            // SIGTERM (systemd, a shutdown) and Ctrl-C end the app as Quit does: the service
            // finishes its requests, checkpoints and revokes the launch key.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                passdesk::commands::serve::shutdown_signal().await;
                handle.exit(0);
            });
            if shell.app.tray {
                // A desktop without a tray host still gets its window.
                if let Err(e) = tray::create(app.handle(), shell.clone()) {
                    tracing::warn!(error = %e, "no tray icon");
                }
            }
            Ok(())
        })
        .build(tauri::generate_context!())
        .context("cannot start")?;

    tauri_app.run(move |_app, event| {
        if let tauri::RunEvent::Exit = event {
            let service = shell
                .service
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            if let Some(s) = service {
                if let Err(e) = s.shutdown() {
                    tracing::error!(error = %format!("{e:#}"), "the service did not stop cleanly");
                }
            }
        }
    });
    Ok(ExitCode::SUCCESS)
}

/// The window's key: the station's role (a gate's reader, a till's cashier; never a manager's,
/// since whoever stands at the kiosk holds it), bound to the station's reader when it has one,
/// so that a gate's key scans only as that gate.
fn station_key(app: &AppConfig) -> anyhow::Result<LaunchKey> {
    let readers = app
        .reader
        .as_deref()
        .map(ReaderId::parse)
        .transpose()
        .context("--reader / [app] reader")?
        .into_iter()
        .collect();
    Ok(LaunchKey {
        name: LAUNCH_KEY_NAME.into(),
        role: app.station_role().role(),
        readers,
    })
}

/// `[app] autostart`: an XDG autostart entry while true, none while false.
fn autostart(app: &tauri::App, wanted: bool) {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = app.autolaunch();
    let result = match (wanted, launcher.is_enabled()) {
        (true, Ok(false)) => launcher.enable(),
        (false, Ok(true)) => launcher.disable(),
        (_, Err(e)) => Err(e),
        _ => Ok(()),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, wanted, "cannot set start at login");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_station_key_is_the_screens_role_bound_to_its_reader() {
        let gate = AppConfig {
            screen: "gate".into(),
            reader: Some("gate-a".into()),
            ..AppConfig::default()
        };
        let k = station_key(&gate).unwrap();
        assert_eq!(k.role, Role::Reader);
        assert_eq!(k.readers, [ReaderId::parse("gate-a").unwrap()]);
        let till = AppConfig {
            screen: "manager".into(),
            ..AppConfig::default()
        };
        let k = station_key(&till).unwrap();
        assert_eq!(
            k.role,
            Role::Cashier,
            "a manager signs in with their own key"
        );
        assert!(k.readers.is_empty());
        let bad = AppConfig {
            reader: Some("gate a".into()),
            ..AppConfig::default()
        };
        let err = format!("{:#}", station_key(&bad).unwrap_err());
        assert!(err.starts_with("--reader / [app] reader"), "{err}");
    }

    #[test]
    fn role_flag_refuses_a_manager() {
        let err = Args::try_parse_from(["passdesk-app", "--role", "manager"]).unwrap_err();
        assert!(err.to_string().contains("a manager signs in"), "{err}");
        let args = Args::try_parse_from(["passdesk-app", "--role", "reader"]).unwrap();
        assert_eq!(args.role, Some(StationRole::Reader));
    }
}
