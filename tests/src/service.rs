//! [`ServiceProcess`]: one `users-service` on a free loopback port and a
//! temporary store.

use crate::bins::{bin_path, free_port};
use crate::process::Process;
use crate::zmq_client::Zmq;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Master password the tests use.
pub const MASTER: &str = "test-master-password";
/// Admin password the tests set.
pub const ADMIN_PASSWORD: &str = "admin-secret-1";

/// How to start a service.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// Extra command-line flags.
    pub args: Vec<String>,
    /// USERS_SERVICE_PASSWORD; `None` leaves it unset.
    pub master: Option<String>,
    /// USERS_SERVICE_ADMIN_PASSWORD; `None` leaves it unset.
    pub admin_password: Option<String>,
    /// Further environment variables.
    pub env: Vec<(String, String)>,
    /// A program (and its arguments) that runs the service: the binary and its
    /// arguments follow them on its command line.
    pub wrapper: Vec<String>,
}

impl Default for ServiceOptions {
    /// Cheap hashing, so tests stay fast; the test master and admin passwords.
    fn default() -> Self {
        ServiceOptions {
            args: vec![
                "--pbkdf2-iterations".into(),
                "1000".into(),
                "--kdf-iterations".into(),
                "1000".into(),
            ],
            master: Some(MASTER.into()),
            admin_password: Some(ADMIN_PASSWORD.into()),
            env: Vec::new(),
            wrapper: Vec::new(),
        }
    }
}

impl ServiceOptions {
    /// Adds flags.
    pub fn arg(mut self, a: &[&str]) -> Self {
        self.args.extend(a.iter().map(|s| s.to_string()));
        self
    }
}

/// A `users-service` process, running or stopped, with its store.
pub struct ServiceProcess {
    /// Its port (0 before the first start).
    pub port: u16,
    /// Its store file.
    pub store: PathBuf,
    /// The temporary directory holding the store, shared with siblings.
    pub dir: Arc<tempfile::TempDir>,
    /// Its log file.
    pub log: PathBuf,
    process: Option<Process>,
    opts: ServiceOptions,
}

impl ServiceProcess {
    /// Starts a service with default options on a fresh store.
    pub fn start_default() -> ServiceProcess {
        ServiceProcess::start(ServiceOptions::default())
    }

    /// Starts a service on a fresh store and waits until it answers.
    pub fn start(opts: ServiceOptions) -> ServiceProcess {
        ServiceProcess::start_in(Arc::new(tempfile::tempdir().expect("tempdir")), opts)
    }

    /// Starts a service on `dir/users.json` (which may already exist) and waits
    /// until it answers.
    pub fn start_in(dir: Arc<tempfile::TempDir>, opts: ServiceOptions) -> ServiceProcess {
        let mut s = ServiceProcess::stopped_in(dir, opts);
        s.spawn_now();
        s
    }

    /// A service on `dir/users.json`, not started.
    pub fn stopped_in(dir: Arc<tempfile::TempDir>, opts: ServiceOptions) -> ServiceProcess {
        ServiceProcess {
            port: 0,
            store: dir.path().join("users.json"),
            log: dir.path().join("service-0.log"),
            dir,
            process: None,
            opts,
        }
    }

    /// A service on the same store with other options and its own log, not started.
    pub fn sibling(&self, opts: ServiceOptions) -> ServiceProcess {
        static N: AtomicUsize = AtomicUsize::new(1);
        let n = N.fetch_add(1, Ordering::Relaxed);
        ServiceProcess {
            port: 0,
            store: self.store.clone(),
            log: self.dir.path().join(format!("service-{n}.log")),
            dir: Arc::clone(&self.dir),
            process: None,
            opts,
        }
    }

    /// Starts the process on a new port and waits until it answers, or panics
    /// with its log.
    pub fn spawn_now(&mut self) {
        if let Err(e) = self.spawn_on(free_port()) {
            panic!("service did not start: {e}");
        }
    }

    /// Starts the process on a new port without waiting for it.
    pub fn launch(&mut self) {
        let port = free_port();
        match self
            .command(port)
            .and_then(|mut c| Process::spawn(&mut c, &self.log))
        {
            Ok(p) => {
                self.process = Some(p);
                self.port = port;
            }
            Err(e) => panic!("service did not launch: {e}"),
        }
    }

    /// Starts the process and waits up to 20 s for it to exit by itself: for
    /// starts that must fail. `None` if it was still running (it is then killed).
    pub fn run_to_exit(&mut self) -> Option<ExitStatus> {
        self.launch();
        let mut p = self.process.take()?;
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            if let Some(status) = p.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Stops and starts again on the same store and the same port.
    pub fn restart_on_same_port(&mut self) {
        self.stop();
        if let Err(e) = self.spawn_on(self.port) {
            panic!("service did not restart: {e}");
        }
    }

    /// Stops and starts again on the same store (a new port).
    pub fn restart(&mut self) {
        let status = self.stop();
        assert!(
            status.is_some_and(|s| s.success()),
            "service did not stop cleanly: {status:?}\n{}",
            self.log_text()
        );
        self.spawn_now();
    }

    fn spawn_on(&mut self, port: u16) -> Result<(), String> {
        let mut p = Process::spawn(&mut self.command(port)?, &self.log)?;
        let endpoint = format!("tcp://127.0.0.1:{port}");
        p.wait_ready(Duration::from_secs(20), || {
            Zmq::connect_timeout(&endpoint, Duration::from_millis(300))
                .call(json!({"action": "health_check"}))
                .is_ok_and(|r| r["status"] == "success")
        })?;
        self.process = Some(p);
        self.port = port;
        Ok(())
    }

    fn command(&self, port: u16) -> Result<Command, String> {
        let binary = bin_path("users-service");
        let mut cmd = match self.opts.wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(binary);
                c
            }
            None => Command::new(binary),
        };
        cmd.arg(port.to_string())
            .arg(&self.store)
            .args(&self.opts.args)
            .env_remove("USERS_SERVICE_PASSWORD")
            .env_remove("USERS_SERVICE_PASSWORD_FILE")
            .env_remove("USERS_SERVICE_ADMIN_PASSWORD")
            .env("RUST_LOG", "info")
            .envs(self.opts.env.iter().map(|(k, v)| (k, v)));
        if let Some(m) = &self.opts.master {
            cmd.env("USERS_SERVICE_PASSWORD", m);
        }
        if let Some(a) = &self.opts.admin_password {
            cmd.env("USERS_SERVICE_ADMIN_PASSWORD", a);
        }
        Ok(cmd)
    }

    /// `tcp://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    /// A new REQ client.
    pub fn client(&self) -> Zmq {
        Zmq::connect(&self.endpoint())
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        self.process.take()?.stop()
    }

    /// Sends SIGKILL: the process gets no chance to finish anything.
    pub fn kill(&mut self) -> Option<ExitStatus> {
        self.process.take()?.kill()
    }

    /// True once the process has exited by itself (or was never started).
    pub fn has_exited(&mut self) -> bool {
        self.process.as_mut().is_none_or(|p| p.try_wait().is_some())
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().and_then(Process::pid)
    }

    /// Logs in; returns the session token.
    pub fn login(&self, user: &str, password: &str) -> String {
        let r = self.client().call_ok(json!({"action": "login",
            "credentials": {"username": user, "password": password}}));
        r["session_token"].as_str().unwrap_or_default().to_owned()
    }

    /// Registers a user with a valid email derived from the name.
    pub fn register(&self, user: &str, password: &str) -> Value {
        self.client()
            .call(json!({"action": "create_user", "user_data": {
            "username": user, "email": format!("{user}@example.com"), "password": password}}))
            .expect("create_user")
    }

    /// Logs in as the admin.
    pub fn admin_token(&self) -> String {
        self.login("admin", ADMIN_PASSWORD)
    }
}
