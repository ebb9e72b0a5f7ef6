//! Figure 6: start-up time and memory with many users.

use crate::fixtures::{make_store, opts};
use crate::load::{rss_kib, time_start_up};
use crate::report::{Against, Plan, Report};
use std::time::Duration;
use users_tests::ServiceProcess;

pub fn run(plan: &Plan, report: &mut Report) {
    let n = if plan.quick { 5_000 } else { 100_000 };
    // The storage key at the default strength: start-up pays for it.
    let kdf = if plan.quick {
        1000
    } else {
        users_service::password::DEFAULT_ITERATIONS
    };
    let mut s = ServiceProcess::stopped_in(make_store(n, kdf), opts(&[]));
    let took = time_start_up(&mut s, n);
    let (rss, hwm) = rss_kib(s.pid().expect("running"));
    report.push(
        6,
        &format!("start-up time with {n} users"),
        took.as_secs_f64(),
        "s",
        Against {
            baseline: None,
            goal: "< 2 s",
            met: Some(took < Duration::from_secs(2)),
        },
    );
    report.push(
        6,
        &format!("resident memory after start-up with {n} users"),
        rss as f64 / 1024.0,
        "MiB",
        Against {
            baseline: None,
            goal: "< 200 MB",
            met: Some((rss as f64 * 1024.0) < 200e6),
        },
    );
    // Reported beside it, not judged: the transient peak while the snapshot is
    // decrypted, when the token, its decoding and the plaintext coexist.
    report.push(
        6,
        &format!("peak resident memory during start-up with {n} users"),
        hwm as f64 / 1024.0,
        "MiB",
        Against::NONE,
    );
}
