//! Figure 4: create_user and update_user cost with few users against many.

use crate::fixtures::{make_store, opts, ADMIN_PASSWORD};
use crate::report::{Against, Plan, Report};
use serde_json::json;
use std::time::Instant;
use users_tests::ServiceProcess;

/// Mean time of `ops` sequential create_user and update_user calls.
pub fn write_costs(s: &ServiceProcess, ops: usize) -> (f64, f64) {
    let c = s.client();
    let token = s.login("admin", ADMIN_PASSWORD);
    let t0 = Instant::now();
    for i in 0..ops {
        c.call_ok(json!({"action": "create_user", "user_data": {
            "username": format!("new{i:06}"), "email": format!("new{i:06}@example.com"), "password": "benchpass"}}));
    }
    let create = t0.elapsed().as_secs_f64() / ops as f64;
    let t0 = Instant::now();
    for i in 0..ops {
        c.call_ok(json!({"action": "update_user", "session_token": token,
            "update_data": {"city": format!("City {i}")}}));
    }
    let update = t0.elapsed().as_secs_f64() / ops as f64;
    (create, update)
}

pub fn run(plan: &Plan, report: &mut Report) {
    let (small, large, ops) = if plan.quick {
        (1_000, 5_000, 20)
    } else {
        (1_000, 100_000, 300)
    };
    let s1 = ServiceProcess::start_in(make_store(small, 1000), opts(&[]));
    let (c1, u1) = write_costs(&s1, ops);
    drop(s1);
    let s2 = ServiceProcess::start_in(make_store(large, 1000), opts(&[]));
    let (c2, u2) = write_costs(&s2, ops);
    drop(s2);
    for (name, a, b) in [("create_user", c1, c2), ("update_user", u1, u2)] {
        report.push(
            4,
            &format!("{name} cost with {large} users"),
            b * 1e3,
            "ms",
            Against {
                baseline: Some((a * 1e3, &format!("{small} users"))),
                goal: "<= 1.5",
                met: Some(b / a <= 1.5),
            },
        );
    }
}
