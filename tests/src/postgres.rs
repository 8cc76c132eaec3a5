//! A throwaway PostgreSQL cluster for a test: `initdb` in a temp dir, `pg_ctl start` on a free
//! loopback port, stopped (and its files removed) when dropped. Debian's server refuses to run
//! as root, so as root every command runs as the `postgres` user (`runuser -u postgres --`) in
//! a dir that user owns; as anyone else it runs as that user.
//!
//! The binaries are found in `PASSDESK_PG_BIN` when set, else in the newest
//! `/usr/lib/postgresql/<version>/bin` (Debian's `postgresql` package, which the project's
//! scripts install). Authentication is `trust` on loopback and the socket is in the cluster's
//! own dir: nothing outside the test can reach it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// The database superuser `initdb` makes.
const SUPERUSER: &str = "postgres";

/// Start attempts: another process may take the free port between our probe and the server's
/// bind; a fresh port is tried then.
const START_ATTEMPTS: u32 = 5;

pub struct PgCluster {
    bin: PathBuf,
    /// Holds `data/` (the cluster, owned by its user) and `server.log`.
    dir: tempfile::TempDir,
    port: u16,
    /// Numbers the databases [`PgCluster::database`] makes.
    next_db: AtomicU32,
}

impl PgCluster {
    /// A running cluster on a free loopback port. Panics with the server's log when it cannot
    /// start.
    pub fn start() -> Self {
        let bin = pg_bin();
        let dir = tempfile::Builder::new()
            .prefix("passdesk-pg-")
            .tempdir()
            .expect("temp dir for PostgreSQL");
        give_to_server_user(dir.path());
        let data = dir.path().join("data");
        let out = as_server_user(bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync"])
            .args(["--locale=C.UTF-8"])
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            crate::describe(&out)
        );
        let mut cluster = Self {
            bin,
            dir,
            port: 0,
            next_db: AtomicU32::new(1),
        };
        let mut last = String::new();
        for _ in 0..START_ATTEMPTS {
            cluster.port = free_port();
            let out = cluster.pg_ctl_start();
            if out.status.success() {
                return cluster;
            }
            last = format!(
                "{}\nserver log:\n{}",
                crate::describe(&out),
                std::fs::read_to_string(cluster.log_path()).unwrap_or_default()
            );
        }
        panic!("PostgreSQL did not start: {last}");
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    fn data_path(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn pg_ctl_start(&self) -> Output {
        // fsync off: a test cluster is thrown away, and the hub's durability is PostgreSQL's
        // business, not the tests'.
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 \
             -c shared_buffers=16MB",
            self.port,
            self.dir.path().display()
        );
        as_server_user(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data_path())
            .arg("-l")
            .arg(self.log_path())
            .args(["-o", &options, "-w", "-t", "60", "start"])
            .output()
            .expect("run pg_ctl start")
    }

    /// The cluster the running tests of this process share, each taking its own
    /// [`PgCluster::database`]: started by the first that asks, stopped when the last one
    /// holding it is done (so none is left running when the test process ends).
    pub fn shared() -> Arc<Self> {
        static SHARED: Mutex<Weak<PgCluster>> = Mutex::new(Weak::new());
        let mut slot = SHARED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(cluster) = slot.upgrade() {
            return cluster;
        }
        let cluster = Arc::new(Self::start());
        *slot = Arc::downgrade(&cluster);
        cluster
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of the cluster's default database (`postgres`).
    pub fn url(&self) -> String {
        self.url_of("postgres")
    }

    /// The URL of database `name` on this cluster.
    pub fn url_of(&self, name: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{name}", self.port)
    }

    /// A new empty database on this cluster; returns its URL. Tests that share one cluster
    /// each take their own database.
    pub fn database(&self) -> String {
        let name = format!("test{}", self.next_db.fetch_add(1, Ordering::Relaxed));
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        self.url_of(&name)
    }

    /// Runs one SQL command in database `db` with `psql`; returns its unaligned, tuples-only
    /// output. Panics when it fails.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-U", SUPERUSER, "-d", db])
            .args(["-p", &self.port.to_string()])
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .env_remove("PGPASSWORD")
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql {sql:?} failed: {}",
            crate::describe(&out)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        // Immediate: the data is thrown away, so no checkpoint is worth waiting for.
        let _ = as_server_user(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data_path())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
        // The temp dir goes after this: root may remove the server user's files.
    }
}

/// The directory of the server's binaries.
pub fn pg_bin() -> PathBuf {
    if let Some(dir) = std::env::var_os("PASSDESK_PG_BIN") {
        return PathBuf::from(dir);
    }
    let root = Path::new("/usr/lib/postgresql");
    let newest = std::fs::read_dir(root)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .max_by_key(|(v, _)| *v);
    match newest {
        Some((_, bin)) => bin,
        None => panic!(
            "no PostgreSQL server in {} (install Debian's postgresql package, as \
             scripts/lib/apt.sh does) and PASSDESK_PG_BIN is not set",
            root.display()
        ),
    }
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `program` as the server's user: `runuser -u postgres -- program` as root, else itself.
fn as_server_user(program: PathBuf) -> Command {
    if running_as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", SUPERUSER, "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// As root: hands `dir` to the `postgres` user, who runs the server in it.
fn give_to_server_user(dir: &Path) {
    if !running_as_root() {
        return;
    }
    let out = Command::new("chown")
        .arg(format!("{SUPERUSER}:"))
        .arg(dir)
        .output()
        .expect("run chown");
    assert!(
        out.status.success(),
        "chown {} to {SUPERUSER}: {}",
        dir.display(),
        crate::describe(&out)
    );
}

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free loopback port")
        .port()
}
