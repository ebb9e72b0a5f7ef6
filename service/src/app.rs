//! [`App`]: the state every thread shares, the socket thread, the hashing pool
//! and the writer alike.

use crate::audit::{AuditQueue, AuditReader};
use crate::auth::rate::PeerRate;
use crate::auth::sessions::{MemorySessions, SessionStore};
use crate::auth::throttle::{MemoryThrottle, ThrottleStore};
use crate::clock::Clock;
use crate::follow::Follow;
use crate::metrics::series::Metrics;
use crate::settings::Settings;
use crate::storage::crypto::FingerprintKey;
use crate::storage::page_cache::PageCache;
use crate::storage::UserTable;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

/// audit_log requests a second per account (bursts of twice that).
pub(crate) const AUDIT_READS_PER_SECOND: f64 = 2.0;
/// totp_setup a second per account (bursts of twice that): each makes a
/// secret, a QR code and a write.
pub(crate) const TOTP_SETUPS_PER_SECOND: f64 = 1.0;

pub(crate) struct App {
    pub settings: Settings,
    /// Passed in, so that expiry and throttling tests control it.
    pub clock: Arc<dyn Clock>,
    /// Start of this process, for uptime.
    pub started: Instant,
    /// Session tokens.
    pub sessions: Box<dyn SessionStore>,
    /// Failed-login counts.
    pub throttle: Arc<dyn ThrottleStore>,
    /// Anonymous list_users per peer.
    pub public_list_rate: PeerRate,
    /// Catching up with other instances, on a shared store.
    pub follow: Arc<Follow>,
    /// Encoded public list pages.
    pub public_pages: PageCache,
    /// Account creation per peer.
    pub create_rate: PeerRate,
    /// Audit events of nothing changed, waiting for the writer.
    pub audit: AuditQueue,
    /// Reads the audit log; set once the store is open.
    pub audit_reader: Option<Arc<dyn AuditReader>>,
    /// audit_log per account: each reads the whole log.
    pub audit_rate: PeerRate,
    /// totp_setup per account.
    pub totp_setup_rate: PeerRate,
    /// Fingerprints of names that are no account, in the audit log: the
    /// store's key, once the store is open.
    pub names: FingerprintKey,
    /// Which forward-auth tickets were verified for which hosts here.
    pub tickets_seen: crate::auth::ticket::Seen,
    /// What `--metrics-listen` serves; off unless it is given.
    pub metrics: Metrics,
    users: RwLock<UserTable>,
}

impl App {
    /// Shared state over a loaded table, with sessions and throttle in
    /// memory. `shared` says that other instances share the store.
    pub(crate) fn new(
        settings: Settings,
        clock: Arc<dyn Clock>,
        users: UserTable,
        shared: bool,
    ) -> Self {
        App {
            sessions: Box::new(MemorySessions::new(settings.sessions, shared)),
            throttle: Arc::new(MemoryThrottle::new(settings.throttle.clone())),
            public_list_rate: PeerRate::new(
                settings.public_list_rate,
                settings.throttle.trusted_peers.clone(),
            ),
            public_pages: PageCache::default(),
            follow: Arc::default(),
            create_rate: PeerRate::new(
                settings.create_rate,
                settings.throttle.trusted_peers.clone(),
            ),
            audit: AuditQueue::default(),
            audit_reader: None,
            audit_rate: PeerRate::new(AUDIT_READS_PER_SECOND, Vec::new()),
            totp_setup_rate: PeerRate::new(TOTP_SETUPS_PER_SECOND, Vec::new()),
            names: FingerprintKey::random(),
            tickets_seen: Default::default(),
            metrics: Metrics::off(),
            settings,
            clock,
            started: Instant::now(),
            users: RwLock::new(users),
        }
    }

    // A panic while holding the lock must not take the service down with it:
    // the table is consistent between statements, so go on.
    /// The user table, for reading.
    pub(crate) fn users(&self) -> RwLockReadGuard<'_, UserTable> {
        self.users.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The user table, for the writer.
    pub(crate) fn users_mut(&self) -> RwLockWriteGuard<'_, UserTable> {
        self.users.write().unwrap_or_else(|e| e.into_inner())
    }
}
