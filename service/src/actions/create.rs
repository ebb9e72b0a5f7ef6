//! create_user: open to anyone, as in the original, unless `--registration`
//! says otherwise; then an admin's session makes accounts. Also the checks
//! and the making of a new account that invite_accept shares.

use super::access::{actor_at_write, authenticate, check_unique};
use super::outcome::Outcome;
use super::step::{AfterHash, Look, Step, Written};
use crate::app::App;
use crate::audit::Event;
use crate::auth::password;
use crate::auth::peer::Caller;
use crate::clock::rfc3339;
use crate::error::{Result, ServiceError};
use crate::model::{PasswordHash, User, UserId};
use crate::settings::Registration;
use crate::storage::UserTable;
use users_protocol::{AuditKind, NewUser, Role, Secret};

/// A name or email taken here may have been given up on another instance a
/// moment ago: the refusal is looked at again after a catch-up
/// (`server::parked`), and counts once against the rate, at the first look.
pub(super) fn create_user(
    app: &App,
    u: NewUser,
    session: Option<Secret>,
    caller: &Caller,
    look: Look,
) -> Result<Step> {
    let by_admin = match &session {
        Some(token) => {
            if authenticate(app, token)?.role != Role::Admin {
                return Err(ServiceError::Forbidden(
                    "Only admins make accounts with a session; sign out to register".into(),
                ));
            }
            true
        }
        None if app.settings.registration == Registration::Open => false,
        None => return Err(ServiceError::RegistrationClosed),
    };
    take_rate(app, caller, look)?;
    let names = check_new(app, &u, false)?;
    let client = caller.clone();
    let iterations = app.settings.pbkdf2_iterations;
    Ok(Step::slow(move |_| {
        let hash = password::hash(u.password.expose(), iterations, &mut rand::rng());
        AfterHash::write(move |app, table| {
            // The admin may have been demoted or signed out meanwhile.
            if let Some(token) = session.filter(|_| by_admin) {
                if actor_at_write(app, table, &token)?.role != Role::Admin {
                    return Err(ServiceError::Forbidden("Only admins make accounts".into()));
                }
            }
            let username = names.0.clone();
            let id = UserId::random(&mut rand::rng());
            let user = make(app, table, (id, names), hash, &u, Role::User)?;
            table.put(user);
            let mut event = Event::new(AuditKind::AccountCreated, None, id).from(&client);
            if by_admin {
                event = event.detail("by an admin");
            }
            Ok(Written {
                outcome: Outcome::Created(username),
                sessions: vec![],
                events: vec![event],
            })
        })
    }))
}

/// Accounts made a second per client address (`--create-rate`), counted at
/// the first look only.
pub(super) fn take_rate(app: &App, caller: &Caller, look: Look) -> Result<()> {
    let now = std::time::Instant::now();
    if look == Look::First && !app.create_rate.take(caller.peer_key().as_deref(), now) {
        return Err(ServiceError::TooFast { retry_after: 1 });
    }
    Ok(())
}

/// A new account's username and email, trimmed, once every field is
/// checked: the names' rules, the password policy, the profile, and that no
/// account here has either name. With `passkey`, the account signs in with
/// a passkey, and may have no password.
pub(super) fn check_new(app: &App, u: &NewUser, passkey: bool) -> Result<(String, String)> {
    let username = u.username.trim().to_owned();
    let email = u.email.trim().to_owned();
    users_protocol::validate::username(&username)?;
    users_protocol::validate::email(&email)?;
    if !(passkey && u.password.is_empty()) {
        app.settings
            .password_policy
            .check("password", u.password.expose(), &username, &email)?;
    }
    for (field, value) in u.profile.iter() {
        users_protocol::validate::profile_field(field, value)?;
    }
    check_unique(&app.users(), Some(&username), Some(&email), None)?;
    Ok((username, email))
}

/// Makes the account `id` on the writer, where the names are checked again
/// against what the other instances committed.
pub(super) fn make(
    app: &App,
    table: &UserTable,
    (id, (username, email)): (UserId, (String, String)),
    hash: PasswordHash,
    u: &NewUser,
    role: Role,
) -> Result<User> {
    check_unique(table, Some(&username), Some(&email), None)?;
    let now = rfc3339(app.clock.now());
    let mut user = User::new(id, username, email, hash, &now);
    user.profile.apply(&u.profile);
    user.role = role;
    Ok(user)
}
