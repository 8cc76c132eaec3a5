//! Starting the counter service inside a process: `passdesk serve` runs it until a signal, the
//! desktop app (`src-tauri`) runs it next to its window. Both get the same service: the
//! configuration of the data directory, the HTTP API and UI on a loopback port, the PC/SC and
//! serial readers, and, when asked, a key made for this launch and revoked when it ends. It
//! holds the data directory's shared lock while it runs (`passdesk restore` refuses until
//! it has ended) and stops in an order that loses no scan ([`Running::shutdown`]).

use crate::config::Config;
use crate::context::Context;
use crate::data_dir::DataDirLock;
use crate::pipeline::{camera, pcsc, serial, DeviceStatus};
use crate::server::scan_queue::ScanQueue;
use crate::server::{self, state::AppState};
use crate::workers::apns;
use crate::workers::sync::{self as sync_worker, SyncWorker};
use crate::workers::upstream::{self as upstream_worker, UpstreamWorker};
use crate::workers::webhooks::{self, WebhookWorker};
use anyhow::Context as _;
use passdesk_core::api_keys::{self, Role};
use passdesk_core::scan::ReaderId;
use passdesk_core::Timestamp;
use std::net::SocketAddr;
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
    /// The readers it scans as (a station's own reader); empty: any reader.
    pub readers: Vec<ReaderId>,
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
    stop_accepting: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    stop_streams: tokio::sync::watch::Sender<bool>,
    scan_queue: Option<ScanQueue>,
    webhooks: Option<WebhookWorker>,
    sync: Option<SyncWorker>,
    upstream: Option<UpstreamWorker>,
    apns: Option<apns::ApnsWorker>,
    pcsc: Option<pcsc::PcscReaders>,
    serial: Option<serial::SerialReaders>,
    camera: Option<camera::Camera>,
    launch_key_id: Option<String>,
    /// Held while the service runs: `passdesk restore` refuses to replace the database under it.
    lock: Option<DataDirLock>,
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
    // Checks and corrects the data directory's modes and takes the context's lock.
    let (mut store, node) = ctx.open_with_node()?;
    // The service's own hold on the data directory, for as long as it runs, whatever becomes
    // of `ctx` (the desktop app starts the service from a callback).
    let lock = DataDirLock::shared(ctx.data_dir())?;
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
            let (key, text) =
                store.write(|tx| api_keys::create_bound(tx, &name, k.role, &k.readers, now))?;
            Some((key.id, text.0))
        }
        None => None,
    };
    // Without `[upstream.passentry]` the store is detached from any PassEntry account, so
    // retention no longer keeps outbox events for it.
    if config.upstream.passentry.is_none() {
        store.write(|tx| passdesk_core::upstream::state::detach(tx))?;
    }
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
    let (stop_streams, streams_stopped) = tokio::sync::watch::channel(false);
    let webhook_settings = webhooks::Settings::from_config(&config.webhooks);
    let sync_settings = sync_worker::Settings::from_config(&config.sync);
    let sync_enabled = config.sync.enabled;
    // The PassEntry worker runs for a configured, enabled account.
    let passentry = config.upstream.passentry.clone().filter(|p| p.enabled);
    let apple_push = config.wallet.apple.clone().filter(|a| a.push);
    let (state, scan_queue, webhook_worker, sync, upstream, apns) = {
        let _guard = runtime.enter();
        let (state, scan_queue) = server::state(db.clone(), node, config, streams_stopped);
        let worker = webhooks::spawn(
            db.clone(),
            webhook_settings,
            state.webhooks.clone(),
            Some(state.events.subscribe()),
        )?;
        // The sync worker runs for the hub this counter joined, or waits for a join.
        let sync = if sync_enabled {
            Some(sync_worker::spawn(
                db.clone(),
                state.node.node_id.clone(),
                sync_settings,
                state.sync.clone(),
                state.events.subscribe(),
                state.events.clone(),
            )?)
        } else {
            None
        };
        let upstream = passentry
            .map(|p| {
                upstream_worker::spawn(
                    db.clone(),
                    state.node.node_id.clone(),
                    p,
                    state.upstream.clone(),
                    state.events.subscribe(),
                )
            })
            .transpose()?;
        // The APNs worker runs where Apple Wallet is loaded and `[wallet.apple] push` is on.
        // Its certificate not loading leaves the counter running without pushes (logged,
        // and the reason on /status).
        let apns = match (apple_push, state.wallets.apple.ready()) {
            (Some(apple), Some(_)) => match apns::Settings::from_config(&apple)
                .and_then(|settings| apns::spawn(db.clone(), settings, state.apns.clone()))
            {
                Ok(worker) => Some(worker),
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "no APNs pushes: the worker cannot start");
                    state.apns.not_started(format!("{e:#}"));
                    None
                }
            },
            _ => None,
        };
        (state, scan_queue, worker, sync, upstream, apns)
    };
    let (pcsc, serial, camera) = {
        let _guard = runtime.enter();
        let pcsc = tap
            .map(|(tap, inits)| pcsc::spawn(state.clone(), nfc, tap, inits, &handle))
            .transpose()?;
        let serial = serial::spawn(state.clone(), serial_configs, handle.clone())?;
        let camera = camera_settings
            .map(|settings| camera::spawn(state.clone(), &camera_config, settings, handle.clone()))
            .transpose()?;
        (pcsc, serial, camera)
    };
    let (stop_accepting, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(server::serve(listener, state.clone(), async move {
        let _ = stopped.await;
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
        stop_accepting: Some(stop_accepting),
        server: Some(server),
        stop_streams,
        scan_queue: Some(scan_queue),
        webhooks: Some(webhook_worker),
        sync,
        upstream,
        apns,
        pcsc,
        serial: Some(serial),
        camera,
        launch_key_id,
        lock: Some(lock),
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

    /// Stops the service in an order that loses nothing: no new scans (the listener takes no
    /// new connections, the readers, serial ports and camera stop), every scan already taken
    /// is decided, committed and answered, the webhook worker stops (requests in flight
    /// abandoned, their deliveries left pending), the sync worker stops (what it has not
    /// pushed stays pending), the event streams end, the requests in
    /// flight finish, the launch key is revoked, the store is checkpointed and closed. Every step
    /// runs even when one before it failed (a reader thread that panicked); the first failure
    /// is returned at the end.
    pub fn shutdown(mut self) -> anyhow::Result<()> {
        self.stop()
    }

    fn stop(&mut self) -> anyhow::Result<()> {
        let Some(runtime) = self.runtime.take() else {
            return Ok(());
        };
        tracing::info!("shutting down");
        let mut steps = Steps::default();

        // 1. No new scans. Requests already in flight go on.
        if let Some(tx) = self.stop_accepting.take() {
            let _ = tx.send(());
        }
        let mut drains = Vec::new();
        if let Some(p) = self.pcsc.take() {
            steps.run("stop the PC/SC readers", || {
                let (stopped, drain) = p.stop();
                drains.extend(drain);
                stopped
            });
        }
        if let Some(s) = self.serial.take() {
            steps.run("stop the serial readers", || {
                let (stopped, drain) = s.stop();
                drains.extend(drain);
                stopped
            });
        }
        if let Some(c) = self.camera.take() {
            steps.run("stop the camera", || {
                let (stopped, drain) = c.stop();
                drains.extend(drain);
                stopped
            });
        }

        // 2. Every read the devices handed over, then every scan queued (those reads and the
        //    API's): decided, committed, streamed and answered. A scan sent after this is
        //    refused as "shutting down", nothing recorded.
        for drain in drains {
            steps.run("decide the device reads already queued", || {
                runtime.block_on(drain.wait())
            });
        }
        if let Some(queue) = self.scan_queue.take() {
            steps.run("decide the scans already queued", || {
                runtime.block_on(queue.close())
            });
        }

        // 2b. The webhook worker, once the last scan's events are in the outbox: what it has
        //     not sent stays pending for the next start. A stuck endpoint holds nothing: its
        //     request is abandoned, not awaited.
        if let Some(worker) = self.webhooks.take() {
            steps.run("stop the webhook worker", || worker.stop());
        }
        // 2c. The sync worker, likewise: what it has not pushed stays pending (the push
        //     cursor moves only after the hub's answer), a page not applied is asked again.
        if let Some(worker) = self.sync.take() {
            steps.run("stop the sync worker", || worker.stop());
        }
        // 2d. The upstream worker, likewise: a request in flight is abandoned (its row stays
        //     `sending` and is read back at the next start), a page not applied is asked again.
        if let Some(worker) = self.upstream.take() {
            steps.run("stop the upstream worker", || worker.stop());
        }
        // 2e. The APNs worker: a push in flight is abandoned (its pass stays due; a phone
        //     told twice asks twice).
        if let Some(worker) = self.apns.take() {
            steps.run("stop the APNs worker", || worker.stop());
        }

        // 3. The event streams end after the last decision.
        crate::server::routes::scans::end_streams(&self.state, &self.stop_streams);

        // 4. The requests in flight finish (the listener has stopped taking new ones).
        if let Some(server) = self.server.take() {
            steps.run("finish the requests in flight", || {
                runtime
                    .block_on(server)
                    .map_err(|e| anyhow::anyhow!("the HTTP service task failed: {e}"))?
            });
        }

        // 5. The launch key is revoked through the writer, before the final close: nothing
        //    else can write any more (devices stopped, scan queue closed, no request in
        //    flight), and the revocation is part of the last checkpoint.
        if let Some(id) = self.launch_key_id.take() {
            let db = self.state.db.clone();
            steps.run("revoke the launch key", || {
                runtime.block_on(async move {
                    db.write(move |s| api_keys::revoke(s.conn(), &id, Timestamp::now()))
                        .await??;
                    Ok(())
                })
            });
        }

        // 6. The store: the whole WAL into the database file, every connection closed.
        steps.run("checkpoint and close the database", || {
            Ok(self.state.db.close()?)
        });
        runtime.shutdown_timeout(std::time::Duration::from_secs(2));
        drop(self.lock.take());
        steps.finish()
    }
}

/// The steps of a shutdown: each runs whatever became of the ones before it (an error or a
/// panic is logged and kept); the first failure is the one reported, after the last step.
#[derive(Default)]
struct Steps {
    first_failure: Option<anyhow::Error>,
}

impl Steps {
    fn run(&mut self, step: &str, f: impl FnOnce() -> anyhow::Result<()>) {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .unwrap_or_else(|_| Err(anyhow::anyhow!("it panicked")));
        if let Err(e) = result {
            tracing::error!(step, error = %format!("{e:#}"), "a shutdown step failed; the others still run");
            if self.first_failure.is_none() {
                self.first_failure = Some(e.context(format!("shutdown: cannot {step}")));
            }
        }
    }

    fn finish(self) -> anyhow::Result<()> {
        self.first_failure.map_or(Ok(()), Err)
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
            role: Role::Cashier,
            readers: Vec::new(),
        };
        assert_eq!(k.full_name(42), "desktop app launch key (pid 42)");
        assert_eq!(k.pid_of("desktop app launch key (pid 42)"), Some(42));
        assert_eq!(k.pid_of("desktop app launch key"), None);
        assert_eq!(k.pid_of("till 1 (pid 42)"), None);
        assert!(process_runs(std::process::id()));
    }

    #[test]
    fn shutdown_steps_all_run_and_the_first_failure_is_reported() {
        let mut steps = Steps::default();
        let mut ran = Vec::new();
        let reader = std::thread::spawn(|| panic!("a reader driver bug"));
        steps.run("stop the readers", || {
            reader
                .join()
                .map_err(|_| anyhow::anyhow!("the reader thread panicked"))
        });
        steps.run("drain", || -> anyhow::Result<()> {
            panic!("a bug in a step")
        });
        steps.run("close", || {
            ran.push("close");
            anyhow::bail!("second failure")
        });
        assert_eq!(ran, ["close"]);
        let err = format!("{:#}", steps.finish().unwrap_err());
        assert!(
            err.starts_with("shutdown: cannot stop the readers"),
            "{err}"
        );
        assert!(err.contains("the reader thread panicked"), "{err}");
    }

    /// A real service whose PC/SC thread panicked: the shutdown still revokes the launch key,
    /// empties the WAL, closes the store and releases the data directory, and reports the panic.
    #[test]
    fn a_panicked_reader_thread_skips_no_shutdown_step() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context::new(Some(dir.path().to_owned())).unwrap();
        ctx.init_store().unwrap();
        let mut running = start(
            &ctx,
            Options {
                listen: Some("127.0.0.1:0".parse().unwrap()),
                no_readers: true,
                no_camera: true,
                launch_key: Some(LaunchKey {
                    name: "test launch key".into(),
                    role: Role::Cashier,
                    readers: vec![ReaderId::parse("till-1").unwrap()],
                }),
            },
        )
        .unwrap();
        let thread = std::thread::spawn(|| panic!("a reader driver bug"));
        running.pcsc = Some(pcsc::PcscReaders::from_thread(thread));
        let err = format!("{:#}", running.shutdown().unwrap_err());
        assert!(err.contains("the PC/SC reader thread panicked"), "{err}");

        drop(ctx);
        let db = dir.path().join(passdesk_core::store::DB_FILE);
        let wal = dir
            .path()
            .join(format!("{}-wal", passdesk_core::store::DB_FILE));
        assert!(std::fs::metadata(&wal).map_or(true, |m| m.len() == 0));
        let store = passdesk_core::Store::open(&db, passdesk_core::OpenMode::MustExist).unwrap();
        let keys = api_keys::list(store.conn()).unwrap();
        assert_eq!(keys.len(), 1);
        assert!(keys[0].revoked_at.is_some(), "{:?}", keys[0].name);
        assert_eq!(keys[0].readers, ["till-1"], "bound to the station's reader");
        DataDirLock::exclusive(dir.path()).unwrap();
    }
}
