//! Command line.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| e.to_string())
}

/// Relays the users service's JSON protocol between WebSocket (`/ws`) and ZeroMQ,
/// and optionally serves the web UI from the same port.
#[derive(Debug, Clone, Parser)]
#[command(name = "users-bridge", version)]
pub struct Config {
    /// Address and port to listen on [default: 127.0.0.1:8765, unless
    /// --listen-unix is given, which then is the only listener].
    #[arg(long)]
    pub listen: Option<SocketAddr>,

    /// Listen on every interface (0.0.0.0) at the --listen port, for a LAN demo.
    #[arg(long)]
    pub lan: bool,

    /// Log as text, or as one JSON object per line (timestamp, level,
    /// target, message and fields).
    #[arg(long, value_enum, default_value_t)]
    pub log_format: crate::logs::LogFormat,

    /// A Unix socket file to listen on as well (or alone, without --listen),
    /// for a reverse proxy on this machine, e.g. /run/users-bridge/http.sock.
    /// Whoever may connect to it is trusted as a --trusted-proxy is: the file
    /// is made mode 0660, so the bridge's user and the file's group decide.
    /// Its directory must exist; a socket left by a killed bridge is
    /// replaced, anything else there stops the start.
    #[arg(long, value_name = "PATH")]
    pub listen_unix: Option<PathBuf>,

    /// Serve HTTPS and WSS on --listen with this certificate (PEM: the
    /// server's, then its chain), and send HSTS. Browsers offer passkeys
    /// only on HTTPS or localhost. `users-lan-cert` makes one for a LAN.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// The users service's ZeroMQ endpoint: its TCP port, or its trusted
    /// endpoint (e.g. ipc:///run/users-service/bridge.sock), where the
    /// service believes the browser addresses the bridge forwards. Repeat it
    /// for several instances on one shared store: requests take turns among
    /// those connected.
    #[arg(long = "service", default_value = "tcp://127.0.0.1:5556")]
    pub service: Vec<String>,

    /// Serve this directory (the built web UI) at `/`. It is read once, at
    /// start-up, and served from memory.
    #[arg(long)]
    pub web_root: Option<PathBuf>,

    /// The most the web root may hold, compressed copies included, in bytes;
    /// a larger one stops the bridge at start-up.
    #[arg(long, default_value_t = 64 * 1024 * 1024)]
    pub max_web_root_bytes: u64,

    /// Origin allowed to open `/ws` besides the page's own (repeatable), e.g.
    /// http://127.0.0.1:8080 for `trunk serve`. Requests without an Origin
    /// header (non-browser clients) are allowed.
    #[arg(long = "allowed-origin")]
    pub allowed_origins: Vec<String>,

    /// Largest request frame, in bytes; larger ones get a too_large error and
    /// the connection is closed.
    #[arg(long, default_value_t = 64 * 1024)]
    pub max_frame_bytes: usize,

    /// Most WebSocket connections at once; more are refused with HTTP 503.
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,

    /// Requests per second per connection (bursts of twice this are allowed).
    #[arg(long, default_value_t = 30.0)]
    pub rate_per_connection: f64,

    /// Requests per second per client IP address (bursts of twice this are allowed).
    #[arg(long, default_value_t = 100.0)]
    pub rate_per_ip: f64,

    /// A connection with no request for this long is closed.
    #[arg(long, default_value = "5m", value_parser = duration)]
    pub idle_timeout: Duration,

    /// A host name the bridge answers to (repeatable), e.g. users.example.org
    /// behind a proxy. IP addresses and localhost are always answered; any
    /// other Host gets 403, so a page whose DNS name is made to point here
    /// (DNS rebinding) reaches nothing.
    #[arg(long = "allowed-host")]
    pub allowed_hosts: Vec<String>,

    /// An address besides loopback that may read /metrics (repeatable).
    #[arg(long = "metrics-allow")]
    pub metrics_allow: Vec<std::net::IpAddr>,

    /// A reverse proxy in front of the bridge (repeatable): from it, the client's
    /// address is taken from X-Forwarded-For or Forwarded, for the per-IP limits
    /// and for the address forwarded to the service. From anyone else those
    /// headers are ignored.
    #[arg(long = "trusted-proxy")]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// A reply not taken by the client in this long ends its connection (a
    /// client that stops reading).
    #[arg(long, default_value = "10s", value_parser = duration)]
    pub send_timeout: Duration,

    /// Reply bytes that may wait for one connection; past this the connection
    /// is closed (a client that stops reading).
    #[arg(long, default_value_t = 1024 * 1024)]
    pub max_queued_bytes: usize,

    /// WebSocket connections at most from one client address.
    #[arg(long, default_value_t = 32)]
    pub max_connections_per_ip: usize,

    /// Time a client has to send its request headers; slower ones are closed.
    #[arg(long, default_value = "10s", value_parser = duration)]
    pub header_timeout: Duration,

    /// Open HTTP connections at most; more are closed at once.
    #[arg(long, default_value_t = 4096)]
    pub max_http_connections: usize,

    /// Open HTTP connections at most from one client address (a trusted proxy
    /// has only the overall cap).
    #[arg(long, default_value_t = 64)]
    pub max_http_connections_per_ip: usize,

    /// A request the service has not answered in this long gets service_unavailable.
    #[arg(long, default_value = "10s", value_parser = duration)]
    pub request_timeout: Duration,

    /// Forward authentication (/auth/verify, /auth/forward): the roles that
    /// may use a host, as HOST=ROLE[,ROLE…] (repeatable), e.g.
    /// wiki.example.lan=admin,user or *.example.lan=user. A host no rule
    /// names is refused; the first rule that matches decides.
    #[arg(long = "protect", value_name = "HOST=ROLES")]
    pub protect: Vec<crate::forward::rules::Protect>,

    /// The sign-in cookie's Domain, e.g. .example.lan, so that apps on its
    /// subdomains see it; sign-in also returns to addresses within it. By
    /// default the cookie is this host's only.
    #[arg(long, value_name = "DOMAIN", value_parser = crate::forward::rules::cookie_domain)]
    pub cookie_domain: Option<String>,

    /// The address people open this bridge's UI at, e.g.
    /// https://users.example.lan: where /auth/forward sends a visitor to
    /// sign in. By default, this bridge as the request reached it.
    #[arg(long, value_name = "URL", value_parser = crate::forward::rules::public_url)]
    pub public_url: Option<String>,
}

/// `--listen`'s address when none is given (and no `--listen-unix` either).
const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8765);

impl Config {
    /// The TCP address to listen on: `--listen`, its port on every interface
    /// with `--lan`, or none when only `--listen-unix` is given.
    pub fn bind_addr(&self) -> Option<SocketAddr> {
        let listen = match (self.listen, &self.listen_unix) {
            (Some(a), _) => a,
            (None, Some(_)) if !self.lan => return None,
            (None, _) => DEFAULT_LISTEN,
        };
        Some(if self.lan {
            SocketAddr::from(([0, 0, 0, 0], listen.port()))
        } else {
            listen
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind_addr(args: &[&str]) -> Option<SocketAddr> {
        Config::parse_from([&["users-bridge"], args].concat()).bind_addr()
    }

    #[test]
    fn a_unix_socket_alone_means_no_tcp_listener() {
        let default = Some(DEFAULT_LISTEN);
        assert_eq!(bind_addr(&[]), default);
        assert_eq!(bind_addr(&["--listen-unix", "/run/b/http.sock"]), None);
        let both = [
            "--listen-unix",
            "/run/b/http.sock",
            "--listen",
            "127.0.0.1:9000",
        ];
        assert_eq!(bind_addr(&both), Some("127.0.0.1:9000".parse().unwrap()));
        let lan = ["--listen-unix", "/run/b/http.sock", "--lan"];
        assert_eq!(bind_addr(&lan), Some("0.0.0.0:8765".parse().unwrap()));
    }
}
