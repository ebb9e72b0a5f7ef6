//! Test harness: starts the real `users-service` and `users-bridge` binaries on free
//! loopback ports with temporary stores, talks to them, and stops them on drop.
//!
//! - [`Service`] / [`ServiceOptions`]: one service process.
//! - [`Bridge`]: one bridge process in front of a service.
//! - [`Zmq`]: a REQ client that never waits forever.
//! - [`bin_path`]: the binaries, built once per test run.

use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Master password the tests use.
pub const MASTER: &str = "test-master-password";
/// Admin password the tests set.
pub const ADMIN_PASSWORD: &str = "admin-secret-1";

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
}

/// Path of a workspace binary, built (once per process) in the same profile.
pub fn bin_path(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let release = !cfg!(debug_assertions);
    let built = BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(workspace()).args([
            "build",
            "-q",
            "-p",
            "users-service",
            "-p",
            "users-bridge",
        ]);
        if release {
            cmd.arg("--release");
        }
        match cmd.status() {
            Ok(s) if s.success() => Ok(()),
            other => Err(format!("building the binaries failed: {other:?}")),
        }
    });
    if let Err(e) = built {
        panic!("{e}");
    }
    target_dir()
        .join(if release { "release" } else { "debug" })
        .join(name)
}

/// A TCP port free on loopback right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

/// How to start a service.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// Extra command-line flags.
    pub args: Vec<String>,
    /// USERS_SERVICE_PASSWORD; `None` leaves it unset.
    pub master: Option<String>,
    /// USERS_SERVICE_ADMIN_PASSWORD; `None` leaves it unset.
    pub admin_password: Option<String>,
}

impl Default for ServiceOptions {
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

/// A running `users-service`.
pub struct Service {
    /// Its port.
    pub port: u16,
    /// Its store file.
    pub store: PathBuf,
    /// The temporary directory holding the store, shared with siblings.
    pub dir: Arc<tempfile::TempDir>,
    /// Its log file.
    pub log: PathBuf,
    child: Option<Child>,
    opts: ServiceOptions,
}

impl Service {
    /// Starts a service on a fresh store and waits until it answers.
    pub fn start(opts: ServiceOptions) -> Service {
        Service::start_in(Arc::new(tempfile::tempdir().expect("tempdir")), opts)
    }

    /// Starts a service on `dir/users.json` (which may already exist) and waits
    /// until it answers.
    pub fn start_in(dir: Arc<tempfile::TempDir>, opts: ServiceOptions) -> Service {
        let mut s = Service::stopped_in(dir, opts);
        s.spawn_now();
        s
    }

    /// A service on `dir/users.json`, not started.
    pub fn stopped_in(dir: Arc<tempfile::TempDir>, opts: ServiceOptions) -> Service {
        Service {
            port: 0,
            store: dir.path().join("users.json"),
            log: dir.path().join("service-0.log"),
            dir,
            child: None,
            opts,
        }
    }

    /// A service on the same store with other options, not started.
    pub fn sibling(&self, opts: ServiceOptions) -> Service {
        static N: AtomicUsize = AtomicUsize::new(1);
        let n = N.fetch_add(1, Ordering::Relaxed);
        Service {
            port: 0,
            store: self.store.clone(),
            log: self.dir.path().join(format!("service-{n}.log")),
            dir: Arc::clone(&self.dir),
            child: None,
            opts,
        }
    }

    /// Starts the process and waits until it answers, or panics with its log.
    pub fn spawn_now(&mut self) {
        if let Err(e) = self.spawn() {
            panic!("service did not start: {e}");
        }
    }

    /// Spawns the process on a new port; waits for it to answer health_check.
    fn spawn(&mut self) -> Result<(), String> {
        self.spawn_on(free_port())
    }

    /// Stops and starts again on the same store and the same port.
    pub fn restart_on_same_port(&mut self) {
        self.stop();
        if let Err(e) = self.spawn_on(self.port) {
            panic!("service did not restart: {e}");
        }
    }

    fn spawn_on(&mut self, port: u16) -> Result<(), String> {
        let child = self.launch_on(port)?;
        self.child = Some(child);
        self.port = port;
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                return Err(format!("service exited with {status}: {}", self.log_text()));
            }
            if let Ok(r) = Zmq::connect_timeout(&self.endpoint(), Duration::from_millis(300))
                .call(json!({"action": "health_check"}))
            {
                if r["status"] == "success" {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("service did not answer: {}", self.log_text()))
    }

    /// Starts the binary on a new port without waiting; returns it and its port.
    pub fn launch(&self) -> Result<(Child, u16), String> {
        let port = free_port();
        Ok((self.launch_on(port)?, port))
    }

    fn launch_on(&self, port: u16) -> Result<Child, String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| e.to_string())?;
        let mut cmd = Command::new(bin_path("users-service"));
        cmd.arg(port.to_string())
            .arg(&self.store)
            .args(&self.opts.args)
            .env_remove("USERS_SERVICE_PASSWORD")
            .env_remove("USERS_SERVICE_ADMIN_PASSWORD")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        if let Some(m) = &self.opts.master {
            cmd.env("USERS_SERVICE_PASSWORD", m);
        }
        if let Some(a) = &self.opts.admin_password {
            cmd.env("USERS_SERVICE_ADMIN_PASSWORD", a);
        }
        cmd.spawn().map_err(|e| e.to_string())
    }

    /// Takes charge of a process started with [`Service::launch`].
    pub fn adopt(&mut self, child: Child, port: u16) {
        self.child = Some(child);
        self.port = port;
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
        let mut child = self.child.take()?;
        terminate(&mut child)
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

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
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

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// SIGTERM, then up to 15 s for the exit, then SIGKILL.
pub fn terminate(child: &mut Child) -> Option<ExitStatus> {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait().ok()
}

/// A ZeroMQ REQ client with a receive timeout, so no test waits forever.
pub struct Zmq {
    _ctx: zmq::Context,
    sock: zmq::Socket,
}

impl Zmq {
    /// Connects with a 20 s reply timeout.
    pub fn connect(endpoint: &str) -> Zmq {
        Zmq::connect_timeout(endpoint, Duration::from_secs(20))
    }

    /// Connects with the given reply timeout.
    pub fn connect_timeout(endpoint: &str, timeout: Duration) -> Zmq {
        let ctx = zmq::Context::new();
        let sock = ctx.socket(zmq::REQ).expect("socket");
        sock.set_rcvtimeo(timeout.as_millis() as i32)
            .expect("rcvtimeo");
        sock.set_linger(0).expect("linger");
        sock.connect(endpoint).expect("connect");
        Zmq { _ctx: ctx, sock }
    }

    /// Sends raw frames; returns the raw reply.
    pub fn raw(&self, frames: &[&[u8]]) -> Result<Vec<u8>, String> {
        self.sock
            .send_multipart(frames.iter().copied(), 0)
            .map_err(|e| e.to_string())?;
        self.sock
            .recv_bytes(0)
            .map_err(|e| format!("no reply: {e}"))
    }

    /// Sends a JSON request; returns the JSON reply.
    pub fn call(&self, req: Value) -> Result<Value, String> {
        let bytes = self.raw(&[req.to_string().as_bytes()])?;
        serde_json::from_slice(&bytes).map_err(|e| format!("reply is not JSON: {e}"))
    }

    /// Like [`Zmq::call`], asserting success.
    pub fn call_ok(&self, req: Value) -> Value {
        let action = req["action"].clone();
        let r = self.call(req).expect("reply");
        assert_eq!(r["status"], "success", "{action}: {r}");
        r
    }

    /// Like [`Zmq::call`], asserting an error with `code`.
    pub fn call_err(&self, req: Value, code: &str) -> Value {
        let action = req["action"].clone();
        let r = self.call(req).expect("reply");
        assert_eq!(r["status"], "error", "{action}: {r}");
        assert_eq!(r["code"], code, "{action}: {r}");
        assert!(r["message"].as_str().is_some_and(|m| !m.is_empty()), "{r}");
        r
    }
}

/// A running `users-bridge`.
pub struct Bridge {
    /// Its HTTP/WebSocket port.
    pub port: u16,
    /// Its log file.
    pub log: PathBuf,
    _dir: tempfile::TempDir,
    child: Option<Child>,
    args: Vec<String>,
    log_level: String,
}

impl Bridge {
    /// Starts a bridge in front of `service_endpoint` with extra flags; waits until
    /// it answers `/healthz` (whatever the service's state).
    pub fn start(service_endpoint: &str, args: &[&str]) -> Bridge {
        Bridge::start_logging("debug", service_endpoint, args)
    }

    /// Like [`Bridge::start`] with the given RUST_LOG (tests use debug, so that
    /// they can check what a busy bridge logs; the benchmark uses warn).
    pub fn start_logging(log_level: &str, service_endpoint: &str, args: &[&str]) -> Bridge {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut b = Bridge {
            port: free_port(),
            log: dir.path().join("bridge.log"),
            _dir: dir,
            child: None,
            log_level: log_level.to_owned(),
            args: [&["--service", service_endpoint][..], args]
                .concat()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        };
        b.spawn();
        b
    }

    /// Stops (SIGTERM) and starts again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    fn spawn(&mut self) {
        let logf = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log");
        let child = Command::new(bin_path("users-bridge"))
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .args(&self.args)
            .env("RUST_LOG", &self.log_level)
            .stdin(Stdio::null())
            .stdout(logf.try_clone().expect("log"))
            .stderr(logf)
            .spawn()
            .expect("users-bridge starts");
        self.child = Some(child);
        let port = self.port;
        let b = self;
        let deadline = Instant::now() + Duration::from_secs(20);
        while http_get(port, "/healthz").is_err() {
            if let Some(status) = b.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("bridge exited with {status}: {}", b.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "bridge did not start: {}",
                b.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
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

    /// Sends SIGTERM and waits for the exit.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        terminate(&mut child)
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A plain HTTP/1.1 GET on loopback; returns the status code and the body.
pub fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((code, body))
}

/// WebSocket client helpers.
pub mod ws {
    use futures_util::{SinkExt, StreamExt};
    use serde_json::Value;
    use std::time::Duration;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;

    /// A client connection.
    pub type Ws = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    /// Connects, optionally sending an Origin header.
    pub async fn connect(
        url: &str,
        origin: Option<&str>,
    ) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
        let mut req = url.into_client_request()?;
        if let Some(o) = origin {
            req.headers_mut()
                .insert("Origin", o.parse().expect("origin header"));
        }
        Ok(tokio_tungstenite::connect_async(req).await?.0)
    }

    /// Sends a text frame.
    pub async fn send(ws: &mut Ws, text: String) {
        ws.send(Message::Text(text.into())).await.expect("send");
    }

    /// The next text frame as JSON, or `None` when the connection closes.
    pub async fn recv(ws: &mut Ws) -> Option<Value> {
        loop {
            let m = tokio::time::timeout(Duration::from_secs(20), ws.next())
                .await
                .expect("no frame within 20 s")?;
            match m {
                Ok(Message::Text(t)) => {
                    return Some(serde_json::from_str(t.as_str()).expect("JSON reply"))
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// One request, one reply, as text (no JSON work on this side).
    pub async fn call_raw(ws: &mut Ws, req: &str) -> String {
        ws.send(Message::Text(req.into())).await.expect("send");
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => return t.as_str().to_owned(),
                Some(Ok(_)) => continue,
                other => panic!("connection ended: {other:?}"),
            }
        }
    }

    /// One request, one reply.
    pub async fn call(ws: &mut Ws, req: Value) -> Value {
        send(ws, req.to_string()).await;
        recv(ws).await.expect("a reply")
    }
}
