//! The shipped nginx configuration (deploy/nginx-users.conf), checked and run
//! by Debian's nginx in front of a real bridge, reached through the bridge's
//! `--listen-unix` socket: `nginx -t` passes, a browser's protocol (wss://)
//! signs in through it under the browser's own address, and /healthz is
//! loopback's only.

use std::process::{Child, Command, Stdio};
use std::time::Duration;
use users_tests::{
    free_port, workspace, BridgeProcess, ServiceOptions, ServiceProcess, ADMIN_PASSWORD,
};

/// nginx as the tests run it: the shipped site, on loopback ports, with a
/// throw-away certificate, in a directory of its own, in front of the
/// bridge's socket file `bridge`.
fn site(dir: &std::path::Path, port: u16, bridge: &std::path::Path) -> String {
    let shipped = std::fs::read_to_string(workspace().join("deploy/nginx-users.conf")).unwrap();
    let plain = free_port();
    let site = shipped
        .replace("listen 80;", &format!("listen 127.0.0.1:{plain};"))
        .replace("listen [::]:80;", "")
        .replace(
            "listen 443 ssl http2;",
            &format!("listen 127.0.0.1:{port} ssl http2;"),
        )
        .replace("listen [::]:443 ssl http2;", "")
        .replace(
            "/etc/letsencrypt/live/users.example.org/fullchain.pem",
            &dir.join("cert.pem").display().to_string(),
        )
        .replace(
            "/etc/letsencrypt/live/users.example.org/privkey.pem",
            &dir.join("key.pem").display().to_string(),
        )
        .replace(
            "unix:/run/users-bridge/http.sock",
            &format!("unix:{}", bridge.display()),
        );
    assert!(
        site.contains(&format!("127.0.0.1:{port} ssl")),
        "the TLS listener moved: {site}"
    );
    assert!(
        site.contains(&format!("server unix:{};", bridge.display())),
        "the bridge's socket moved: {site}"
    );
    in_http(dir, &site)
}

/// A whole nginx configuration around `site`, with its files in `dir`.
pub(super) fn in_http(dir: &std::path::Path, site: &str) -> String {
    let d = dir.display();
    format!(
        "user root root;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path {d}/body;\n\
         proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n\
         uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n{site}\n}}\n"
    )
}

/// nginx with `conf` written to `dir` (checked first with `nginx -t`),
/// once it listens on `port`.
pub(super) fn run(dir: &std::path::Path, conf: &str, port: u16) -> Running {
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let prefix = dir.display().to_string() + "/";
    let checked = nginx()
        .args(["-t", "-p", &prefix, "-c"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "nginx -t: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let running = Running(
        nginx()
            .args(["-p", &prefix, "-c"])
            .arg(&path)
            .args(["-g", "daemon off;"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    users_tests::wait_until("nginx listening", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    running
}

fn nginx() -> Command {
    let path = ["/usr/sbin/nginx", "/usr/local/sbin/nginx"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("nginx is needed: scripts/setup installs Debian's");
    Command::new(path)
}

pub(super) struct Running(Child);

impl Drop for Running {
    /// SIGQUIT, nginx's graceful stop: its master takes its workers with it,
    /// which SIGKILL would leave behind.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-QUIT", &self.0.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while self.0.try_wait().ok().flatten().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_shipped_nginx_configuration_serves_the_bridge_over_tls() {
    // The service believes the bridge about its browsers' addresses.
    let service =
        ServiceProcess::start(ServiceOptions::default().arg(&["--trusted-peer", "127.0.0.1"]));
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("bridge.sock");
    // No --trusted-proxy: nginx is believed by the socket it comes through.
    let _bridge = BridgeProcess::start(
        &service.endpoint(),
        &[
            "--listen-unix",
            socket.to_str().unwrap(),
            "--allowed-host",
            "users.example.org",
        ],
    );
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(dir.path().join("key.pem"))
        .arg("-out")
        .arg(dir.path().join("cert.pem"))
        .stderr(Stdio::null())
        .status()
        .expect("openssl makes the throw-away certificate");
    assert!(made.success());
    let port = free_port();
    let running = run(dir.path(), &site(dir.path(), port, &socket), port);
    let out = Command::new("python3")
        .arg(workspace().join("tests/python/through_nginx.py"))
        .arg(port.to_string())
        .arg(dir.path().join("cert.pem"))
        .arg(ADMIN_PASSWORD)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
    assert!(out.status.success(), "{stdout}\n{stderr}\n{log}");
    assert!(
        stdout.contains("signed in over wss through nginx as 127.0.0.2"),
        "{stdout}"
    );
    assert!(stdout.contains("healthz: loopback only"), "{stdout}");
    drop(running);
}
