//! [`BridgeProcess`]: one `users-bridge` on a free loopback port.

use crate::bins::{bin_path, free_port};
use crate::http::http_get;
use crate::process::Process;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::time::Duration;

/// A running `users-bridge`.
pub struct BridgeProcess {
    /// Its HTTP/WebSocket port.
    pub port: u16,
    /// Its log file.
    pub log: PathBuf,
    _dir: tempfile::TempDir,
    process: Option<Process>,
    args: Vec<String>,
    log_level: String,
    /// Served over HTTPS: the authority to trust, and the host to ask for.
    tls: Option<(PathBuf, String)>,
}

impl BridgeProcess {
    /// Starts a bridge in front of `service_endpoint` with extra flags; waits until
    /// it answers `/healthz` (whatever the service's state).
    pub fn start(service_endpoint: &str, args: &[&str]) -> BridgeProcess {
        BridgeProcess::start_logging("debug", service_endpoint, args)
    }

    /// Like [`BridgeProcess::start`], serving HTTPS with `--tls-cert` and
    /// `--tls-key` (in `args`); ready once `/healthz` answers to a client
    /// that trusts only `ca` and asks for `host`.
    pub fn start_tls(
        service_endpoint: &str,
        ca: &std::path::Path,
        host: &str,
        args: &[&str],
    ) -> BridgeProcess {
        let mut b = BridgeProcess::unstarted("debug", service_endpoint, args);
        b.tls = Some((ca.to_owned(), host.to_owned()));
        b.spawn();
        b
    }

    /// Like [`BridgeProcess::start`], on `port` (from [`free_port`]): for a
    /// service that must know the bridge's address before it starts.
    pub fn start_at(port: u16, service_endpoint: &str, args: &[&str]) -> BridgeProcess {
        let mut b = BridgeProcess::unstarted("debug", service_endpoint, args);
        b.port = port;
        b.spawn();
        b
    }

    /// Like [`BridgeProcess::start`] with the given RUST_LOG (tests use debug, so
    /// that they can check what a busy bridge logs; the benchmark uses warn).
    pub fn start_logging(log_level: &str, service_endpoint: &str, args: &[&str]) -> BridgeProcess {
        let mut b = BridgeProcess::unstarted(log_level, service_endpoint, args);
        b.spawn();
        b
    }

    fn unstarted(log_level: &str, service_endpoint: &str, args: &[&str]) -> BridgeProcess {
        let dir = tempfile::tempdir().expect("tempdir");
        BridgeProcess {
            tls: None,
            port: free_port(),
            log: dir.path().join("bridge.log"),
            _dir: dir,
            process: None,
            log_level: log_level.to_owned(),
            args: [&["--service", service_endpoint][..], args]
                .concat()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }

    /// Stops (SIGTERM) and starts again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    fn spawn(&mut self) {
        let mut cmd = Command::new(bin_path("users-bridge"));
        cmd.args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .args(&self.args)
            .env("RUST_LOG", &self.log_level);
        let (port, tls) = (self.port, self.tls.clone());
        let started = Process::spawn(&mut cmd, &self.log).and_then(|mut p| {
            p.wait_ready(Duration::from_secs(20), || match &tls {
                Some((ca, host)) => {
                    crate::tls::https_request(port, host, ca, "GET", "/healthz").is_ok()
                }
                None => http_get(port, "/healthz").is_ok(),
            })?;
            Ok(p)
        });
        match started {
            Ok(p) => self.process = Some(p),
            Err(e) => panic!("bridge did not start: {e}"),
        }
    }

    /// `ws://127.0.0.1:PORT/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.port)
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().and_then(Process::pid)
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        self.process.take()?.stop()
    }
}
