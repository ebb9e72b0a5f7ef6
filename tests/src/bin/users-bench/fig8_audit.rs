//! Figure 8: reading the audit log's first page with a million events,
//! against the same read with a thousand, and the service's memory then.

use crate::fixtures::{make_store, opts, ADMIN_PASSWORD};
use crate::load::{percentile, rss_kib};
use crate::report::{Against, Plan, Report};
use serde_json::json;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use users_protocol::AuditKind;
use users_service::file_store::{FileOptions, FileStore};
use users_service::{AuditRecord, Backend, Party};
use users_tests::{ServiceProcess, MASTER};

/// Events per batch (one line of the log), as a busy service commits them.
const PER_BATCH: usize = 100;
/// Reads timed per store; audit_log takes two a second per account.
const READS: usize = 8;

pub fn run(plan: &Plan, report: &mut Report) {
    let many = if plan.quick { 20_000 } else { 1_000_000 };
    let (few_ms, _) = first_page(1_000);
    let (many_ms, rss) = first_page(many);
    report.push(
        8,
        &format!("audit_log first page, {many} events (median ms)"),
        many_ms,
        "ms",
        Against {
            baseline: Some((few_ms, "1,000 events")),
            goal: "ratio <= 2",
            met: Some(many_ms <= 2.0 * few_ms),
        },
    );
    report.push(
        8,
        &format!("resident memory while reading, {many} events"),
        rss as f64 / 1024.0,
        "MiB",
        Against::NONE,
    );
}

/// The median time of the first page (50 events, newest first) on a store
/// of `events` audit events, and the service's resident memory after.
fn first_page(events: usize) -> (f64, u64) {
    let dir = make_store(10, 1000);
    fill_audit_log(&dir.path().join("users.json"), events);
    let mut s = ServiceProcess::stopped_in(dir, opts(&[]));
    s.launch();
    let token = s.login("admin", ADMIN_PASSWORD);
    let c = s.client();
    let mut took = Vec::new();
    for _ in 0..READS {
        let t0 = Instant::now();
        let page = c
            .call(json!({"action": "audit_log", "session_token": token}))
            .expect("a reply");
        took.push(t0.elapsed());
        assert_eq!(page["count"], 50, "{page}");
        std::thread::sleep(Duration::from_millis(550));
    }
    took.sort();
    let (rss, _) = rss_kib(s.pid().expect("running"));
    (percentile(&took, 0.5).as_secs_f64() * 1000.0, rss)
}

/// Appends `n` failed-login events about made-up accounts, through the
/// store's own commit, a batch at a time.
fn fill_audit_log(store: &std::path::Path, n: usize) {
    let opts = FileOptions {
        kdf_iterations: 1000,
        compact_after: usize::MAX,
        audit_retention: users_service::DEFAULT_RETENTION,
    };
    let mut opened = FileStore::open(store, MASTER, &opts).expect("the fixture opens");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut done = 0;
    while done < n {
        let size = PER_BATCH.min(n - done);
        let mut batch: Vec<AuditRecord> = (done..done + size)
            .map(|i| AuditRecord {
                v: 2,
                id: 0,
                at: now,
                kind: AuditKind::LoginFailed,
                actor: None,
                target: Some(Party {
                    id: None,
                    name: format!("(unknown account {})", i % 5000),
                }),
                client: Some(format!("198.51.100.{}", i % 250)),
                success: false,
                detail: "wrong password".into(),
                prev: None,
            })
            .collect();
        opened
            .store
            .commit_batch(&[], &[], &mut batch)
            .expect("appending events");
        done += size;
    }
}
