//! Forward authentication: forward_ticket, forward_verify, forward_logout.
//! A ticket stands for a session (`auth::ticket`), and answers only here:
//! a reverse proxy's bridge asks who it is for each request, so a
//! verification is a lookup, with no hashing.

use super::access::authenticate;
use super::outcome::Outcome;
use super::step::{Step, Written};
use crate::app::App;
use crate::audit::Event;
use crate::auth::peer::Caller;
use crate::auth::sessions::{Session, SessionId, SessionOp};
use crate::auth::ticket::Ticket;
use crate::clock::rfc3339;
use crate::error::{Result, ServiceError};
use users_protocol::forward::MAX_HOST;
use users_protocol::{AuditKind, ForwardTicket, ForwardUser, ProfileField, Secret, UserStatus};

/// forward_ticket: a new ticket for the caller's session.
pub(super) fn ticket(app: &App, token: &Secret, caller: &Caller) -> Result<Outcome> {
    let me = authenticate(app, token)?;
    let now = app.clock.now();
    let session = app
        .sessions
        .peek(token.expose(), now)
        .ok_or(ServiceError::SessionInvalid)?;
    let sealed = Ticket::new(SessionId::of(token.expose()))
        .seal(&app.names)
        .ok_or_else(|| ServiceError::Internal("sealing a forward-auth ticket".into()))?;
    app.audit.push(
        Event::new(AuditKind::TicketIssued, Some(me.id), me.id).from(caller),
        now,
    );
    let ends = app.sessions.ends(&session);
    Ok(Outcome::ForwardTicket(ForwardTicket {
        ticket: Secret::new(sealed),
        expires_at: rfc3339(ends),
        expires_in: ends.duration_since(now).unwrap_or_default().as_secs(),
    }))
}

/// forward_verify: who the ticket's session is, if it is live and its
/// account active. Not a use of the session: the idle timeout counts from
/// the last use in the UI or the protocol.
pub(super) fn verify(app: &App, ticket: &Secret, host: &str, caller: &Caller) -> Result<Outcome> {
    check_host(host)?;
    let (t, session) = open(app, ticket)?;
    let users = app.users();
    let user = users
        .get_by_id(session.user)
        .filter(|u| u.status == UserStatus::Active)
        .ok_or(ServiceError::TicketInvalid)?;
    if app.tickets_seen.first(&t, host) {
        app.audit.push(
            Event::new(AuditKind::TicketUsed, Some(user.id), user.id)
                .from(caller)
                .detail(format!("host {host}")),
            app.clock.now(),
        );
    }
    let full_name = user.profile.get(ProfileField::FullName);
    Ok(Outcome::ForwardUser(Box::new(ForwardUser {
        username: user.username.clone(),
        email: user.email.clone(),
        full_name: (!full_name.is_empty()).then(|| full_name.to_owned()),
        role: user.role,
        expires_at: rfc3339(app.sessions.ends(&session)),
    })))
}

/// forward_logout: ends the ticket's session, as logout would. On a store
/// shared by several instances the end is committed, so that every
/// instance refuses it.
pub(super) fn logout(app: &App, ticket: &Secret, caller: &Caller) -> Step {
    let (t, session) = match open(app, ticket) {
        Ok(found) => found,
        Err(e) => return Step::Done(Err(e)),
    };
    let ended = Event::new(AuditKind::Logout, Some(session.user), session.user).from(caller);
    let id = t.session;
    if !app.follow.enabled() {
        app.sessions.apply(SessionOp::Remove { id });
        app.audit.push(ended, app.clock.now());
        return Step::Done(Ok(Outcome::LoggedOut));
    }
    Step::write(move |_, _| {
        Ok(Written {
            outcome: Outcome::LoggedOut,
            sessions: vec![SessionOp::Remove { id }],
            events: vec![ended],
        })
    })
}

/// The ticket `sealed` is, with its live session.
fn open(app: &App, sealed: &Secret) -> Result<(Ticket, Session)> {
    // A session ended on another instance may not have reached this one.
    app.follow.check_in_step()?;
    let t = Ticket::open(&app.names, sealed.expose()).ok_or(ServiceError::TicketInvalid)?;
    let session = app
        .sessions
        .peek_id(t.session, app.clock.now())
        .ok_or(ServiceError::TicketInvalid)?;
    Ok((t, session))
}

/// A host as a proxy names it: a DNS name or an address, with a port or not.
fn check_host(host: &str) -> Result<()> {
    let ok = !host.is_empty()
        && host.len() <= MAX_HOST
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "host",
            format!("host: a host name of at most {MAX_HOST} characters"),
        ))
    }
}
