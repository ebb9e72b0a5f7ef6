//! The actions answered on the socket thread: health_check, logout, get_user
//! and list_users.

use super::access::{authenticate, target, Access};
use super::outcome::{Listing, Outcome};
use super::step::{AfterHash, Step, Written};
use crate::app::App;
use crate::audit::Event;
use crate::auth::peer::Caller;
use crate::auth::sessions::{SessionId, SessionOp};
use crate::clock::rfc3339;
use crate::error::{Result, ServiceError};
use crate::storage::list::list;
use std::sync::Arc;
use std::time::Instant;
use users_protocol::{AuditKind, Health, ListQuery, ListView, Secret, UserList};

/// Largest page list_users returns in one reply when a limit is given.
pub(super) const MAX_PAGE: usize = 10_000;
/// Longest list_users search text, in characters.
pub(super) const MAX_SEARCH: usize = 200;

/// health_check. An instance out of step with the others of a shared store
/// says so, so that a bridge's probe counts it down.
pub(super) fn health(app: &App) -> Result<Outcome> {
    app.follow.check_in_step()?;
    Ok(Outcome::Health(Health {
        service: "users-service".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        uptime_seconds: app.started.elapsed().as_secs(),
        users: app.users().len(),
        active_sessions: app.sessions.active(app.clock.now()),
    }))
}

/// logout. On a store shared by several instances the end of the session
/// is committed, so that every instance refuses it; otherwise it is only
/// forgotten here.
pub(super) fn logout(app: &App, token: &Secret, caller: &Caller) -> Step {
    let Some(session) = app.sessions.validate(token.expose(), app.clock.now()) else {
        return Step::Done(Err(ServiceError::SessionInvalid));
    };
    let ended = Event::new(AuditKind::Logout, Some(session.user), session.user).from(caller);
    if !app.follow.enabled() {
        // Of two logouts racing, one ends the session and the other is told
        // it was not valid. Nothing to commit: the event goes with the next batch.
        if !app.sessions.remove(token.expose()) {
            return Step::Done(Err(ServiceError::SessionInvalid));
        }
        app.audit.push(ended, app.clock.now());
        return Step::Done(Ok(Outcome::LoggedOut));
    }
    let id = SessionId::of(token.expose());
    Step::write(move |_, _| {
        Ok(Written {
            outcome: Outcome::LoggedOut,
            sessions: vec![SessionOp::Remove { id }],
            events: vec![ended],
        })
    })
}

/// session_status: whether the session is valid, without touching it, so
/// that a page checking it does not keep it from its idle timeout.
pub(super) fn session_status(app: &App, token: &Secret) -> Result<Outcome> {
    app.follow.check_in_step()?;
    let session = app
        .sessions
        .peek(token.expose(), app.clock.now())
        .ok_or(ServiceError::SessionInvalid)?;
    Ok(Outcome::SessionAlive(rfc3339(app.sessions.ends(&session))))
}

pub(super) fn get_user(app: &App, token: &Secret, named: Option<&str>) -> Result<Outcome> {
    let actor = authenticate(app, token)?;
    let user = target(&app.users(), &actor, named, Access::Read)?;
    Ok(Outcome::Found(Box::new(user.view_for(&actor))))
}

/// list_users. The public view is the same for everyone who may see it, so
/// its encoded pages are kept until the table changes; anonymous callers are
/// rate-limited per peer. Building a page walks the whole table, so it runs on
/// the pool, not on the socket thread.
pub(super) fn list_users(
    app: &App,
    token: Option<&Secret>,
    q: ListQuery,
    caller: &Caller,
) -> Result<Step> {
    let reader = token.map(|t| authenticate(app, t)).transpose()?;
    let admin_view = match &reader {
        Some(r) => r.role.can_read_all(),
        None if !app.settings.public_list => return Err(ServiceError::SessionInvalid),
        None => {
            if !app
                .public_list_rate
                .take(caller.peer_key().as_deref(), Instant::now())
            {
                return Err(ServiceError::TooFast { retry_after: 1 });
            }
            false
        }
    };
    if let Some(field) = q.hidden_field().filter(|_| !admin_view) {
        return Err(ServiceError::invalid(
            field,
            format!(
                "Ordering or filtering by {} takes an admin's or moderator's session; \
                 without one, sort by username, full_name or role",
                match field {
                    "sort" => q.sort.map(|s| s.key.as_str()).unwrap_or_default(),
                    other => other,
                }
            ),
        ));
    }
    if q.limit.is_some_and(|l| l == 0 || l > MAX_PAGE) {
        return Err(ServiceError::invalid(
            "limit",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    if q.search
        .as_ref()
        .is_some_and(|s| s.chars().count() > MAX_SEARCH)
    {
        return Err(ServiceError::invalid("search", "search is too long"));
    }
    if let Some(reader) = reader.filter(|_| admin_view) {
        return Ok(Step::slow(move |app| {
            let page = list(&app.users(), &q, true);
            let offset = q.offset.unwrap_or(0).min(page.total);
            let users = page.users.iter().map(|u| u.view_for(&reader)).collect();
            let list = UserList::page(users, page.total, offset, ListView::Admin);
            AfterHash::Done(Ok(Outcome::Listed(Listing::Admin(list))))
        }));
    }
    // Serde writes the members in one fixed order: the same query, the same key.
    let key = serde_json::to_string(&q).unwrap_or_default();
    let generation = app.users().generation();
    if let Some(page) = app.public_pages.get(&key, generation) {
        return Ok(Step::Done(Ok(Outcome::Prepared(page))));
    }
    Ok(Step::slow(move |app| {
        let (generation, listing) = {
            let table = app.users();
            let page = list(&table, &q, false);
            let offset = q.offset.unwrap_or(0).min(page.total);
            let users = page.users.iter().map(|u| u.public()).collect();
            let list = UserList::page(users, page.total, offset, ListView::Public);
            (table.generation(), Listing::Public(list))
        };
        match Outcome::Listed(listing).encode() {
            Ok(bytes) => {
                let page = Arc::new(bytes);
                app.public_pages.put(key, generation, Arc::clone(&page));
                AfterHash::Done(Ok(Outcome::Prepared(page)))
            }
            Err(e) => AfterHash::fail(e),
        }
    }))
}
