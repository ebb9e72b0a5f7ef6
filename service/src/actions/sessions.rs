//! list_sessions and revoke_session: the sessions a user can see and end.

use super::access::{actor_at_write, authenticate, own_or_admins};
use super::confirm::{self, Proof};
use super::outcome::Outcome;
use super::step::{Step, Written};
use crate::app::App;
use crate::audit::Event;
use crate::auth::peer::Caller;
use crate::auth::sessions::{Session, SessionId, SessionOp};
use crate::clock::rfc3339;
use crate::error::{Result, ServiceError};
use crate::model::User;
use crate::storage::UserTable;
use std::sync::Arc;
use users_protocol::{AuditKind, Secret, SessionList, SessionView};

/// The account a sessions request is about: the caller's, or (admins) the one named.
fn whose(app: &App, actor: &Arc<User>, named: Option<&str>) -> Result<Arc<User>> {
    let refusal = "Only admins can see or end other users' sessions";
    own_or_admins(&app.users(), actor, named, refusal)
}

/// list_sessions.
pub(super) fn list_sessions(app: &App, token: &Secret, named: Option<&str>) -> Result<Outcome> {
    let actor = authenticate(app, token)?;
    let user = whose(app, &actor, named)?;
    let now = app.clock.now();
    let current = SessionId::of(token.expose());
    let view = |(id, s): (SessionId, Session)| SessionView {
        id: id.public(),
        created_at: rfc3339(s.created),
        last_used_at: rfc3339(s.last_used),
        expires_at: rfc3339(app.sessions.ends(&s)),
        client_address: s.origin.client.clone(),
        user_agent: s.origin.agent.clone(),
        current: id == current,
    };
    Ok(Outcome::Sessions(SessionList {
        username: user.username.clone(),
        sessions: app
            .sessions
            .of_user(user.id, now)
            .into_iter()
            .map(view)
            .collect(),
    }))
}

/// Which sessions revoke_session ends.
pub(super) struct Revocation {
    /// One of the caller's, by its public id.
    pub session_id: Option<String>,
    /// All of the caller's but the current one.
    pub all_others: bool,
    /// All of this user's (admins).
    pub username: Option<String>,
    /// Confirms `username`.
    pub all: bool,
    /// Every session of every user but the caller's (admins).
    pub everyone: bool,
    /// Confirms `everyone`: the caller's own password.
    pub proof: Proof,
}

/// revoke_session: the end is committed before the reply, like a logout,
/// so that on a shared store every instance refuses the sessions.
pub(super) fn revoke_session(
    app: &App,
    token: Secret,
    r: Revocation,
    caller: &Caller,
) -> Result<Step> {
    let actor = authenticate(app, &token)?;
    let chosen = [
        r.session_id.is_some(),
        r.all_others,
        r.username.is_some(),
        r.everyone,
    ];
    if chosen.iter().filter(|c| **c).count() != 1 {
        return Err(ServiceError::invalid(
            "session_id",
            "Give one of session_id, all_others: true, username with all: true, \
             or everyone: true",
        ));
    }
    if r.everyone {
        return revoke_everyone(app, token, actor, r.proof, caller);
    }
    if r.username.is_some() && !r.all {
        return Err(ServiceError::invalid(
            "all",
            "Ending another user's sessions takes all: true",
        ));
    }
    let target = whose(app, &actor, r.username.as_deref())?;
    let current = SessionId::of(token.expose());
    let mine = app.sessions.of_user(target.id, app.clock.now());
    let ids: Vec<SessionId> = match &r.session_id {
        Some(public) => {
            let found = mine.iter().find(|(id, _)| id.public() == public.trim());
            vec![found.map(|(id, _)| *id).ok_or_else(|| {
                ServiceError::invalid("session_id", "You have no session with this id")
            })?]
        }
        None if r.all_others => mine
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| *id != current)
            .collect(),
        None => mine.iter().map(|(id, _)| *id).collect(),
    };
    let (actor_id, target_id, caller) = (actor.id, target.id, caller.clone());
    Ok(Step::write(move |app, table| {
        actor_at_write(app, table, &token)?;
        let sessions: Vec<SessionOp> = ids.iter().map(|&id| SessionOp::Remove { id }).collect();
        Ok(Written {
            outcome: Outcome::Revoked(ids.len()),
            events: vec![
                Event::new(AuditKind::SessionRevoked, Some(actor_id), target_id)
                    .from(&caller)
                    .detail(format!("{} session(s)", ids.len())),
            ],
            sessions,
        })
    }))
}

/// revoke_session with `everyone`: an admin ends every session of every
/// user but their own current one (ASVS 7.4.5), confirmed with their
/// password, which counts like any confirmation.
fn revoke_everyone(
    app: &App,
    token: Secret,
    actor: Arc<User>,
    proof: Proof,
    caller: &Caller,
) -> Result<Step> {
    let refusal = "Only admins can end everyone's sessions";
    let client = caller.clone();
    let keep = SessionId::of(token.expose());
    let end = move |app: &App, _: &mut UserTable, actor: Arc<User>| {
        let (users, ended) = app.sessions.holders(app.clock.now(), keep);
        let sessions = users
            .into_iter()
            .map(|user| SessionOp::RevokeUser {
                user,
                except: (user == actor.id).then_some(keep),
            })
            .collect();
        Ok(Written {
            outcome: Outcome::Revoked(ended),
            sessions,
            events: vec![
                Event::new(AuditKind::SessionRevoked, Some(actor.id), actor.id)
                    .from(&client)
                    .detail(format!("every user's sessions: {ended} session(s)")),
            ],
        })
    };
    confirm::admin_write(app, (actor, token), proof, caller, refusal, end)
}
