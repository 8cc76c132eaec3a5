//! `passdesk serve`: the running counter. Prints one JSON line when it is ready to take
//! requests (`{"listening": "http://…", …}`), serves until SIGTERM or Ctrl-C, then shuts down
//! gracefully. `--demo` first loads the demo counter and prints a key to try the API with.

use crate::context::Context;
use crate::launch::{self, LaunchKey, Options};
use crate::output::print_json;
use passdesk_core::api_keys::Role;
use serde_json::json;
use std::net::SocketAddr;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on [default: 127.0.0.1:8917; config `listen`, env PASSDESK_LISTEN].
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Load the demo counter first and print an admin key for this run.
    #[arg(long)]
    pub demo: bool,
    /// Do not watch PC/SC readers (whatever `[nfc] enabled` says).
    #[arg(long)]
    pub no_readers: bool,
    /// Do not use the camera (whatever `[camera] enabled` says).
    #[arg(long)]
    pub no_camera: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    if args.demo {
        super::demo::load(ctx)?;
    }
    let running = launch::start(
        ctx,
        Options {
            listen: args.listen,
            no_readers: args.no_readers,
            no_camera: args.no_camera,
            // The demo's launch key lives only as long as this run.
            launch_key: args.demo.then(|| LaunchKey {
                name: "serve --demo launch key".into(),
                role: Role::Admin,
                readers: Vec::new(),
            }),
        },
    )?;
    let mut ready = json!({
        "listening": running.url,
        "nodeId": running.node_id,
        "dataDir": ctx.data_dir(),
        "readyMs": started.elapsed().as_millis() as u64,
    });
    if let Some(key) = &running.api_key {
        ready["apiKey"] = json!(key);
    }
    print_json(&ready)?;
    running.block_on(shutdown_signal());
    running.shutdown()?;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
