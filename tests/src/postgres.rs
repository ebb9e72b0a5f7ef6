//! [`PgCluster`]: a private PostgreSQL server for one test: `initdb` in a
//! temporary directory, a free port on loopback only, trust authentication
//! for the `postgres` role, stopped and removed on drop. PostgreSQL refuses to
//! run as root, and CI runs as root: then its tools run as the `postgres`
//! system user that Debian's package makes.
//!
//! [`PgCluster::start_tls`] makes one that takes TLS connections only, with
//! a password, under a throw-away CA ([`crate::postgres_tls`]).

use crate::bins::free_port;
use crate::postgres_tls::{self, TlsFiles};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// A running private PostgreSQL server.
pub struct PgCluster {
    /// Its port on 127.0.0.1.
    pub port: u16,
    bin: PathBuf,
    dir: tempfile::TempDir,
    running: bool,
    /// Where psql and createdb connect: loopback, or for a server that
    /// takes TLS only, its Unix socket's directory (trusted, and in clear).
    host: String,
    /// The certificates of a server that takes TLS only.
    tls: Option<TlsFiles>,
}

/// The newest server binaries Debian's `postgresql` package installed.
fn server_bin() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let newest = std::fs::read_dir(root)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .max()
        .unwrap_or_else(|| {
            panic!(
                "no PostgreSQL server under {} (scripts/setup installs Debian's postgresql)",
                root.display()
            )
        });
    root.join(newest.to_string()).join("bin")
}

pub(crate) fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Makes `path` the `postgres` user's when this is root, so that the
/// server, run as that user, may use it.
pub(crate) fn give_to_server(path: &Path) {
    if running_as_root() {
        let ok = Command::new("chown")
            .arg("postgres:")
            .arg(path)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "chown postgres {}", path.display());
    }
}

impl PgCluster {
    /// Makes and starts a cluster with one database, `users`.
    pub fn start() -> PgCluster {
        let mut c = PgCluster::init();
        c.start_server();
        c.create_users_db();
        c
    }

    /// Makes and starts a cluster with one database, `users`, that refuses
    /// every connection over TCP that is not TLS (`hostnossl ... reject`),
    /// and asks for the password of [`PgCluster::url`] (SCRAM). Its
    /// certificate, signed by [`TlsFiles::ca`], is made out to `localhost`
    /// only.
    pub fn start_tls() -> PgCluster {
        let mut c = PgCluster::init();
        let files = postgres_tls::make(c.dir.path());
        give_to_server(&files.cert);
        give_to_server(&files.key);
        let hba = Path::new(&c.data()).join("pg_hba.conf");
        postgres_tls::write_hba(&hba);
        c.host = c.dir.path().to_string_lossy().into_owned();
        c.tls = Some(files);
        c.start_server();
        c.create_users_db();
        c.psql(
            "users",
            &format!("ALTER ROLE postgres PASSWORD '{}'", postgres_tls::PASSWORD),
        );
        c
    }

    /// The certificates of a cluster made by [`PgCluster::start_tls`].
    pub fn tls(&self) -> &TlsFiles {
        self.tls.as_ref().expect("a cluster made by start_tls")
    }

    /// A data directory made by initdb, not started.
    fn init() -> PgCluster {
        let dir = tempfile::tempdir().expect("tempdir");
        give_to_server(dir.path());
        let c = PgCluster {
            port: free_port(),
            bin: server_bin(),
            dir,
            running: false,
            host: "127.0.0.1".into(),
            tls: None,
        };
        let data = c.data();
        c.run_ok(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        c
    }

    fn create_users_db(&self) {
        let port = self.port.to_string();
        let args = ["-h", &self.host, "-p", &port, "-U", "postgres", "users"];
        self.run_ok("createdb", &args);
    }

    /// `postgres://postgres@127.0.0.1:PORT/DB`; with the password, for a
    /// cluster that takes TLS only.
    pub fn url(&self, db: &str) -> String {
        match &self.tls {
            None => format!("postgres://postgres@127.0.0.1:{}/{db}", self.port),
            Some(_) => format!(
                "postgres://postgres:{}@127.0.0.1:{}/{db}",
                postgres_tls::PASSWORD,
                self.port
            ),
        }
    }

    /// Runs `sql` in database `db` with psql; returns the rows, unaligned.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = self.run_ok(
            "psql",
            &[
                "-h",
                &self.host,
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                db,
                "-tA",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ],
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Stops the server (fast shutdown: sessions are cut).
    pub fn stop(&mut self) {
        if self.running {
            let data = self.data();
            let _ = self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]);
            self.running = false;
        }
    }

    /// Starts the stopped server again, on the same port and data.
    pub fn restart(&mut self) {
        self.stop();
        self.start_server();
    }

    fn start_server(&mut self) {
        let data = self.data();
        let log = self.dir.path().join("server.log");
        let mut opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        if let Some(tls) = &self.tls {
            opts.push_str(&tls.server_options());
        }
        let out = self.run(
            "pg_ctl",
            &[
                "-D",
                &data,
                "-l",
                &log.to_string_lossy(),
                "-w",
                "-t",
                "30",
                "-o",
                &opts,
                "start",
            ],
        );
        if !out.status.success() {
            panic!(
                "PostgreSQL did not start:\n{}\n{}",
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        self.running = true;
        // pg_ctl -w waits for the server; a first connection makes sure.
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "PostgreSQL started but does not answer on 127.0.0.1:{}",
            self.port
        );
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    /// Runs a PostgreSQL tool, as `postgres` when this is root.
    fn run(&self, tool: &str, args: &[&str]) -> Output {
        let program = self.bin.join(tool);
        let mut cmd = if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        cmd.args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", program.display()))
    }

    fn run_ok(&self, tool: &str, args: &[&str]) -> Output {
        let out = self.run(tool, args);
        assert!(
            out.status.success(),
            "{tool} {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.running {
            let data = self.data();
            let _ = self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
        }
    }
}
