//! `passdesk serve`: the running counter. Prints one JSON line when it is ready to take
//! requests (`{"listening": "http://…", …}`), serves until SIGTERM or Ctrl-C, then shuts down
//! gracefully. `--demo` first loads the demo counter and prints a key to try the API with.

use crate::config::Config;
use crate::context::Context;
use crate::output::print_json;
use crate::pipeline::pcsc;
use crate::server;
use anyhow::Context as _;
use passdesk_core::api_keys::{self, Role};
use passdesk_core::Timestamp;
use serde_json::json;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

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
    let started = Instant::now();
    if args.demo {
        super::demo::load(ctx)?;
    }
    let mut config = Config::load(ctx.data_dir())?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if args.no_readers {
        config.nfc.enabled = false;
    }
    if args.no_camera {
        config.camera.enabled = false;
    }
    // Key files are read now: a wrong path stops the start with its name.
    let tap = if config.nfc.enabled {
        Some((
            pcsc::tap_config(&config.nfc)?,
            pcsc::reader_inits(&config.nfc)?,
        ))
    } else {
        None
    };
    let serial_configs = config
        .serial
        .iter()
        .map(crate::pipeline::serial::reader_config)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let camera_settings = if config.camera.enabled {
        Some(crate::pipeline::camera::settings(&config.camera)?)
    } else {
        None
    };
    let (store, node) = ctx.open_with_node()?;
    let launch_key = if args.demo {
        let (key, text) = api_keys::create(
            store.conn(),
            "serve --demo launch key",
            Role::Admin,
            Timestamp::now(),
        )?;
        Some((key.id, text.0))
    } else {
        None
    };
    drop(store);
    let db = server::db::Db::open(&ctx.db_path(), 3)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let addr = listener.local_addr()?;
        let node_id = node.node_id.clone();
        let nfc = config.nfc.clone();
        let camera_config = config.camera.clone();
        let (stop_streams, shutdown) = tokio::sync::watch::channel(false);
        let state = server::state(db.clone(), node, config, shutdown);
        let stop = Arc::new(AtomicBool::new(false));
        let readers = tap.map(|(tap, inits)| {
            pcsc::spawn(
                state.clone(),
                nfc,
                tap,
                inits,
                tokio::runtime::Handle::current(),
                stop.clone(),
            )
        });
        let serial = crate::pipeline::serial::spawn(
            state.clone(),
            serial_configs,
            tokio::runtime::Handle::current(),
        )?;
        let camera = camera_settings
            .map(|settings| {
                crate::pipeline::camera::spawn(
                    state.clone(),
                    &camera_config,
                    settings,
                    tokio::runtime::Handle::current(),
                )
            })
            .transpose()?;
        let mut ready = json!({
            "listening": format!("http://{addr}"),
            "nodeId": node_id,
            "dataDir": ctx.data_dir(),
            "readyMs": started.elapsed().as_millis() as u64,
        });
        if let Some((_, key)) = &launch_key {
            ready["apiKey"] = json!(key);
        }
        print_json(&ready)?;
        tracing::info!(%addr, "serving");
        server::serve(listener, state, async move {
            shutdown_signal().await;
            let _ = stop_streams.send(true);
        })
        .await?;
        stop.store(true, Ordering::Relaxed);
        if let Some(h) = readers {
            tokio::task::spawn_blocking(move || h.join())
                .await?
                .map_err(|_| anyhow::anyhow!("the reader thread panicked"))?;
        }
        tokio::task::spawn_blocking(move || serial.stop()).await?;
        if let Some(camera) = camera {
            tokio::task::spawn_blocking(move || camera.stop()).await?;
        }
        if let Some((id, _)) = launch_key {
            // The demo's launch key lives only as long as this run.
            db.write(move |s| api_keys::revoke(s.conn(), &id, Timestamp::now()))
                .await??;
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
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
    tracing::info!("shutting down: finishing requests in flight");
}
