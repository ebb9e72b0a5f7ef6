//! A full disk: the service on a small filesystem that the test fills. Logins
//! go on, changes are refused and undone, and writes work again once space
//! returns, with no restart.
//!
//! The filesystem is a 1 MiB tmpfs mounted in a mount namespace of the
//! service's own (`unshare -m`, or `-rm` when not root): nothing outside
//! the test sees it, and it goes away with the service.

use serde_json::json;
use std::time::{Duration, Instant};
use users_tests::{ServiceOptions, ServiceProcess};

const SIZE: usize = 1024 * 1024;
/// What the filler leaves free: room for the store and a few dozen users.
const FREE: usize = 48 * 1024;

/// Mounts a tmpfs on $1, fills it but for FREE bytes, removes the filler once
/// $3 exists (or after two minutes), and runs the service.
const SCRIPT: &str = r#"set -e
mount -t tmpfs -o size=1m tmpfs "$1"
head -c "$2" /dev/zero > "$1/filler"
( i=0; while [ ! -e "$3" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done; rm -f "$1/filler" ) &
shift 3
exec "$@"
"#;

fn unshare_flags() -> &'static str {
    let uid = std::process::Command::new("id").arg("-u").output();
    match uid {
        Ok(o) if String::from_utf8_lossy(&o.stdout).trim() == "0" => "-m",
        _ => "-rm",
    }
}

#[test]
fn a_full_disk_refuses_changes_but_not_logins_and_heals_without_a_restart() {
    let flags = unshare_flags();
    let probe = std::process::Command::new("unshare")
        .args([flags, "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"])
        .output()
        .expect("unshare runs");
    assert!(
        probe.status.success(),
        "cannot make a small filesystem for this test (unshare {flags} + mount tmpfs): {}",
        String::from_utf8_lossy(&probe.stderr)
    );

    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let fs = dir.path().join("fs");
    std::fs::create_dir(&fs).unwrap();
    let trigger = dir.path().join("free-the-disk");
    let opts = ServiceOptions {
        wrapper: vec![
            "unshare".into(),
            flags.into(),
            "sh".into(),
            "-c".into(),
            SCRIPT.into(),
            "sh".into(),
            fs.to_str().unwrap().into(),
            (SIZE - FREE).to_string(),
            trigger.to_str().unwrap().into(),
        ],
        // The disk is what fills here, not the account-creation rate.
        ..ServiceOptions::default().arg(&["--create-rate", "1000"])
    };
    let mut s = ServiceProcess::stopped_in(std::sync::Arc::clone(&dir), opts);
    s.store = fs.join("users.json");
    s.spawn_now();
    let c = s.client();
    assert_eq!(s.register("early", "e4rly-pw")["status"], "success");
    let token = s.login("early", "e4rly-pw");

    // Fill what is left.
    let mut n = 0;
    let full = loop {
        let r = s.register(&format!("filler{n:04}"), "fillerpass");
        if r["status"] != "success" {
            break r;
        }
        n += 1;
        assert!(n < 1000, "the disk never filled");
    };
    assert_eq!(full["code"], "internal", "{full}");

    // Logins still work, again and again; their last_login is best-effort.
    for _ in 0..3 {
        s.login("early", "e4rly-pw");
    }
    // A change is refused and undone.
    c.call_err(
        json!({"action": "update_user", "session_token": token, "update_data": {"city": "Oslo"}}),
        "internal",
    );
    let me = c.call_ok(json!({"action": "get_user", "session_token": token}));
    assert_eq!(me["user"]["city"], "", "the refused change was undone");

    // Space returns: writes work again, with no restart.
    std::fs::write(&trigger, b"").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = c
            .call(json!({"action": "update_user", "session_token": token,
                "update_data": {"city": "Oslo"}}))
            .unwrap();
        if r["status"] == "success" {
            break;
        }
        assert!(Instant::now() < deadline, "writes did not come back: {r}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(s.register("late", "latepass")["status"], "success");
    s.login("late", "latepass");
    assert!(s.stop().is_some_and(|st| st.success()), "{}", s.log_text());
}
