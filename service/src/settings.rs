//! What the service runs with, apart from where it listens and stores: the
//! command line ([`crate::cli`]) fills it in, tests build it directly.

use crate::auth::policy::PasswordPolicy;
use crate::auth::sessions::Lifetimes;
use crate::auth::throttle::ThrottleConfig;

#[derive(Debug, Clone)]
pub struct Settings {
    /// How long sessions last, and how many an account may have.
    pub sessions: Lifetimes,
    /// What a new password must meet.
    pub password_policy: PasswordPolicy,
    /// PBKDF2 iterations for new password hashes.
    pub pbkdf2_iterations: u32,
    /// Threads hashing passwords.
    pub workers: usize,
    /// Login back-off.
    pub throttle: ThrottleConfig,
    /// Largest request accepted, in bytes.
    pub max_request_bytes: usize,
    /// Whether list_users answers without a session, as the original did.
    pub public_list: bool,
    /// Anonymous list_users a second per peer (bursts of twice that).
    pub public_list_rate: f64,
    /// Accounts created a second per peer (bursts of twice that).
    pub create_rate: f64,
    /// Slow steps (PBKDF2, large lists) that may wait, in all.
    pub max_slow_queue: usize,
    /// Slow steps that may wait for one peer address.
    pub max_slow_per_peer: usize,
    /// Writes that may wait for the writer.
    pub max_write_queue: usize,
    /// Roles whose accounts must use two-factor login (`--require-two-factor`).
    pub require_two_factor: Vec<users_protocol::Role>,
    /// Who may make an account (`--registration`).
    pub registration: Registration,
    /// Passkeys' relying party (`--webauthn-rp-id`, `--webauthn-origin`).
    pub passkeys: std::sync::Arc<webauthn_rs::Webauthn>,
}

/// Who may make an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Registration {
    /// Anyone, with create_user, as in the original; invitations work too.
    Open,
    /// Admins (create_user with an admin's session), and whoever has an
    /// invitation (invite_accept).
    Invite,
    /// Admins only: invitations do not work either.
    Closed,
}

#[cfg(test)]
pub(crate) fn for_tests() -> Settings {
    Settings {
        sessions: Lifetimes {
            absolute: std::time::Duration::from_secs(24 * 3600),
            idle: None,
            max_per_user: 100,
        },
        password_policy: PasswordPolicy {
            min_length: 6,
            blocklist: true,
            context_words: std::sync::Arc::from(Vec::new()),
        },
        pbkdf2_iterations: 1000,
        workers: 1,
        throttle: ThrottleConfig {
            free_failures: 5,
            peer_free_failures: 20,
            base_delay: std::time::Duration::from_secs(1),
            max_delay: std::time::Duration::from_secs(300),
            trusted_peers: Vec::new(),
        },
        max_request_bytes: 65536,
        public_list: true,
        public_list_rate: 5.0,
        create_rate: 10.0,
        max_slow_queue: 4096,
        max_slow_per_peer: 64,
        max_write_queue: 4096,
        require_two_factor: Vec::new(),
        registration: Registration::Open,
        passkeys: std::sync::Arc::new(
            crate::auth::passkey::relying_party(
                "localhost",
                &[webauthn_rs::prelude::Url::parse("http://localhost:8765").expect("a URL")],
            )
            .expect("the default relying party"),
        ),
    }
}
