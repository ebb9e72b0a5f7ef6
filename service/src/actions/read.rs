//! The actions answered on the socket thread: health_check, logout, get_user
//! and list_users.

use super::access::{authenticate, target, Access};
use super::outcome::{Listing, Outcome};
use crate::app::App;
use crate::error::{Result, ServiceError};
use crate::storage::list::list;
use users_protocol::{Health, ListQuery, ListView, Secret, UserList};

/// Largest page list_users returns in one reply when a limit is given.
pub const MAX_PAGE: usize = 10_000;
/// Longest list_users search text, in characters.
pub const MAX_SEARCH: usize = 200;

pub fn health(app: &App) -> Result<Outcome> {
    Ok(Outcome::Health(Health {
        service: "users-service".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        uptime_seconds: app.started.elapsed().as_secs(),
        users: app.users().len(),
        active_sessions: app.sessions.active(app.clock.now()),
    }))
}

pub fn logout(app: &App, token: &Secret) -> Result<Outcome> {
    if app.sessions.remove(token.expose()) {
        Ok(Outcome::LoggedOut)
    } else {
        Err(ServiceError::SessionInvalid)
    }
}

pub fn get_user(app: &App, token: &Secret, named: Option<&str>) -> Result<Outcome> {
    let actor = authenticate(app, token)?;
    let user = target(&app.users(), &actor, named, Access::Read)?;
    Ok(Outcome::Found(Box::new(user.view())))
}

pub fn list_users(app: &App, token: Option<&Secret>, q: &ListQuery) -> Result<Outcome> {
    let admin_view = match token {
        Some(t) => authenticate(app, t)?.role.can_read_all(),
        None => false,
    };
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
    let page = list(&app.users(), q, admin_view);
    let offset = q.offset.unwrap_or(0).min(page.total);
    Ok(Outcome::Listed(if admin_view {
        let users = page.users.iter().map(|u| u.view()).collect();
        Listing::Admin(UserList::page(users, page.total, offset, ListView::Admin))
    } else {
        let users = page.users.iter().map(|u| u.public()).collect();
        Listing::Public(UserList::page(users, page.total, offset, ListView::Public))
    }))
}
