//! The benchmark's smoke mode: every figure is measured and reported. The figures
//! themselves are not judged here (timing belongs in the benchmark, not in tests).

use serde_json::Value;

#[test]
fn users_bench_quick_reports_every_figure() {
    let out_dir = tempfile::tempdir().unwrap();
    let json = out_dir.path().join("bench.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_users-bench"))
        .args(["--quick", "--json"])
        .arg(&json)
        .output()
        .expect("users-bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let figures = v["figures"].as_array().unwrap();
    for n in 1..=9 {
        let of_n: Vec<&Value> = figures.iter().filter(|f| f["figure"] == n).collect();
        assert!(!of_n.is_empty(), "figure {n} missing:\n{stdout}");
        for f in of_n {
            assert!(
                f["value"].as_f64().is_some_and(|x| x > 0.0),
                "figure {n} has no value: {f}"
            );
            if let Some(b) = f["baseline"].as_f64() {
                assert!(
                    b > 0.0 && f["ratio"].as_f64().is_some_and(|r| r > 0.0),
                    "{f}"
                );
            }
        }
    }
    assert!(stdout.contains("ratio"), "the table is printed:\n{stdout}");
}

#[test]
fn users_bench_refuses_a_figure_it_does_not_have_and_no_time() {
    for args in [
        &["--only", "99"][..],
        &["--only", "0"],
        &["--seconds", "0"],
        &["--seconds=-2"],
        &["--seconds", "NaN"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_users-bench"))
            .args(args)
            .output()
            .expect("users-bench runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("invalid value"), "{args:?}: {stderr}");
    }
}
