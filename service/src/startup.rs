//! Opening the store and creating the first admin.

use crate::clock::{rfc3339, Clock};
use crate::config::Config;
use crate::db::Db;
use crate::password;
use crate::server::Service;
use crate::store::{Store, StoreOptions};
use std::sync::Arc;
use users_protocol::{Role, Secret, UserRecord, UserStatus};

/// The first admin's username.
pub const ADMIN_USERNAME: &str = "admin";
/// The first admin's password when none is configured, as the original documents.
pub const DEFAULT_ADMIN_PASSWORD: &str = "admin123";

/// Opens the store and builds the service state. On an empty store, creates the
/// first admin with `admin_password`, or the documented default with a warning.
pub fn load(
    cfg: Config,
    master: &Secret,
    admin_password: Option<Secret>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(Arc<Service>, Store)> {
    let opened = Store::open(
        &cfg.storage_file,
        master.expose(),
        &StoreOptions {
            kdf_iterations: cfg.kdf_iterations,
            compact_after: cfg.compact_after,
        },
    )?;
    if opened.dropped_torn_tail {
        tracing::warn!("the journal ended in a torn record (a crash mid-write); it was dropped");
    }
    let mut store = opened.store;
    let mut db = Db::from_records(opened.users.into_values());
    if db.is_empty() {
        let (pw, default) = match admin_password.filter(|p| !p.is_empty()) {
            Some(p) => (p, false),
            None => (Secret::from(DEFAULT_ADMIN_PASSWORD), true),
        };
        let hash = password::hash(pw.expose(), cfg.pbkdf2_iterations, &mut rand::rng());
        let now = rfc3339(clock.now());
        db.put(
            None,
            UserRecord {
                username: ADMIN_USERNAME.into(),
                email: "admin@localhost.localdomain".into(),
                password_hash: hash.hash,
                password_salt: hash.salt,
                password_iterations: hash.iterations,
                profile: users_protocol::user::Profile {
                    full_name: "Administrator".into(),
                    ..Default::default()
                },
                role: Role::Admin,
                status: UserStatus::Active,
                created_at: now.clone(),
                updated_at: now,
                last_login: None,
                metadata: Default::default(),
            },
        );
        store.commit(&db.take_changes())?;
        db.forget_undo();
        if default {
            tracing::warn!(
                "CREATED THE FIRST ADMIN '{ADMIN_USERNAME}' WITH THE DEFAULT PASSWORD '{DEFAULT_ADMIN_PASSWORD}': \
                 change it now (or set USERS_SERVICE_ADMIN_PASSWORD before the first start)"
            );
        } else {
            tracing::info!(
                "created the first admin '{ADMIN_USERNAME}' with the configured password"
            );
        }
    }
    tracing::info!(users = db.len(), "store loaded");
    Ok((Arc::new(Service::new(cfg, clock, db)), store))
}
