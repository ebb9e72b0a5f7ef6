//! Metrics with real components: the service's `--metrics-listen` and the
//! bridge's `/metrics`, each linted by Debian's `promtool`; the shipped
//! rules and scrape configuration checked by it; a real Prometheus server
//! scraping a service and a bridge; and every series the shipped Grafana
//! dashboard draws found in a live scrape.

use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use users_tests::http::http_get_whole;
use users_tests::process::Process;
use users_tests::{
    free_port, http_get, http_request, wait_until, workspace, ws, BridgeProcess, ServiceOptions,
    ServiceProcess, ADMIN_PASSWORD,
};

const PASSWORD: &str = "Metric-Pass-4141";

fn debian_tool(name: &str) -> Command {
    let path = Path::new("/usr/bin").join(name);
    assert!(
        path.exists(),
        "{name} is needed: scripts/setup installs Debian's prometheus package"
    );
    Command::new(path)
}

/// `promtool check metrics` on a scrape; fails with what it said.
fn promtool_accepts(scrape: &str) {
    let mut child = debian_tool("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(scrape.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\n{scrape}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A service serving `/metrics` on the returned port.
fn service_with_metrics() -> (ServiceProcess, u16) {
    let port = free_port();
    let at = format!("127.0.0.1:{port}");
    let s = ServiceProcess::start(ServiceOptions::default().arg(&["--metrics-listen", &at]));
    (s, port)
}

fn scrape(port: u16) -> String {
    let (status, body) = http_get(port, "/metrics").unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

/// The value of the sample `series` (name and labels, exactly as printed).
fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape.lines().find_map(|l| {
        let (name, value) = l.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok())?
    })
}

#[test]
fn the_service_counts_requests_and_logins_and_promtool_accepts_them() {
    let (s, port) = service_with_metrics();
    s.register("quinn", PASSWORD);
    let token = s.login("quinn", PASSWORD);
    let wrong = s.client().call(json!({"action": "login",
        "credentials": {"username": "quinn", "password": "Not-The-Pass-1"}}));
    assert_eq!(wrong.unwrap()["code"], "invalid_credentials");
    s.client().call_ok(json!({"action": "health_check"}));

    let text = scrape(port);
    let exactly = |series: &str, n: f64| {
        assert_eq!(sample(&text, series), Some(n), "{series} in\n{text}");
    };
    // Each reply counted once: one account made, two logins, three hashes.
    exactly(r#"users_service_logins_total{result="success"}"#, 1.0);
    exactly(r#"users_service_logins_total{result="failure"}"#, 1.0);
    exactly(r#"users_service_logins_total{result="throttled"}"#, 0.0);
    exactly(
        r#"users_service_requests_total{action="login",outcome="invalid_credentials"}"#,
        1.0,
    );
    exactly(
        r#"users_service_requests_total{action="login",outcome="success"}"#,
        1.0,
    );
    exactly(
        r#"users_service_requests_total{action="create_user",outcome="success"}"#,
        1.0,
    );
    exactly(
        r#"users_service_request_duration_seconds_count{action="login"}"#,
        2.0,
    );
    exactly("users_service_hash_wait_seconds_count", 3.0);
    let at_least = |series: &str, n: f64| {
        let v = sample(&text, series).unwrap_or_else(|| panic!("no {series} in\n{text}"));
        assert!(v >= n, "{series} is {v}, not at least {n}");
    };
    // The account was the one write a request waited for (a login's
    // session goes in the background).
    exactly("users_service_commit_batch_size_sum", 1.0);
    at_least("users_service_commit_duration_seconds_count", 1.0);
    at_least("users_service_sessions", 1.0);
    at_least("users_service_store_size_bytes", 1.0);
    at_least("process_resident_memory_bytes", 1.0);
    at_least("process_open_fds", 1.0);
    at_least("process_start_time_seconds", 1.0);
    assert_eq!(sample(&text, "users_service_users"), Some(2.0), "{text}");
    assert_eq!(sample(&text, "users_service_hash_queue_depth"), Some(0.0));
    assert_eq!(sample(&text, "users_service_follow_lag_seconds"), Some(0.0));
    // No name, address, password or token in any label or value.
    for secret in ["quinn", "example.com", PASSWORD, token.as_str()] {
        assert!(!text.contains(secret), "{secret} in the metrics");
    }
    promtool_accepts(&text);

    let (status, _) = http_get(port, "/other").unwrap();
    assert_eq!(status, 404);
    let r = http_request(port, "POST", "/metrics", &[]).unwrap();
    assert_eq!(r.status, 405);
}

#[test]
fn metrics_are_off_by_default_and_a_taken_address_stops_the_start() {
    let s = ServiceProcess::start_default();
    assert!(!s.log_text().contains("metrics="), "{}", s.log_text());

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let at = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(users_tests::bin_path("users-service"))
        .arg(free_port().to_string())
        .arg(dir.path().join("users.json"))
        .args(["--kdf-iterations", "1000", "--metrics-listen", &at])
        .env("USERS_SERVICE_PASSWORD", users_tests::MASTER)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let line = users_tests::error_line(&out.stderr, "users-service: ");
    assert!(line.contains(&format!("--metrics-listen {at}")), "{line}");
    assert!(!dir.path().join("users.json").exists(), "no store opened");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bridge_serves_its_metrics_through_the_library_and_promtool_accepts_them() {
    let s = ServiceProcess::start_default();
    let b = BridgeProcess::start(&s.endpoint(), &[]);
    let mut c = ws::connect(&b.ws_url(), None).await.unwrap();
    let r = ws::call(&mut c, json!({"action": "health_check"})).await;
    assert_eq!(r["status"], "success");
    let text = scrape(b.port);
    assert_eq!(
        sample(
            &text,
            r#"users_bridge_requests_total{action="health_check",outcome="success"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, "users_bridge_connections"), Some(1.0));
    assert_eq!(sample(&text, "users_bridge_relay_seconds_count"), Some(1.0));
    assert!(sample(&text, "process_resident_memory_bytes").is_some_and(|v| v > 0.0));
    promtool_accepts(&text);
}

#[test]
fn promtool_accepts_the_shipped_rules_and_scrape_configuration() {
    let deploy = workspace().join("deploy");
    for (what, file) in [
        ("rules", "prometheus-rules.yml"),
        ("config", "prometheus.yml"),
    ] {
        let out = debian_tool("promtool")
            .args(["check", what])
            .arg(deploy.join(file))
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{file}: {said}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if what == "rules" {
            assert!(said.contains("5 rules found"), "{said}");
        }
    }
}

/// Every query of the shipped dashboard.
fn dashboard_queries() -> Vec<String> {
    let file = workspace().join("deploy/grafana-dashboard.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let panels = dashboard["panels"].as_array().unwrap();
    let targets = panels.iter().flat_map(|p| p["targets"].as_array().unwrap());
    targets
        .map(|t| t["expr"].as_str().unwrap().to_owned())
        .collect()
}

/// The metric names a dashboard query uses (those of this project and the
/// standard process ones).
fn names_in(expr: &str) -> Vec<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("users_") || w.starts_with("process_"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_series_the_dashboard_draws_is_served() {
    let (s, port) = service_with_metrics();
    let b = BridgeProcess::start(&s.endpoint(), &[]);
    // Series by action appear with the first request of each.
    s.login("admin", ADMIN_PASSWORD);
    let mut c = ws::connect(&b.ws_url(), None).await.unwrap();
    ws::call(&mut c, json!({"action": "health_check"})).await;
    let served = scrape(port) + &scrape(b.port);
    let mut names: Vec<String> = dashboard_queries()
        .iter()
        .flat_map(|q| names_in(q))
        .collect();
    names.sort();
    names.dedup();
    assert!(names.len() >= 20, "only {names:?}");
    for name in &names {
        let line_start =
            |l: &str| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} "));
        assert!(
            served.lines().any(line_start),
            "the dashboard draws {name}, which no scrape has"
        );
    }
}

/// A Prometheus server on a loopback port, scraping `targets` every second
/// with the shipped rules loaded.
struct Prometheus {
    port: u16,
    _process: Process,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(service: u16, bridge: u16) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let rules = workspace().join("deploy/prometheus-rules.yml");
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {}\n\
             scrape_configs:\n\
             \x20 - job_name: users-service\n    static_configs:\n      - targets: ['127.0.0.1:{service}']\n\
             \x20 - job_name: users-bridge\n    static_configs:\n      - targets: ['127.0.0.1:{bridge}']\n",
            rules.display()
        );
        std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
        let port = free_port();
        let mut cmd = debian_tool("prometheus");
        cmd.arg(format!(
            "--config.file={}",
            dir.path().join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"));
        let mut process = Process::spawn(&mut cmd, &dir.path().join("prometheus.log")).unwrap();
        process
            .wait_ready(Duration::from_secs(30), || {
                http_get(port, "/-/ready").is_ok_and(|(status, _)| status == 200)
            })
            .unwrap();
        Prometheus {
            port,
            _process: process,
            _dir: dir,
        }
    }

    /// An instant query's result vector.
    fn query(&self, promql: &str) -> Vec<Value> {
        let (status, body) =
            http_get_whole(self.port, &format!("/api/v1/query?query={promql}")).unwrap();
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    }
}

/// The value of the result whose `label` is `value`, if there is one.
fn result_value(results: &[Value], label: &str, value: &str) -> Option<f64> {
    let r = results.iter().find(|r| r["metric"][label] == value)?;
    r["value"][1].as_str()?.parse().ok()
}

#[test]
fn a_real_prometheus_scrapes_the_service_and_the_bridge() {
    let (s, port) = service_with_metrics();
    let b = BridgeProcess::start(&s.endpoint(), &[]);
    let prometheus = Prometheus::start(port, b.port);
    wait_until("both targets up", Duration::from_secs(30), || {
        let up = prometheus.query("up");
        ["users-service", "users-bridge"]
            .iter()
            .all(|job| result_value(&up, "job", job) == Some(1.0))
    });
    let successes = || {
        result_value(
            &prometheus.query("users_service_logins_total"),
            "result",
            "success",
        )
    };
    wait_until("the logins series scraped", Duration::from_secs(30), || {
        successes().is_some()
    });
    let before = successes().unwrap_or_default();
    for _ in 0..3 {
        s.login("admin", ADMIN_PASSWORD);
    }
    wait_until("the new logins scraped", Duration::from_secs(30), || {
        successes().is_some_and(|n| n >= before + 3.0)
    });
    // The shipped rules loaded, and evaluate.
    let rules = || {
        let (status, body) = http_get_whole(prometheus.port, "/api/v1/rules").unwrap();
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let groups = v["data"]["groups"].as_array().cloned().unwrap_or_default();
        groups
            .iter()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .collect::<Vec<Value>>()
    };
    wait_until("every rule evaluated", Duration::from_secs(30), || {
        let r = rules();
        r.len() == 5 && r.iter().all(|r| r["health"] != "unknown")
    });
    for rule in rules() {
        assert_eq!(rule["health"], "ok", "{rule}");
        assert_eq!(rule["lastError"].as_str().unwrap_or_default(), "", "{rule}");
    }
    // Every query the dashboard makes is one Prometheus runs.
    for expr in dashboard_queries() {
        let expr = expr.replace("$instance", ".*");
        let q: String = url::form_urlencoded::byte_serialize(expr.as_bytes()).collect();
        let (status, body) =
            http_get_whole(prometheus.port, &format!("/api/v1/query?query={q}")).unwrap();
        assert_eq!(status, 200, "{expr}: {body}");
    }
}

#[test]
fn instances_on_postgresql_report_how_far_behind_they_are() {
    let mut pg = users_tests::PgCluster::start();
    let ports = [free_port(), free_port()];
    let at = |i: usize| format!("127.0.0.1:{}", ports[i]);
    let a = ServiceProcess::start(super::cluster::on(&pg).arg(&["--metrics-listen", &at(0)]));
    let mut b = a.sibling(super::cluster::on(&pg).arg(&["--metrics-listen", &at(1)]));
    b.spawn_now();
    wait_until("b answering", Duration::from_secs(30), || {
        b.client().call(json!({"action": "health_check"})).is_ok()
    });
    a.register("quinn", PASSWORD);
    // b counts the account a made once it has followed a's commit.
    wait_until("b following a", Duration::from_secs(10), || {
        http_get(ports[1], "/metrics")
            .is_ok_and(|(_, text)| sample(&text, "users_service_users") == Some(2.0))
    });
    let text = scrape(ports[1]);
    assert_eq!(sample(&text, "users_service_follow_lag_seconds"), Some(0.0));
    assert!(
        !text.contains("users_service_store_"),
        "no file store, no disk series"
    );

    // Without the database, the instances cannot hear each other: the lag grows.
    pg.stop();
    wait_until("a lag over a second", Duration::from_secs(30), || {
        sample(&scrape(ports[0]), "users_service_follow_lag_seconds").is_some_and(|s| s > 1.0)
    });
    pg.restart();
    wait_until("in step again", Duration::from_secs(60), || {
        sample(&scrape(ports[0]), "users_service_follow_lag_seconds") == Some(0.0)
    });
}
