//! Services and stores to measure.

use std::sync::Arc;
use users_protocol::{ProfileField, Role};
use users_service::file_store::{FileOptions, FileStore};
use users_service::password;
use users_service::{PasswordHash, User, UserId};
use users_tests::{ServiceOptions, MASTER};

/// PBKDF2 iterations where hashing is not what is measured.
pub const LOW_ITERATIONS: &str = "1000";
/// Every benchmark user's password.
pub const ADMIN_PASSWORD: &str = "bench-admin-pw";

/// Service options with cheap hashing, the bench's admin, and `extra` flags.
pub fn opts(extra: &[&str]) -> ServiceOptions {
    let mut args = vec![
        "--pbkdf2-iterations",
        LOW_ITERATIONS,
        "--kdf-iterations",
        LOW_ITERATIONS,
        "--trusted-peer",
        "127.0.0.1",
    ];
    args.extend_from_slice(extra);
    ServiceOptions {
        args: args.into_iter().map(String::from).collect(),
        master: Some(MASTER.into()),
        admin_password: Some(ADMIN_PASSWORD.into()),
        env: Vec::new(),
        wrapper: Vec::new(),
    }
}

/// Benchmark user `i` (0 is the admin) with the password `hash`.
pub fn user(i: usize, hash: &PasswordHash) -> User {
    let (name, role) = if i == 0 {
        ("admin".to_owned(), Role::Admin)
    } else {
        (format!("user{i:06}"), Role::User)
    };
    let email = format!("user{i:06}@example.com");
    let id = UserId::random(&mut rand::rng());
    let mut u = User::new(id, name, email, hash.clone(), "2026-01-01T00:00:00Z");
    u.role = role;
    u.profile
        .set(ProfileField::FullName, format!("Bench User {i}"));
    u.profile.set(ProfileField::City, "Lisbon");
    u.profile.set(ProfileField::Country, "PT");
    u
}

/// A store of `n` users (user 0 is the admin, all with [`ADMIN_PASSWORD`]).
pub fn make_store(n: usize, kdf_iterations: u32) -> Arc<tempfile::TempDir> {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let path = dir.path().join("users.json");
    let hash = password::hash(ADMIN_PASSWORD, 1000, &mut rand::rng());
    let opts = FileOptions {
        kdf_iterations,
        compact_after: usize::MAX,
        audit_retention: users_service::DEFAULT_RETENTION,
    };
    let mut opened = FileStore::open(&path, MASTER, &opts).unwrap();
    let users = (0..n).map(|i| Arc::new(user(i, &hash))).collect();
    opened.store.compact_now(users).unwrap();
    dir
}
