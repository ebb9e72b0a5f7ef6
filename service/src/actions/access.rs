//! Who is asking, which account a request applies to, and uniqueness.

use crate::app::App;
use crate::error::{Result, ServiceError};
use crate::model::{NameKey, User, UserId};
use crate::storage::UserTable;
use std::sync::Arc;
use users_protocol::{Request, Role, Secret, UserStatus};

/// Refuses a request whose session's account must first choose its own
/// password (the first admin's default, `reset-admin`'s, an admin's
/// reset): such a session may only read its own record, change its own
/// password, check itself and log out. Likewise an account whose role
/// `--require-two-factor` names, without two-factor login yet: it may only
/// set it up (ASVS 6.3.3). A session this instance does not
/// know is refused here as the action would refuse it, so that on a shared
/// store the request is parked and checked again once this instance has
/// caught up: it is never handled by an action that learns of the session
/// after this check did not.
pub(super) fn check_session_limits(app: &App, req: &Request) -> Result<()> {
    let Some(token) = req.session_token() else {
        return Ok(());
    };
    let Some(session) = app.sessions.peek(token.expose(), app.clock.now()) else {
        app.follow.check_in_step()?;
        return Err(ServiceError::SessionInvalid);
    };
    let Some(me) = app.users().get_by_id(session.user).cloned() else {
        return Err(ServiceError::SessionInvalid);
    };
    // Oneself as `target` has it, so that no other account can pass.
    let own = |named: &Option<String>| named.as_deref().is_none_or(|n| NameKey::of(n) == me.key());
    // What every such session may do: read itself, check itself, leave.
    let basic = match req {
        Request::Logout { .. } | Request::SessionStatus { .. } => true,
        Request::GetUser { username, .. } => own(username),
        _ => false,
    };
    if me.password_change_required {
        let change = match req {
            Request::UpdateUser {
                update_data,
                username,
                ..
            } => own(username) && update_data.changed_fields() == ["password"],
            _ => false,
        };
        // The password comes first: a role that must also set up two-factor
        // login does so once the password is its own.
        return match basic || change {
            true => Ok(()),
            false => Err(ServiceError::PasswordChangeRequired),
        };
    }
    // A passkey does not stand for it: the account's password sign-in
    // would still be one factor. An account without a password signs in
    // with passkeys only, each two factors.
    let one_factor = me.password.is_set() && !me.has_totp();
    if app.settings.require_two_factor.contains(&me.role) && one_factor {
        let set_up = matches!(req, Request::TotpSetup { .. } | Request::TotpEnable { .. });
        if !(basic || set_up) {
            return Err(ServiceError::TwoFactorRequired);
        }
    }
    Ok(())
}

/// The caller's account for a session token.
pub(super) fn authenticate(app: &App, token: &Secret) -> Result<Arc<User>> {
    // A session ended on another instance may not have reached this one.
    app.follow.check_in_step()?;
    let session = app
        .sessions
        .validate(token.expose(), app.clock.now())
        .ok_or(ServiceError::SessionInvalid)?;
    app.users()
        .get_by_id(session.user)
        .cloned()
        .ok_or(ServiceError::SessionInvalid)
}

/// Reading or changing.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Access {
    /// get_user and list_users.
    Read,
    /// update_user and delete_user.
    Write,
}

/// The account an action applies to: the caller's own, or the one named, if
/// the caller's role allows. One not found is, on a shared store, looked
/// for again once this instance has caught up (`server::parked`).
pub(super) fn target(
    table: &UserTable,
    actor: &User,
    named: Option<&str>,
    access: Access,
) -> Result<Arc<User>> {
    let Some(name) = named.filter(|n| NameKey::of(n) != actor.key()) else {
        return table
            .get_by_id(actor.id)
            .cloned()
            .ok_or(ServiceError::SessionInvalid);
    };
    let allowed = match access {
        Access::Read => actor.role.can_read_all(),
        Access::Write => actor.role == Role::Admin,
    };
    if !allowed {
        return Err(match access {
            Access::Read => {
                ServiceError::Forbidden("Only admins and moderators can read other users".into())
            }
            Access::Write => not_admin(),
        });
    }
    table.get(name).cloned().ok_or(ServiceError::NotFound)
}

/// The caller's own account, or the one named if the caller is an admin;
/// `refusal` says what a non-admin may not do to others.
pub(super) fn own_or_admins(
    table: &UserTable,
    actor: &Arc<User>,
    named: Option<&str>,
    refusal: &str,
) -> Result<Arc<User>> {
    match named.filter(|n| NameKey::of(n) != actor.key()) {
        None => Ok(Arc::clone(actor)),
        Some(_) if actor.role != Role::Admin => Err(ServiceError::Forbidden(refusal.into())),
        Some(name) => table.get(name).cloned().ok_or(ServiceError::NotFound),
    }
}

fn not_admin() -> ServiceError {
    ServiceError::Forbidden("Only admins can change other users".into())
}

/// The caller as the table has them at the moment of a write: the session
/// checked on the socket thread may have been ended, and the account
/// demoted, suspended or deleted, while the write waited in the queue.
pub(super) fn actor_at_write(app: &App, table: &UserTable, token: &Secret) -> Result<Arc<User>> {
    let session = app
        .sessions
        .validate(token.expose(), app.clock.now())
        .ok_or(ServiceError::SessionInvalid)?;
    table
        .get_by_id(session.user)
        .filter(|u| u.status == UserStatus::Active)
        .cloned()
        .ok_or(ServiceError::SessionInvalid)
}

/// Refuses a write to `target`'s account, or a change of role or status,
/// unless `actor`'s role as it is now allows it.
pub(super) fn may_write(actor: &User, target: UserId, role_or_status: bool) -> Result<()> {
    if actor.role == Role::Admin {
        return Ok(());
    }
    if target != actor.id {
        return Err(not_admin());
    }
    if role_or_status {
        return Err(ServiceError::Forbidden(
            "Only admins can change role or status".into(),
        ));
    }
    Ok(())
}

/// Refuses a username or email that another account (any but `except`) has.
/// On the socket thread, on a shared store, a refusal is looked at again
/// once this instance has caught up (the name may have been given up
/// elsewhere: `server::parked`); a name free here is checked again by the
/// writer, after it has read what the others committed.
pub(super) fn check_unique(
    table: &UserTable,
    username: Option<&str>,
    email: Option<&str>,
    except: Option<UserId>,
) -> Result<()> {
    let other = |u: &Arc<User>| except != Some(u.id);
    if username.and_then(|n| table.get(n)).is_some_and(other) {
        return Err(ServiceError::UsernameTaken);
    }
    if email.and_then(|e| table.get_by_email(e)).is_some_and(other) {
        return Err(ServiceError::EmailTaken);
    }
    Ok(())
}
