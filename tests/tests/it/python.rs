use std::process::Command;
use users_tests::{bin_path, workspace};

/// The original README's client code and test script, unchanged, pass against
/// users-service; then plain Python opens the encrypted store.
#[test]
fn original_python_clients_pass() {
    let dir = tempfile::tempdir().unwrap();
    let root = workspace();
    let out = Command::new("unshare")
        .args(["-n", "bash"])
        .arg(root.join("tests/python/compat.sh"))
        .arg(bin_path("users-service"))
        .arg(dir.path())
        .arg(&root)
        .output()
        .expect("unshare and bash are needed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let log = std::fs::read_to_string(dir.path().join("service.log")).unwrap_or_default();
    assert!(out.status.success(), "{stdout}\n{stderr}\n{log}");
    for line in [
        "✓ Account creation",
        "✓ Login successful",
        "✓ Email update",
        "All tests passed!",
        "Account created: alice",
        "New username: alice_updated",
        "Password updated successfully",
        "store opened by Python: admin, alice_updated, testuser",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
}
