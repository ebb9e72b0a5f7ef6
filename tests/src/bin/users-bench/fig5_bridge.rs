//! Figure 5: health_check over WebSocket through the bridge against direct
//! ZeroMQ. The two halves take turns for [`ROUNDS`] rounds, and each is the
//! median of its rounds: the direct half alone moves by a fifth from one
//! round to the next, and so a drift of the machine weighs on both halves,
//! and no one round decides the ratio.

use crate::fixtures::opts;
use crate::load::{median, zmq_throughput};
use crate::report::{Against, Plan, Report};
use std::sync::Arc;
use std::time::Instant;
use users_tests::{ws, BridgeProcess, ServiceProcess};

const CLIENTS: usize = 16;
const HEALTH: &str = r#"{"action":"health_check"}"#;
/// Turns of each half.
const ROUNDS: usize = 5;

/// Requests per second of `CLIENTS` WebSocket clients, each in lock-step.
async fn ws_throughput(url: String, d: std::time::Duration) -> f64 {
    let mut conns = Vec::new();
    for _ in 0..CLIENTS {
        conns.push(ws::connect(&url, None).await.expect("ws"));
    }
    let start = Arc::new(tokio::sync::Barrier::new(CLIENTS + 1));
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|mut c| {
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                ws::call_raw(&mut c, HEALTH).await;
                start.wait().await;
                let t0 = Instant::now();
                let mut n = 0u64;
                while t0.elapsed() < d {
                    ws::call_raw(&mut c, HEALTH).await;
                    n += 1;
                }
                n
            })
        })
        .collect();
    start.wait().await;
    let t0 = Instant::now();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / t0.elapsed().as_secs_f64()
}

pub fn run(plan: &Plan, report: &mut Report) {
    let s = ServiceProcess::start(opts(&[]));
    let unlimited = [
        "--rate-per-connection",
        "1000000",
        "--rate-per-ip",
        "1000000",
    ];
    let b = BridgeProcess::start_logging("warn", &s.endpoint(), &unlimited);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (mut direct, mut via_ws) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        direct.push(zmq_throughput(&s.endpoint(), CLIENTS, plan.secs, HEALTH));
        via_ws.push(rt.block_on(ws_throughput(b.ws_url(), plan.secs)));
    }
    let (direct, via_ws) = (median(direct), median(via_ws));
    report.push(
        5,
        &format!(
            "health_check over WebSocket via the bridge, {CLIENTS} clients (median of {ROUNDS})"
        ),
        via_ws,
        "req/s",
        Against {
            baseline: Some((direct, "direct ZeroMQ, same clients")),
            goal: ">= 0.85",
            met: Some(via_ws / direct >= 0.85),
        },
    );
}
