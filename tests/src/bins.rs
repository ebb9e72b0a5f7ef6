//! The workspace's binaries, built once per test run, their error lines,
//! and free ports.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
}

/// Path of a workspace binary, built (once per process) in the same profile.
pub fn bin_path(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let release = !cfg!(debug_assertions);
    let built = BUILT.get_or_init(|| {
        // scripts/test has built every target of the workspace at once: a
        // build of two packages here would choose other features, and
        // compile them and their dependencies again.
        if std::env::var_os("USERS_TESTS_BUILT").is_some() {
            return Ok(());
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(workspace()).args([
            "build",
            "-q",
            "-p",
            "users-service",
            "-p",
            "users-bridge",
        ]);
        if release {
            cmd.arg("--release");
        }
        match cmd.status() {
            Ok(s) if s.success() => Ok(()),
            other => Err(format!("building the binaries failed: {other:?}")),
        }
    });
    if let Err(e) = built {
        panic!("{e}");
    }
    target_dir()
        .join(if release { "release" } else { "debug" })
        .join(name)
}

/// The last line a binary wrote to stderr that starts with `prefix`: its
/// error as the command line shows it (the log may say it too).
pub fn error_line(stderr: &[u8], prefix: &str) -> String {
    let text = String::from_utf8_lossy(stderr);
    text.lines()
        .rfind(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line in {text}"))
        .to_owned()
}

/// A TCP port free on loopback right now, and never handed out before in
/// this process: a port picked for a bridge and released, then picked again
/// for a service started before the bridge binds it, would make one of the
/// two fail to start.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("no free port");
        if GIVEN.lock().unwrap_or_else(|e| e.into_inner()).insert(port) {
            return port;
        }
    }
}

#[cfg(test)]
mod tests {
    /// Without the record of ports given, the kernel hands the same free port
    /// out again within a few hundred picks.
    #[test]
    fn free_ports_are_never_handed_out_twice() {
        let ports: Vec<u16> = (0..2_000).map(|_| super::free_port()).collect();
        let distinct: std::collections::BTreeSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), ports.len());
    }
}
