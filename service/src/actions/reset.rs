//! reset_link_create and reset_redeem: an admin gives a user who forgot
//! their password a one-time link, and the user chooses a new password with
//! it. The admin never knows the password, and the account's sessions end.
//! The link is kept on the account's record ([`crate::model::invite`]); a
//! new link, or any change of the password, replaces it.

use super::access::authenticate;
use super::confirm::{self, Proof};
use super::create::take_rate;
use super::invite::{at, checked_prefix, lifetime, link};
use super::outcome::Outcome;
use super::step::{AfterHash, Look, Step, Written};
use crate::app::App;
use crate::audit::Event;
use crate::auth::password;
use crate::auth::peer::Caller;
use crate::auth::sessions::SessionOp;
use crate::clock::{rfc3339, unix_secs};
use crate::error::{Result, ServiceError};
use crate::model::invite::{self, ResetLink};
use crate::model::{User, UserId};
use crate::storage::UserTable;
use std::sync::Arc;
use users_protocol::invite::{RESET_DEFAULT_SECS, RESET_MAX_SECS};
use users_protocol::{AuditKind, ResetLinkCreated, Secret};

/// reset_link_create: a link for `username`, replacing any before it; its
/// token is in the reply, this once.
pub(super) fn reset_link_create(
    app: &App,
    token: Secret,
    (proof, username, expires_in, prefix): (Proof, String, Option<String>, Option<String>),
    caller: &Caller,
) -> Result<Step> {
    let lifetime = lifetime(expires_in.as_deref(), RESET_DEFAULT_SECS, RESET_MAX_SECS)?;
    let prefix = checked_prefix(prefix)?;
    let actor = authenticate(app, &token)?;
    let refusal = "Only admins can make recovery links";
    if actor.role != users_protocol::Role::Admin {
        return Err(ServiceError::Forbidden(refusal.into()));
    }
    let target = app
        .users()
        .get(username.trim())
        .map(|u| u.id)
        .ok_or(ServiceError::NotFound)?;
    let client = caller.clone();
    confirm::admin_write(
        app,
        (actor, token),
        proof,
        caller,
        refusal,
        move |app, table, admin| {
            let mut rec = (**table.get_by_id(target).ok_or(ServiceError::NotFound)?).clone();
            let (reset_token, hash) = invite::issue(&target.to_string(), &mut rand::rng());
            let (link, qr_svg) = link(prefix.as_deref(), &reset_token)?;
            let expires_at = unix_secs(app.clock.now()) + lifetime;
            rec.reset_link = Some(ResetLink {
                hash,
                expires_at,
                created_by: admin.id,
            });
            let username = rec.username.clone();
            table.put(rec);
            Ok(Written {
                outcome: Outcome::ResetLinkCreated(Box::new(ResetLinkCreated {
                    username,
                    reset_token: Secret::new(reset_token),
                    expires_at: at(expires_at),
                    link,
                    qr_svg,
                })),
                sessions: vec![],
                events: vec![
                    Event::new(AuditKind::ResetLinkCreated, Some(admin.id), target)
                        .from(&client)
                        .detail(format!("valid for {lifetime} s")),
                ],
            })
        },
    )
}

/// The account whose unspent, unexpired link `token` is, made by someone
/// who is an active admin now; else `reset_invalid`.
fn opened(app: &App, table: &UserTable, token: &Secret) -> Result<Arc<User>> {
    let now = unix_secs(app.clock.now());
    let (id, secret) = invite::split(token.expose()).ok_or(ServiceError::ResetInvalid)?;
    let id: UserId = id.parse().map_err(|_| ServiceError::ResetInvalid)?;
    let user = table.get_by_id(id).ok_or(ServiceError::ResetInvalid)?;
    let open = user.reset_link.as_ref().is_some_and(|l| {
        let maker = table.get_by_id(l.created_by);
        l.hash.matches(secret) && l.expires_at > now && maker.is_some_and(|m| m.is_active_admin())
    });
    match open {
        true => Ok(Arc::clone(user)),
        false => Err(ServiceError::ResetInvalid),
    }
}

/// reset_redeem: the new password (the policy applies), every session of
/// the account ended, and the link spent, in one commit. Two-factor login
/// stays as it was.
pub(super) fn reset_redeem(
    app: &App,
    token: Secret,
    new_password: Secret,
    caller: &Caller,
    look: Look,
) -> Result<Step> {
    take_rate(app, caller, look)?;
    let user = opened(app, &app.users(), &token)?;
    app.settings.password_policy.check(
        "password",
        new_password.expose(),
        &user.username,
        &user.email,
    )?;
    let (client, iterations) = (caller.clone(), app.settings.pbkdf2_iterations);
    Ok(Step::slow(move |_| {
        let hash = password::hash(new_password.expose(), iterations, &mut rand::rng());
        AfterHash::write(move |app, table| {
            // Spent or replaced meanwhile.
            let user = opened(app, table, &token)?;
            let mut rec = (*user).clone();
            let by = rec.reset_link.take().map(|l| l.created_by);
            rec.password = hash;
            rec.password_change_required = false;
            rec.updated_at = rfc3339(app.clock.now());
            let id = rec.id;
            table.put(rec);
            Ok(Written {
                outcome: Outcome::PasswordSet,
                sessions: vec![SessionOp::RevokeUser {
                    user: id,
                    except: None,
                }],
                events: vec![Event::new(AuditKind::ResetLinkUsed, by, id).from(&client)],
            })
        })
    }))
}
