//! `users-service reset-admin STORE [USERNAME]`: the way back in when no
//! admin can log in. With the service stopped (a file store's lock makes
//! sure), it gives the account a new random password, makes it an active
//! admin, turns its two-factor login off and ends its sessions, creating it
//! if it does not exist; the audit log records it. The password is returned
//! for printing once.

use crate::audit::Event;
use crate::auth::password;
use crate::auth::sessions::{new_token, SessionOp};
use crate::clock::{rfc3339, unix_secs};
use crate::migrate::{open_batch, StoreAt};
use crate::model::{NameKey, User, UserId};
use crate::storage::backend::StorageError;
use crate::storage::file::FileOptions;
use crate::storage::table::UserTable;
use std::time::SystemTime;
use users_protocol::{validate, AuditKind, Role, Secret, UserStatus};

/// What was done.
pub struct Reset {
    /// The account's username.
    pub username: String,
    /// Its new password, to print once.
    pub password: Secret,
    /// Whether the account was made, not found.
    pub created: bool,
}

/// Why the reset did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The username is not one the service accepts.
    #[error("'{0}' is not a valid username: {1}")]
    BadName(String, String),
}

/// Resets (or creates) the admin `username` in the store at `at`.
pub fn reset_admin(
    at: &StoreAt,
    master: &str,
    opts: &FileOptions,
    username: &str,
    iterations: u32,
) -> Result<Reset, ResetError> {
    let username = username.trim();
    validate::username(username)
        .map_err(|e| ResetError::BadName(username.to_owned(), e.message))?;
    // Hashed before the batch opens: on PostgreSQL, an open batch holds
    // every instance's writes.
    let password = new_token(&mut rand::rng());
    let hash = password::hash(password.expose(), iterations, &mut rand::rng());
    let (mut backend, mut table) = open_batch(at, master, opts)?;
    let now = SystemTime::now();
    let (mut user, created) = match table.get(username) {
        Some(u) => ((**u).clone(), false),
        None => {
            let email = free_email(&table, username);
            let id = UserId::random(&mut rand::rng());
            let user = User::new(id, username.to_owned(), email, hash.clone(), &rfc3339(now));
            (user, true)
        }
    };
    let before = (user.role, user.status, user.has_totp());
    user.password = hash;
    user.reset_link = None;
    // The way back in: no passkey (perhaps someone else's) stays either.
    user.passkeys.clear();
    user.spent_ceremonies.clear();
    user.role = Role::Admin;
    user.status = UserStatus::Active;
    user.totp = None;
    // The password is printed: whoever reads it sets their own first.
    user.password_change_required = true;
    user.updated_at = rfc3339(now);
    let (id, name) = (user.id, user.username.clone());
    table.put(user);
    let detail = match created {
        true => "reset-admin: made an admin with a new password".to_owned(),
        false => format!(
            "reset-admin: new password; role {} → admin; status {} → active; two-factor login {}",
            before.0,
            before.1,
            if before.2 { "turned off" } else { "was off" }
        ),
    };
    let event = Event {
        name: Some(name.clone()),
        ..Event::new(AuditKind::PasswordReset, None, id).detail(detail)
    };
    let mut audit = [event.record(unix_secs(now), |_| Some(name.clone()))];
    let sessions = [SessionOp::RevokeUser {
        user: id,
        except: None,
    }];
    backend.commit_batch(&table.take_changes(), &sessions, &mut audit)?;
    backend.close()?;
    Ok(Reset {
        username: name,
        password,
        created,
    })
}

/// An email for a new admin that no account has.
fn free_email(table: &UserTable, username: &str) -> String {
    let local = NameKey::of(username);
    let base = format!("{}@localhost.localdomain", local.as_str());
    if table.get_by_email(&base).is_none() {
        return base;
    }
    let tag = UserId::random(&mut rand::rng()).to_string();
    format!("{}+{}@localhost.localdomain", local.as_str(), &tag[..8])
}
