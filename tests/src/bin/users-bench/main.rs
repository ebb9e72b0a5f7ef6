//! users-bench: measures the service (and the bridge) against the performance
//! goals, each figure beside a baseline measured in the same run.
//!
//!     cargo run --release -p users-tests --bin users-bench            # full run
//!     cargo run --release -p users-tests --bin users-bench -- --quick # smoke mode
//!
//! Prints a table and writes the figures as JSON (default target/bench.json).
//!
//! - [`report`]: the figures, the table and the JSON.
//! - [`load`]: load generators, the ZeroMQ echo baseline, percentiles, memory.
//! - [`fixtures`]: service options and stores of many users.
//! - one module per figure: [`fig1_throughput`], [`fig2_logins`] (2 and 3),
//!   [`fig4_writes`], [`fig5_bridge`], [`fig6_startup`], [`fig7_cluster`]
//!   (several instances on PostgreSQL), [`fig8_audit`] (the audit log's
//!   first page, a million events against a thousand), [`fig9_forward`]
//!   (forward-auth verifications against `/healthz`, through the bridge).

mod fig1_throughput;
mod fig2_logins;
mod fig4_writes;
mod fig5_bridge;
mod fig6_startup;
mod fig7_cluster;
mod fig8_audit;
mod fig9_forward;
mod fixtures;
mod load;
mod report;

use clap::Parser;
use report::{Plan, Report};
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(about = "Benchmarks users-service and users-bridge")]
struct Args {
    /// Small sizes and short runs: checks that every figure still works.
    #[arg(long)]
    quick: bool,
    /// Where to write the JSON figures.
    #[arg(long, default_value = "target/bench.json")]
    json: PathBuf,
    /// Seconds per throughput measurement.
    #[arg(long, value_parser = positive_seconds)]
    seconds: Option<f64>,
    /// Measure only these figures, 1 to 9 (repeatable), e.g. --only 6.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=9))]
    only: Vec<u8>,
    /// PBKDF2 iterations for the login figures.
    #[arg(long, default_value_t = 100_000)]
    login_iterations: u32,
}

/// `--seconds`: a measurement needs some time to count over.
fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "expected a positive number of seconds, e.g. 3, not {s:?}"
        )),
    }
}

fn main() {
    let args = Args::parse();
    let secs = Duration::from_secs_f64(args.seconds.unwrap_or(if args.quick { 0.3 } else { 3.0 }));
    let plan = Plan {
        quick: args.quick,
        secs,
        login_iterations: if args.quick {
            1000
        } else {
            args.login_iterations
        },
    };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "users-bench: {cores} cores, {:.1} s per throughput run{}",
        secs.as_secs_f64(),
        if args.quick { ", quick mode" } else { "" }
    );
    let wanted = |n: u8| args.only.is_empty() || args.only.contains(&n);
    let mut report = Report::default();
    /// The figure numbers one measurement reports, and the measurement.
    type Measurement = (&'static [u8], fn(&Plan, &mut Report));
    let figures: [Measurement; 8] = [
        (&[1], fig1_throughput::run),
        (&[2, 3], fig2_logins::run),
        (&[4], fig4_writes::run),
        (&[5], fig5_bridge::run),
        (&[6], fig6_startup::run),
        (&[7], fig7_cluster::run),
        (&[8], fig8_audit::run),
        (&[9], fig9_forward::run),
    ];
    for (numbers, run) in figures {
        if numbers.iter().any(|&n| wanted(n)) {
            run(&plan, &mut report);
        }
    }
    report.print();
    if let Some(parent) = args.json.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let out = json!({"quick": args.quick, "cores": cores, "figures": report});
    std::fs::write(&args.json, serde_json::to_string_pretty(&out).unwrap())
        .expect("writing the JSON");
    println!("\nfigures written to {}", args.json.display());
}
