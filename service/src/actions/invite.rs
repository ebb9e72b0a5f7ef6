//! invite_create, invite_list, invite_revoke and invite_accept: an admin
//! invites someone with a role, and the invitee makes their own account
//! with it, once. The invitation is kept on its admin's record
//! ([`crate::model::invite`]) and works only while that admin is an active
//! admin.

use super::access::{actor_at_write, authenticate, check_unique};
use super::confirm::{self, Proof};
use super::create::{check_new, make, take_rate};
use super::invite_passkey;
use super::outcome::Outcome;
use super::step::{AfterHash, Look, Step, Written};
use crate::app::App;
use crate::audit::Event;
use crate::auth::password;
use crate::auth::peer::Caller;
use crate::clock::{rfc3339, unix_secs};
use crate::error::{Result, ServiceError};
use crate::model::invite::{self, StoredInvite, MAX_OPEN_INVITES};
use crate::model::{NameKey, User, UserId};
use crate::settings::Registration;
use crate::storage::UserTable;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};
use users_protocol::invite::{INVITE_DEFAULT_SECS, INVITE_MAX_SECS};
use users_protocol::{
    AuditKind, Invitation, InviteCreated, InviteList, NewUser, PasskeyProof, Role, Secret,
};

/// The longest note an invitation keeps, in characters.
pub(crate) const MAX_NOTE_CHARS: usize = 200;

/// invite_create's members besides the session.
pub(super) struct NewInvite {
    pub proof: Proof,
    pub role: Role,
    pub email: Option<String>,
    pub expires_in: Option<String>,
    pub note: Option<String>,
    pub link_prefix: Option<String>,
}

/// The longest `link_prefix`, in characters.
const MAX_PREFIX_CHARS: usize = 200;

/// `link_prefix`, checked: an http(s) address, not too long.
pub(super) fn checked_prefix(prefix: Option<String>) -> Result<Option<String>> {
    let Some(p) = prefix
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
    else {
        return Ok(None);
    };
    let web = p.starts_with("https://") || p.starts_with("http://");
    if !web || p.chars().count() > MAX_PREFIX_CHARS || p.chars().any(char::is_whitespace) {
        let m =
            format!("link_prefix is an http(s) address of at most {MAX_PREFIX_CHARS} characters");
        return Err(ServiceError::invalid("link_prefix", m));
    }
    Ok(Some(p))
}

/// The link to `token` under `prefix`, and its QR code (SVG).
pub(super) fn link(prefix: Option<&str>, token: &str) -> Result<(Option<String>, Option<String>)> {
    let Some(prefix) = prefix else {
        return Ok((None, None));
    };
    let link = format!("{prefix}{token}");
    let qr = qrcode::QrCode::new(link.as_bytes())
        .map_err(|e| ServiceError::Internal(format!("making the link's QR code: {e}")))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build();
    Ok((Some(link), Some(qr)))
}

/// `expires_in` in seconds: `default` when absent, at most `max`.
pub(super) fn lifetime(given: Option<&str>, default: u64, max: u64) -> Result<u64> {
    let Some(text) = given.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(default);
    };
    let longest = humantime::format_duration(Duration::from_secs(max));
    let secs = humantime::parse_duration(text)
        .map_err(|_| {
            let m = format!("'{text}' is not a duration such as 90s, 30m or 72h");
            ServiceError::invalid("expires_in", m)
        })?
        .as_secs();
    if secs == 0 || secs > max {
        let m = format!("expires_in is at least 1s and at most {longest}");
        return Err(ServiceError::invalid("expires_in", m));
    }
    Ok(secs)
}

/// RFC 3339 time of a Unix time.
pub(super) fn at(unix: u64) -> String {
    rfc3339(UNIX_EPOCH + Duration::from_secs(unix))
}

/// An invitation's email and note, trimmed, empty ones as none: an email
/// must be valid and no account's yet, and a note short.
fn checked(
    app: &App,
    email: Option<String>,
    note: Option<String>,
) -> Result<(Option<String>, Option<String>)> {
    let given = |t: Option<String>| t.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    let (email, note) = (given(email), given(note));
    if let Some(e) = &email {
        users_protocol::validate::email(e)?;
        check_unique(&app.users(), None, Some(e), None)?;
    }
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
    {
        let m = format!("A note is at most {MAX_NOTE_CHARS} characters");
        return Err(ServiceError::invalid("note", m));
    }
    Ok((email, note))
}

/// invite_create: an invitation on the admin's own record; its token is in
/// the reply, this once.
pub(super) fn invite_create(
    app: &App,
    token: Secret,
    i: NewInvite,
    caller: &Caller,
) -> Result<Step> {
    let lifetime = lifetime(
        i.expires_in.as_deref(),
        INVITE_DEFAULT_SECS,
        INVITE_MAX_SECS,
    )?;
    let actor = authenticate(app, &token)?;
    // Before the fields: no one else learns whether an email is taken.
    if actor.role != Role::Admin {
        return Err(ServiceError::Forbidden("Only admins can invite".into()));
    }
    let (email, note) = checked(app, i.email, i.note)?;
    let prefix = checked_prefix(i.link_prefix)?;
    let (client, role) = (caller.clone(), i.role);
    let refusal = "Only admins can invite";
    confirm::admin_write(
        app,
        (actor, token),
        i.proof,
        caller,
        refusal,
        move |app, table, admin| {
            let now = app.clock.now();
            let mut rec = (*admin).clone();
            rec.invites.retain(|i| i.expires_at > unix_secs(now));
            if rec.invites.len() >= MAX_OPEN_INVITES {
                let m = format!("You have {MAX_OPEN_INVITES} open invitations: revoke some first");
                return Err(ServiceError::invalid("role", m));
            }
            let mut rng = rand::rng();
            let id = invite::new_invite_id(&mut rng);
            let (invite_token, hash) = invite::issue(&id, &mut rng);
            let (link, qr_svg) = link(prefix.as_deref(), &invite_token)?;
            let expires_at = unix_secs(now) + lifetime;
            let detail = format!("invitation {id}: role {role}, open for {lifetime} s");
            rec.invites.push(StoredInvite {
                id: id.clone(),
                hash,
                role,
                email,
                note,
                created_at: rfc3339(now),
                expires_at,
            });
            table.put(rec);
            Ok(Written {
                outcome: Outcome::InviteCreated(Box::new(InviteCreated {
                    invite_id: id,
                    invite_token: Secret::new(invite_token),
                    expires_at: at(expires_at),
                    link,
                    qr_svg,
                })),
                sessions: vec![],
                events: vec![
                    Event::new(AuditKind::InviteCreated, Some(admin.id), admin.id)
                        .from(&client)
                        .detail(detail),
                ],
            })
        },
    )
}

/// The caller, if an admin.
fn admin(app: &App, token: &Secret) -> Result<Arc<User>> {
    let actor = authenticate(app, token)?;
    match actor.role {
        Role::Admin => Ok(actor),
        _ => Err(ServiceError::Forbidden(
            "Only admins can see or revoke invitations".into(),
        )),
    }
}

/// invite_list: every open invitation, whoever made it, the newest first.
pub(super) fn invite_list(app: &App, token: &Secret) -> Result<Outcome> {
    admin(app, token)?;
    let now = unix_secs(app.clock.now());
    let users = app.users();
    let mut invitations: Vec<Invitation> = users
        .iter()
        .flat_map(|u| u.invites.iter().map(move |i| (u, i)))
        .filter(|(_, i)| i.expires_at > now)
        .map(|(u, i)| Invitation {
            invite_id: i.id.clone(),
            role: i.role,
            email: i.email.clone(),
            note: i.note.clone(),
            created_by: u.username.clone(),
            created_at: i.created_at.clone(),
            expires_at: at(i.expires_at),
        })
        .collect();
    invitations.sort_by(|a, b| b.created_at.cmp(&a.created_at));
    Ok(Outcome::Invites(InviteList { invitations }))
}

/// The record holding invitation `id`, and the invitation.
fn find<'t>(table: &'t UserTable, id: &str) -> Option<(&'t Arc<User>, &'t StoredInvite)> {
    table
        .iter()
        .find_map(|u| u.invites.iter().find(|i| i.id == id).map(|i| (u, i)))
}

/// invite_revoke: the invitation no longer works.
pub(super) fn invite_revoke(
    app: &App,
    token: Secret,
    invite_id: String,
    caller: &Caller,
) -> Result<Step> {
    admin(app, &token)?;
    let client = caller.clone();
    Ok(Step::write(move |app, table| {
        let actor = actor_at_write(app, table, &token)?;
        if actor.role != Role::Admin {
            return Err(ServiceError::Forbidden(
                "Only admins can revoke invitations".into(),
            ));
        }
        let id = invite_id.trim();
        let Some((holder, _)) = find(table, id) else {
            let m = "No open invitation has this id";
            return Err(ServiceError::invalid("invite_id", m));
        };
        let mut rec = (**holder).clone();
        rec.invites.retain(|i| i.id != id);
        let holder = rec.id;
        table.put(rec);
        Ok(Written {
            outcome: Outcome::InviteRevoked,
            sessions: vec![],
            events: vec![Event::new(AuditKind::InviteRevoked, Some(actor.id), holder)
                .from(&client)
                .detail(format!("invitation {id}"))],
        })
    }))
}

/// The invitation `token` opens, and the admin who made it, if it is open
/// and that admin is an active admin now; else `invite_invalid`.
fn opened(app: &App, table: &UserTable, token: &Secret) -> Result<(Arc<User>, StoredInvite)> {
    let now = unix_secs(app.clock.now());
    let (id, secret) = invite::split(token.expose()).ok_or(ServiceError::InviteInvalid)?;
    let (holder, found) = find(table, id).ok_or(ServiceError::InviteInvalid)?;
    let open = found.hash.matches(secret) && found.expires_at > now;
    match open && holder.is_active_admin() {
        true => Ok((Arc::clone(holder), found.clone())),
        false => Err(ServiceError::InviteInvalid),
    }
}

/// invite_passkey_begin: a passkey for the account an open invitation is
/// for, instead of a password; the account is checked as invite_accept
/// checks it, before any device makes a passkey for it.
pub(super) fn invite_passkey_begin(
    app: &App,
    token: &Secret,
    u: &NewUser,
    caller: &Caller,
    look: Look,
) -> Result<Step> {
    let (found, (username, _)) = acceptable(app, token, u, true, (caller, look))?;
    Ok(Step::Done(invite_passkey::begin(app, &username, &found.id)))
}

/// The open invitation `token` opens, and `u`'s username and email, once
/// the account is one it may make (`passkey`: with a passkey, which may
/// stand for the password): registration not closed, the client's rate,
/// the new account's fields and names, the invitation's email.
fn acceptable(
    app: &App,
    token: &Secret,
    u: &NewUser,
    passkey: bool,
    (caller, look): (&Caller, Look),
) -> Result<(StoredInvite, (String, String))> {
    if app.settings.registration == Registration::Closed {
        return Err(ServiceError::RegistrationClosed);
    }
    take_rate(app, caller, look)?;
    let (_, found) = opened(app, &app.users(), token)?;
    let names = check_new(app, u, passkey)?;
    if let Some(wanted) = &found.email {
        if NameKey::of(wanted) != NameKey::of(&names.1) {
            let m = "This invitation is for another email address";
            return Err(ServiceError::invalid("email", m));
        }
    }
    Ok((found, names))
}

/// invite_accept: the account, with the invitation's role, active at once;
/// the invitation is spent in the same commit. An invitation made on
/// another instance a moment ago is looked for again after a catch-up
/// (`server::parked`).
pub(super) fn invite_accept(
    app: &App,
    token: Secret,
    (u, passkey): (NewUser, PasskeyProof),
    caller: &Caller,
    look: Look,
) -> Result<Step> {
    let with_passkey = passkey.ceremony_id.is_some() || passkey.credential.is_some();
    let (found, names) = acceptable(app, &token, &u, with_passkey, (caller, look))?;
    let passkey = invite_passkey::checked(app, passkey, (&names.0, &found.id))?;
    let (client, iterations) = (caller.clone(), app.settings.pbkdf2_iterations);
    let id = passkey
        .as_ref()
        .map_or_else(|| UserId::random(&mut rand::rng()), |p| p.id);
    Ok(Step::slow(move |_| {
        let hash = match u.password.is_empty() {
            true => password::none(iterations, &mut rand::rng()),
            false => password::hash(u.password.expose(), iterations, &mut rand::rng()),
        };
        AfterHash::write(move |app, table| {
            // Used, revoked or expired meanwhile, or its admin demoted.
            let (holder, found) = opened(app, table, &token)?;
            let username = names.0.clone();
            let mut user = make(app, table, (id, names), hash, &u, found.role)?;
            let mut events = vec![];
            if let Some(passkey) = passkey {
                events.push(passkey.attach(table, &mut user, app.clock.now(), &client)?);
            }
            table.put(user);
            let mut rec = (*holder).clone();
            rec.invites.retain(|i| i.id != found.id);
            table.put(rec);
            let detail = format!("invitation {}: role {}", found.id, found.role);
            let made = [
                Event::new(AuditKind::AccountCreated, None, id)
                    .from(&client)
                    .detail("by invitation"),
                Event::new(AuditKind::InviteAccepted, Some(holder.id), id)
                    .from(&client)
                    .detail(detail),
            ];
            events.splice(0..0, made);
            Ok(Written {
                outcome: Outcome::Created(username),
                sessions: vec![],
                events,
            })
        })
    }))
}
