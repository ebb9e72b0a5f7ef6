//! Figure 9: forward-auth verifications (`GET /auth/verify`, as nginx's
//! auth_request asks) through the bridge, against `GET /healthz` through
//! the bridge, with the same clients on kept-alive HTTP/1.1 connections.
//! Each client has a sign-in of its own; the bridge keeps a positive answer
//! for up to a second per ticket and host, as it does when deployed.

use crate::fixtures::opts;
use crate::report::{Against, Plan, Report};
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use users_tests::{http_request, BridgeProcess, ServiceProcess};

const CLIENTS: usize = 16;

/// Requests a second of `CLIENTS` threads, each sending its `requests`
/// (one per client) again and again on one connection for `d`.
fn http_throughput(port: u16, requests: Vec<String>, d: Duration) -> f64 {
    let t0 = Instant::now();
    let threads: Vec<_> = requests
        .into_iter()
        .map(|req| {
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
                s.set_nodelay(true).ok();
                let mut r = BufReader::new(s.try_clone().expect("clone"));
                let mut n = 0u64;
                while t0.elapsed() < d {
                    s.write_all(req.as_bytes()).expect("send");
                    let status = read_response(&mut r);
                    assert!(status == 200, "HTTP {status}");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    total as f64 / t0.elapsed().as_secs_f64()
}

/// Reads one response (its head, then `Content-Length` bytes); its status.
fn read_response(r: &mut impl BufRead) -> u16 {
    let mut line = String::new();
    r.read_line(&mut line).expect("status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut length = 0usize;
    loop {
        line.clear();
        r.read_line(&mut line).expect("header");
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length];
    r.read_exact(&mut body).expect("body");
    status
}

pub fn run(plan: &Plan, report: &mut Report) {
    let s = ServiceProcess::start(opts(&[]));
    let b = BridgeProcess::start_logging(
        "warn",
        &s.endpoint(),
        &[
            "--protect",
            "wiki.bench.lan=user,admin",
            "--trusted-proxy",
            "127.0.0.1",
        ],
    );
    let origin = format!("http://127.0.0.1:{}", b.port);
    let mut verify = Vec::new();
    for i in 0..CLIENTS {
        let name = format!("bench{i}");
        let c = s.client();
        c.call(
            json!({"action": "create_user", "user_data": {"username": name,
            "email": format!("{name}@example.com"), "password": "Bench-pass-2026"}}),
        )
        .expect("create_user");
        let token = s.login(&name, "Bench-pass-2026");
        let bearer = format!("Bearer {token}");
        let h = [
            ("Origin", origin.as_str()),
            ("Authorization", bearer.as_str()),
        ];
        let r = http_request(b.port, "POST", "/auth/session", &h).expect("/auth/session");
        let cookie = r
            .header("set-cookie")
            .expect("a cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        verify.push(format!(
            "GET /auth/verify HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nX-Forwarded-Host: wiki.bench.lan\r\n\
             X-Forwarded-Uri: /\r\nCookie: {cookie}\r\n\r\n",
            b.port
        ));
    }
    let health = vec![
        format!(
            "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
            b.port
        );
        CLIENTS
    ];
    let healthz = http_throughput(b.port, health, plan.secs);
    let verified = http_throughput(b.port, verify, plan.secs);
    report.push(
        9,
        &format!("/auth/verify via the bridge, {CLIENTS} clients, a sign-in each"),
        verified,
        "req/s",
        Against {
            baseline: Some((healthz, "/healthz via the bridge, same clients")),
            goal: ">= 0.5",
            met: Some(verified / healthz >= 0.5),
        },
    );
}
