//! Starting the counter service inside a process: `passdesk serve` runs it until a signal, the
//! desktop app (`src-tauri`) runs it next to its window. Both get the same service: the
//! configuration of the data directory, the HTTP API and UI on a loopback port, the PC/SC and
//! serial readers, and, when asked, a key made for this launch and revoked when it ends.

use crate::config::Config;
use crate::context::Context;
use crate::pipeline::{camera, pcsc, serial, DeviceStatus};
use crate::server::{self, state::AppState};
use anyhow::Context as _;
use passdesk_core::api_keys::{self, Role};
use passdesk_core::Timestamp;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

/// How to start. Everything else comes from `passdesk.toml` in the data directory.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Overrides `listen` (`127.0.0.1:0` picks a free port).
    pub listen: Option<SocketAddr>,
    /// Do not watch PC/SC readers, whatever `[nfc] enabled` says.
    pub no_readers: bool,
    /// Do not use the camera, whatever `[camera] enabled` says.
    pub no_camera: bool,
    /// Create a key for this launch (shown once, revoked at shutdown).
    pub launch_key: Option<LaunchKey>,
}

/// A key that lives as long as one launch, named `NAME (pid N)`. Keys of the same name left
/// behind by a launch that did not end cleanly (power cut, SIGKILL), whose process is gone,
/// are revoked before the new one is made; a live process keeps its key.
#[derive(Debug, Clone)]
pub struct LaunchKey {
    pub name: String,
    pub role: Role,
}

impl LaunchKey {
    fn full_name(&self, pid: u32) -> String {
        format!("{} (pid {pid})", self.name)
    }

    /// The pid of a launch key of this name, if `name` is one.
    fn pid_of(&self, name: &str) -> Option<u32> {
        name.strip_prefix(&self.name)?
            .strip_prefix(" (pid ")?
            .strip_suffix(')')?
            .parse()
            .ok()
    }
}

/// Whether a process runs. Where this cannot be known, it is taken to run.
fn process_runs(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// The service, running. Stop it with [`Running::shutdown`]; dropping it stops it too.
pub struct Running {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub addr: SocketAddr,
    pub node_id: String,
    /// This launch's key, when [`Options::launch_key`] asked for one.
    pub api_key: Option<String>,
    /// Milliseconds from `start` to listening.
    pub ready_ms: u64,
    state: AppState,
    runtime: Option<tokio::runtime::Runtime>,
    stop_serving: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    stop_readers: Arc<AtomicBool>,
    readers: Option<JoinHandle<()>>,
    serial: Option<serial::SerialReaders>,
    camera: Option<camera::Camera>,
    launch_key_id: Option<String>,
}

/// Starts the service on its own tokio runtime and returns once it listens.
pub fn start(ctx: &Context, options: Options) -> anyhow::Result<Running> {
    let started = Instant::now();
    let mut config = Config::load(ctx.data_dir())?;
    if let Some(listen) = options.listen {
        config.listen = listen;
    }
    if options.no_readers {
        config.nfc.enabled = false;
    }
    if options.no_camera {
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
        .map(serial::reader_config)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let camera_settings = if config.camera.enabled {
        Some(camera::settings(&config.camera)?)
    } else {
        None
    };
    let (store, node) = ctx.open_with_node()?;
    let launch_key = match &options.launch_key {
        Some(k) => {
            let now = Timestamp::now();
            for old in api_keys::list(store.conn())? {
                let gone = k.pid_of(&old.name).is_some_and(|pid| !process_runs(pid));
                if gone && old.revoked_at.is_none() {
                    api_keys::revoke(store.conn(), &old.id, now)?;
                }
            }
            let name = k.full_name(std::process::id());
            let (key, text) = api_keys::create(store.conn(), &name, k.role, now)?;
            Some((key.id, text.0))
        }
        None => None,
    };
    drop(store);
    let db = server::db::Db::open(&ctx.db_path(), 3)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("passdesk-service")
        .build()?;
    let listener = runtime.block_on(async {
        tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))
    })?;
    let addr = listener.local_addr()?;
    let node_id = node.node_id.clone();
    let nfc = config.nfc.clone();
    let camera_config = config.camera.clone();
    let handle = runtime.handle().clone();
    let (stop_streams, shutdown) = tokio::sync::watch::channel(false);
    let state = {
        let _guard = runtime.enter();
        server::state(db.clone(), node, config, shutdown)
    };
    let stop_readers = Arc::new(AtomicBool::new(false));
    let readers = tap.map(|(tap, inits)| {
        pcsc::spawn(
            state.clone(),
            nfc,
            tap,
            inits,
            handle.clone(),
            stop_readers.clone(),
        )
    });
    let serial = {
        let _guard = runtime.enter();
        serial::spawn(state.clone(), serial_configs, handle.clone())?
    };
    let camera = {
        let _guard = runtime.enter();
        camera_settings
            .map(|settings| camera::spawn(state.clone(), &camera_config, settings, handle.clone()))
            .transpose()?
    };
    let (stop_serving, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(server::serve(listener, state.clone(), async move {
        let _ = stopped.await;
        let _ = stop_streams.send(true);
    }));
    tracing::info!(%addr, "serving");
    let (launch_key_id, api_key) = launch_key.unzip();
    Ok(Running {
        url: format!("http://{addr}"),
        addr,
        node_id,
        api_key,
        ready_ms: started.elapsed().as_millis() as u64,
        state,
        runtime: Some(runtime),
        stop_serving: Some(stop_serving),
        server: Some(server),
        stop_readers,
        readers,
        serial: Some(serial),
        camera,
        launch_key_id,
    })
}

impl Running {
    /// Blocks this thread until `signal` resolves (on the service's runtime).
    pub fn block_on<F: std::future::Future>(&self, signal: F) -> F::Output {
        self.runtime
            .as_ref()
            .expect("the runtime lives until shutdown")
            .block_on(signal)
    }

    /// The role of a presented API key, checked against the service's own key store (`None`:
    /// not a live key).
    pub fn authenticate(&self, key: &str) -> anyhow::Result<Option<Role>> {
        let key = key.trim().to_owned();
        let db = self.state.db.clone();
        // Through a channel rather than `block_on`, so that any thread may ask, even one
        // inside another tokio runtime (the app's).
        let (tx, rx) = std::sync::mpsc::channel();
        self.runtime
            .as_ref()
            .context("the service has stopped")?
            .spawn(async move {
                let found = db
                    .read(move |s| api_keys::authenticate(s.conn(), &key))
                    .await;
                let _ = tx.send(found);
            });
        let found = rx.recv().context("the service has stopped")???;
        Ok(found.map(|(_, role)| role))
    }

    /// Readers and other devices, as `/status` lists them.
    pub fn devices(&self) -> Vec<DeviceStatus> {
        self.state.devices.list()
    }

    /// Stops accepting requests, lets those in flight finish, stops the readers, closes the
    /// store and revokes this launch's key.
    pub fn shutdown(mut self) -> anyhow::Result<()> {
        self.stop()
    }

    fn stop(&mut self) -> anyhow::Result<()> {
        let Some(runtime) = self.runtime.take() else {
            return Ok(());
        };
        tracing::info!("shutting down: finishing requests in flight");
        if let Some(tx) = self.stop_serving.take() {
            let _ = tx.send(());
        }
        let served = match self.server.take() {
            Some(server) => runtime
                .block_on(server)
                .map_err(|e| anyhow::anyhow!("the service task failed: {e}"))
                .and_then(|r| r),
            None => Ok(()),
        };
        self.stop_readers.store(true, Ordering::Relaxed);
        if let Some(h) = self.readers.take() {
            h.join()
                .map_err(|_| anyhow::anyhow!("the reader thread panicked"))?;
        }
        if let Some(s) = self.serial.take() {
            s.stop();
        }
        if let Some(c) = self.camera.take() {
            c.stop();
        }
        if let Some(id) = self.launch_key_id.take() {
            let db = self.state.db.clone();
            runtime.block_on(async move {
                db.write(move |s| api_keys::revoke(s.conn(), &id, Timestamp::now()))
                    .await
            })??;
        }
        runtime.shutdown_timeout(std::time::Duration::from_secs(2));
        served
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::error!(error = %format!("{e:#}"), "the service did not stop cleanly");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_key_names_carry_the_pid() {
        let k = LaunchKey {
            name: "desktop app launch key".into(),
            role: Role::Manager,
        };
        assert_eq!(k.full_name(42), "desktop app launch key (pid 42)");
        assert_eq!(k.pid_of("desktop app launch key (pid 42)"), Some(42));
        assert_eq!(k.pid_of("desktop app launch key"), None);
        assert_eq!(k.pid_of("till 1 (pid 42)"), None);
        assert!(process_runs(std::process::id()));
    }
}
