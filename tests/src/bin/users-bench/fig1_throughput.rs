//! Figure 1: health_check and get_user throughput against a bare ZeroMQ echo.

use crate::fixtures::{opts, ADMIN_PASSWORD};
use crate::load::{zmq_throughput, Echo};
use crate::report::{Against, Plan, Report};
use serde_json::json;
use users_tests::ServiceProcess;

pub fn run(plan: &Plan, report: &mut Report) {
    let s = ServiceProcess::start(opts(&[]));
    let token = s.login("admin", ADMIN_PASSWORD);
    let echo = Echo::start();
    let health = r#"{"action":"health_check"}"#.to_owned();
    let get_user = json!({"action": "get_user", "session_token": token}).to_string();
    let levels: &[usize] = if plan.quick { &[1, 8] } else { &[1, 8, 64] };
    for &n in levels {
        let base = zmq_throughput(&echo.endpoint, n, plan.secs, &health);
        for (name, req) in [("health_check", &health), ("get_user", &get_user)] {
            let v = zmq_throughput(&s.endpoint(), n, plan.secs, req);
            let plural = if n == 1 { "" } else { "s" };
            report.push(
                1,
                &format!("{name} throughput, {n} client{plural}"),
                v,
                "req/s",
                Against {
                    baseline: Some((base, "bare ZeroMQ ROUTER echo")),
                    goal: ">= 0.8",
                    met: Some(v / base >= 0.8),
                },
            );
        }
    }
}
