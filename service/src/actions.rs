//! One function per protocol action, with its validation and authorization rules.
//!
//! An action runs in up to three steps, so that slow work never blocks the socket
//! loop and every change goes through the single writer:
//! 1. on the socket thread: parse, authenticate, validate, read (fast);
//! 2. on the hashing pool: PBKDF2 (slow), if the action needs it;
//! 3. on the writer: re-check against the current table, change it, journal it.

use crate::clock::rfc3339;
use crate::db::{fold, Db, SortOrder};
use crate::error::{Result, ServiceError};
use crate::password::{self, PasswordHash};
use crate::server::Service;
use crate::sessions::{SessionOp, SessionStore};
use rand::TryRngCore;
use serde::Serialize;
use std::sync::Arc;
use users_protocol::response::Empty;
use users_protocol::user::{PublicUser, UserView};
use users_protocol::{
    validate, Credentials, Health, ListQuery, LoginReply, NewUser, Reply, Request, Role, Secret,
    UserCreated, UserList, UserRecord, UserReply, UserStatus, UserUpdate,
};

/// What is left to do for a request.
pub enum Step {
    /// Reply now.
    Done(Result<Vec<u8>>),
    /// Continue on the hashing pool.
    Hash(Box<dyn FnOnce(&Service) -> Step + Send>),
    /// Continue on the writer.
    Write(WriteFn),
}

/// A change run by the writer against the current table.
pub type WriteFn = Box<dyn FnOnce(&Service, &mut Db) -> Result<Written> + Send>;

/// A change made in memory, to be acknowledged once journalled.
pub struct Written {
    /// The success reply.
    pub reply: Vec<u8>,
    /// Session changes to apply once the change is durable.
    pub sessions: Vec<SessionOp>,
}

/// A success reply, serialized: straight from the types, with no JSON tree between.
fn ok<T: Serialize>(message: &str, data: T) -> Result<Vec<u8>> {
    serde_json::to_vec(&Reply::success(message, data))
        .map_err(|e| ServiceError::Storage(format!("encoding a reply: {e}")))
}

fn write(f: impl FnOnce(&Service, &mut Db) -> Result<Written> + Send + 'static) -> Step {
    Step::Write(Box::new(f))
}

fn hash_then(f: impl FnOnce(&Service) -> Step + Send + 'static) -> Step {
    Step::Hash(Box::new(f))
}

fn os_token() -> Secret {
    SessionStore::new_token(&mut rand::rngs::OsRng.unwrap_err())
}

/// Routes a parsed request. `peer` is the client's address, for throttling.
pub fn handle(svc: &Service, req: Request, peer: Option<String>) -> Step {
    let r = match req {
        Request::HealthCheck {} => return Step::Done(health(svc)),
        Request::Logout { session_token } => return Step::Done(logout(svc, &session_token)),
        Request::GetUser {
            session_token,
            username,
        } => return Step::Done(get_user(svc, &session_token, username.as_deref())),
        Request::ListUsers {
            session_token,
            query,
        } => return Step::Done(list_users(svc, session_token.as_ref(), &query)),
        Request::CreateUser { user_data } => create_user(svc, user_data),
        Request::Login { credentials } => login(svc, credentials, peer),
        Request::UpdateUser {
            session_token,
            update_data,
            username,
        } => update_user(svc, session_token, update_data, username),
        Request::DeleteUser {
            session_token,
            password,
            username,
        } => delete_user(svc, session_token, password, username),
    };
    r.unwrap_or_else(|e| Step::Done(Err(e)))
}

/// The caller's account for a session token.
fn authenticate(svc: &Service, token: &Secret) -> Result<Arc<UserRecord>> {
    let now = svc.clock.now();
    // The session guard is dropped before the table is read: the writer takes
    // the two locks in the other order.
    let session = svc
        .lock_sessions()
        .validate(token.expose(), now)
        .ok_or(ServiceError::SessionInvalid)?;
    svc.read_db()
        .get(&session.user)
        .cloned()
        .ok_or(ServiceError::SessionInvalid)
}

#[derive(Clone, Copy, PartialEq)]
enum Access {
    Read,
    Write,
}

/// The account an action applies to: the caller's own, or the one named, if the
/// caller's role allows.
fn target(
    db: &Db,
    actor: &UserRecord,
    named: Option<&str>,
    access: Access,
) -> Result<Arc<UserRecord>> {
    let Some(name) = named.filter(|n| fold(n) != fold(&actor.username)) else {
        return db
            .get(&actor.username)
            .cloned()
            .ok_or(ServiceError::SessionInvalid);
    };
    let allowed = match access {
        Access::Read => actor.role.can_read_all(),
        Access::Write => actor.role == Role::Admin,
    };
    if !allowed {
        return Err(ServiceError::Forbidden(match access {
            Access::Read => "Only admins and moderators can read other users".into(),
            Access::Write => "Only admins can change other users".into(),
        }));
    }
    db.get(name).cloned().ok_or(ServiceError::NotFound)
}

fn health(svc: &Service) -> Result<Vec<u8>> {
    let now = svc.clock.now();
    ok(
        "Service is healthy",
        Health {
            service: "users-service".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            uptime_seconds: svc.started.elapsed().as_secs(),
            users: svc.read_db().len(),
            active_sessions: svc.lock_sessions().active(now),
        },
    )
}

fn logout(svc: &Service, token: &Secret) -> Result<Vec<u8>> {
    if svc.lock_sessions().remove(token.expose()) {
        ok("Logged out successfully", Empty {})
    } else {
        Err(ServiceError::SessionInvalid)
    }
}

fn get_user(svc: &Service, token: &Secret, named: Option<&str>) -> Result<Vec<u8>> {
    let actor = authenticate(svc, token)?;
    let user = target(&svc.read_db(), &actor, named, Access::Read)?;
    ok(
        "User retrieved successfully",
        UserReply {
            user: UserView::from(&*user),
        },
    )
}

/// Largest page list_users returns in one reply when a limit is given.
pub const MAX_PAGE: usize = 10_000;

fn list_users(svc: &Service, token: Option<&Secret>, q: &ListQuery) -> Result<Vec<u8>> {
    let admin_view = match token {
        Some(t) => authenticate(svc, t)?.role.can_read_all(),
        None => false,
    };
    let order = SortOrder::parse(q.sort.as_deref()).ok_or_else(|| {
        ServiceError::invalid(
            "sort",
            format!(
                "Unknown sort '{}'; use one of {} (prefix '-' for descending)",
                q.sort.as_deref().unwrap_or_default(),
                users_protocol::request::SORT_KEYS.join(", ")
            ),
        )
    })?;
    if q.limit.is_some_and(|l| l == 0 || l > MAX_PAGE) {
        return Err(ServiceError::invalid(
            "limit",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    if q.search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(ServiceError::invalid("search", "search is too long"));
    }
    let (page, total) = svc.read_db().list(q, admin_view, order);
    let offset = q.offset.unwrap_or(0).min(total);
    // One list type, two views of each record.
    fn reply<U: Serialize>(
        users: Vec<U>,
        total: usize,
        offset: usize,
        view: &str,
    ) -> Result<Vec<u8>> {
        let count = users.len();
        let view = view.to_owned();
        ok(
            &format!("Found {total} users"),
            UserList {
                users,
                count,
                total,
                offset,
                view,
            },
        )
    }
    if admin_view {
        reply(
            page.iter().map(|u| UserView::from(&**u)).collect(),
            total,
            offset,
            "admin",
        )
    } else {
        reply(
            page.iter().map(|u| PublicUser::from(&**u)).collect(),
            total,
            offset,
            "public",
        )
    }
}

fn check_unique(
    db: &Db,
    username: Option<&str>,
    email: Option<&str>,
    except: Option<&str>,
) -> Result<()> {
    let other = |u: &Arc<UserRecord>| except.is_none_or(|e| fold(&u.username) != fold(e));
    if username.and_then(|n| db.get(n)).is_some_and(other) {
        return Err(ServiceError::UsernameTaken);
    }
    if email.and_then(|e| db.get_by_email(e)).is_some_and(other) {
        return Err(ServiceError::EmailTaken);
    }
    Ok(())
}

fn create_user(svc: &Service, u: NewUser) -> Result<Step> {
    let username = u.username.trim().to_owned();
    let email = u.email.trim().to_owned();
    validate::username(&username)?;
    validate::email(&email)?;
    validate::password("password", u.password.expose(), svc.cfg.min_password_length)?;
    for (field, value) in u.profile_fields() {
        validate::profile_field(field, value)?;
    }
    check_unique(&svc.read_db(), Some(&username), Some(&email), None)?;
    let iterations = svc.cfg.pbkdf2_iterations;
    Ok(hash_then(move |_| {
        let hash = password::hash(u.password.expose(), iterations, &mut rand::rng());
        write(move |svc, db| {
            check_unique(db, Some(&username), Some(&email), None)?;
            let now = rfc3339(svc.clock.now());
            let mut record = UserRecord {
                username: username.clone(),
                email,
                password_hash: hash.hash,
                password_salt: hash.salt,
                password_iterations: hash.iterations,
                profile: Default::default(),
                role: Role::User,
                status: UserStatus::Active,
                created_at: now.clone(),
                updated_at: now,
                last_login: None,
                metadata: Default::default(),
            };
            for (field, value) in u.profile_fields() {
                if let Some(slot) = record.profile.field_mut(field) {
                    *slot = value.to_owned();
                }
            }
            db.put(None, record);
            Ok(Written {
                reply: ok("User created successfully", UserCreated { username })?,
                sessions: vec![],
            })
        })
    }))
}

fn stored_hash(u: &UserRecord) -> PasswordHash {
    PasswordHash {
        hash: u.password_hash.clone(),
        salt: u.password_salt.clone(),
        iterations: u.password_iterations,
    }
}

fn login(svc: &Service, c: Credentials, peer: Option<String>) -> Result<Step> {
    let identifier = c.username.trim().to_owned();
    if identifier.is_empty() || c.password.is_empty() {
        return Err(ServiceError::Invalid {
            message: "Username and password are required".into(),
            field: None,
        });
    }
    if identifier.chars().count() > validate::EMAIL_MAX
        || c.password.expose().chars().count() > validate::PASSWORD_MAX
    {
        return Err(ServiceError::InvalidCredentials);
    }
    let now = svc.clock.now();
    svc.lock_throttle()
        .check(&identifier, peer.as_deref(), now)
        .map_err(|retry_after| ServiceError::RateLimited { retry_after })?;
    let found = svc.read_db().find_login(&identifier).cloned();
    let iterations = svc.cfg.pbkdf2_iterations;
    Ok(hash_then(move |svc| {
        // Unknown user, wrong password and a disabled account take the same time
        // and get the same answer.
        let verified = match &found {
            Some(u) => password::verify(c.password.expose(), &stored_hash(u)),
            None => {
                password::verify_dummy(c.password.expose(), iterations);
                false
            }
        };
        let user = match found {
            Some(u) if verified && u.status == UserStatus::Active => u,
            _ => {
                svc.lock_throttle()
                    .fail(&identifier, peer.as_deref(), svc.clock.now());
                return Step::Done(Err(ServiceError::InvalidCredentials));
            }
        };
        svc.lock_throttle().succeed(&identifier);
        let upgrade = (user.password_iterations < iterations)
            .then(|| password::hash(c.password.expose(), iterations, &mut rand::rng()));
        let token = os_token();
        write(move |svc, db| {
            // The password or status may have changed while hashing.
            let current = db
                .get(&user.username)
                .filter(|cur| {
                    cur.password_hash == user.password_hash && cur.status == UserStatus::Active
                })
                .cloned()
                .ok_or(ServiceError::InvalidCredentials)?;
            let now = svc.clock.now();
            let mut rec = (*current).clone();
            rec.last_login = Some(rfc3339(now));
            if let Some(h) = upgrade {
                rec.password_hash = h.hash;
                rec.password_salt = h.salt;
                rec.password_iterations = h.iterations;
            }
            let view = UserView::from(&rec);
            let key = fold(&rec.username);
            db.put(Some(&current.username), rec);
            let expires_at = rfc3339(svc.lock_sessions().expiry(now));
            Ok(Written {
                reply: ok(
                    "Login successful",
                    LoginReply {
                        session_token: token.clone(),
                        user: view,
                        expires_at,
                    },
                )?,
                sessions: vec![SessionOp::Insert {
                    token,
                    user: key,
                    now,
                }],
            })
        })
    }))
}

fn update_user(
    svc: &Service,
    token: Secret,
    upd: UserUpdate,
    named: Option<String>,
) -> Result<Step> {
    let actor = authenticate(svc, &token)?;
    let target_user = target(&svc.read_db(), &actor, named.as_deref(), Access::Write)?;
    let is_self = fold(&target_user.username) == fold(&actor.username);
    let is_admin = actor.role == Role::Admin;

    if (upd.role.is_some() || upd.status.is_some()) && !is_admin {
        return Err(ServiceError::Forbidden(
            "Only admins can change role or status".into(),
        ));
    }
    let username = upd.username.as_deref().map(str::trim).map(str::to_owned);
    let email = upd.email.as_deref().map(str::trim).map(str::to_owned);
    if let Some(u) = &username {
        validate::username(u)?;
    }
    if let Some(e) = &email {
        validate::email(e)?;
    }
    for (field, value) in upd.profile_fields() {
        validate::profile_field(field, value)?;
    }
    if let Some(m) = &upd.metadata {
        if serde_json::to_string(m).map_or(0, |s| s.len()) > 4096 {
            return Err(ServiceError::invalid(
                "metadata",
                "metadata must be at most 4096 bytes of JSON",
            ));
        }
    }
    if upd.current_password.is_some() && upd.password.is_none() {
        return Err(ServiceError::invalid(
            "password",
            "current_password was given without a new password",
        ));
    }
    let changes_something = username.is_some()
        || email.is_some()
        || upd.password.is_some()
        || upd.role.is_some()
        || upd.status.is_some()
        || upd.metadata.is_some()
        || !upd.profile_fields().is_empty();
    if !changes_something {
        return Err(ServiceError::invalid(
            "update_data",
            "update_data names nothing to change",
        ));
    }
    check_unique(
        &svc.read_db(),
        username.as_deref(),
        email.as_deref(),
        Some(&target_user.username),
    )?;

    let new_password = upd.password.clone();
    let current_password = upd.current_password.clone();
    let edit = Edit {
        token,
        target: target_user.username.clone(),
        upd,
        username,
        email,
    };
    let Some(new_password) = new_password else {
        return Ok(write(move |svc, db| apply_update(svc, db, edit, None)));
    };
    validate::password(
        "password",
        new_password.expose(),
        svc.cfg.min_password_length,
    )?;
    // One's own password changes only with the current one; an admin resetting
    // another user's password needs none.
    let current = if is_self {
        Some(current_password.ok_or_else(|| {
            ServiceError::invalid(
                "current_password",
                "Current password is required to change the password",
            )
        })?)
    } else {
        None
    };
    let iterations = svc.cfg.pbkdf2_iterations;
    Ok(hash_then(move |_| {
        if let Some(cur) = &current {
            if !password::verify(cur.expose(), &stored_hash(&target_user)) {
                return Step::Done(Err(ServiceError::WrongPassword("current_password")));
            }
        }
        let hash = password::hash(new_password.expose(), iterations, &mut rand::rng());
        let verified_hash = target_user.password_hash.clone();
        write(move |svc, db| {
            if current.is_some()
                && db
                    .get(&target_user.username)
                    .is_none_or(|u| u.password_hash != verified_hash)
            {
                return Err(ServiceError::WrongPassword("current_password"));
            }
            apply_update(svc, db, edit, Some(hash))
        })
    }))
}

/// An update checked on the socket thread, to be applied by the writer.
struct Edit {
    /// The caller's session, checked again when applying.
    token: Secret,
    /// Stored username of the account to change.
    target: String,
    /// The fields to change.
    upd: UserUpdate,
    /// New username, trimmed and validated.
    username: Option<String>,
    /// New email, trimmed and validated.
    email: Option<String>,
}

fn apply_update(
    svc: &Service,
    db: &mut Db,
    edit: Edit,
    hash: Option<PasswordHash>,
) -> Result<Written> {
    let Edit {
        token,
        target,
        upd,
        username,
        email,
    } = edit;
    let (token, target_name) = (&token, target.as_str());
    let now = svc.clock.now();
    let actor_key = svc
        .lock_sessions()
        .validate(token.expose(), now)
        .ok_or(ServiceError::SessionInvalid)?
        .user;
    let current = db.get(target_name).cloned().ok_or(ServiceError::NotFound)?;
    check_unique(
        db,
        username.as_deref(),
        email.as_deref(),
        Some(&current.username),
    )?;
    let mut rec = (*current).clone();
    if let Some(u) = username {
        rec.username = u;
    }
    if let Some(e) = email {
        rec.email = e;
    }
    for (field, value) in upd.profile_fields() {
        if let Some(slot) = rec.profile.field_mut(field) {
            *slot = value.to_owned();
        }
    }
    if let Some(r) = upd.role {
        rec.role = r;
    }
    if let Some(s) = upd.status {
        rec.status = s;
    }
    if let Some(m) = upd.metadata {
        rec.metadata = m;
    }
    let was_admin = current.role == Role::Admin && current.status == UserStatus::Active;
    let still_admin = rec.role == Role::Admin && rec.status == UserStatus::Active;
    let old_key = fold(&current.username);
    if was_admin && !still_admin && db.other_active_admins(&old_key) == 0 {
        return Err(ServiceError::LastAdmin);
    }
    let password_changed = hash.is_some();
    if let Some(h) = hash {
        rec.password_hash = h.hash;
        rec.password_salt = h.salt;
        rec.password_iterations = h.iterations;
    }
    rec.updated_at = rfc3339(now);
    let new_key = fold(&rec.username);
    let disabled = rec.status != UserStatus::Active;
    let view = UserView::from(&rec);
    db.put(Some(&current.username), rec);

    let mut sessions = Vec::new();
    if new_key != old_key {
        sessions.push(SessionOp::Rename {
            from: old_key.clone(),
            to: new_key.clone(),
        });
    }
    if disabled {
        sessions.push(SessionOp::RevokeUser {
            user: new_key,
            except: None,
        });
    } else if password_changed {
        let keep = (actor_key == old_key).then(|| token.clone());
        sessions.push(SessionOp::RevokeUser {
            user: new_key,
            except: keep,
        });
    }
    Ok(Written {
        reply: ok("User updated successfully", UserReply { user: view })?,
        sessions,
    })
}

fn delete_user(
    svc: &Service,
    token: Secret,
    confirm: Secret,
    named: Option<String>,
) -> Result<Step> {
    let actor = authenticate(svc, &token)?;
    let victim = target(&svc.read_db(), &actor, named.as_deref(), Access::Write)?;
    if confirm.is_empty() {
        return Err(ServiceError::invalid(
            "password",
            "Password is required to delete an account",
        ));
    }
    Ok(hash_then(move |_| {
        // The caller confirms with their own password, also when an admin deletes
        // another account.
        if !password::verify(confirm.expose(), &stored_hash(&actor)) {
            return Step::Done(Err(ServiceError::WrongPassword("password")));
        }
        write(move |svc, db| {
            svc.lock_sessions()
                .validate(token.expose(), svc.clock.now())
                .ok_or(ServiceError::SessionInvalid)?;
            let current = db
                .get(&victim.username)
                .cloned()
                .ok_or(ServiceError::NotFound)?;
            let key = fold(&current.username);
            if current.role == Role::Admin
                && current.status == UserStatus::Active
                && db.other_active_admins(&key) == 0
            {
                return Err(ServiceError::LastAdmin);
            }
            db.remove(&current.username);
            Ok(Written {
                reply: ok("User deleted successfully", Empty {})?,
                sessions: vec![SessionOp::RevokeUser {
                    user: key,
                    except: None,
                }],
            })
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::config::Config;
    use clap::Parser;
    use std::time::Duration;

    fn get_user(svc: &Service, token: &Secret) -> Result<Vec<u8>> {
        let req = Request::GetUser {
            session_token: token.clone(),
            username: None,
        };
        match handle(svc, req, None) {
            Step::Done(r) => r,
            _ => panic!("get_user is answered on the socket thread"),
        }
    }

    #[test]
    fn sessions_expire_on_the_injected_clock() {
        let clock = Arc::new(ManualClock::at(1_000_000));
        let cfg = Config::parse_from(["users-service", "--session-lifetime", "24h"]);
        let record = crate::db::tests::record("alice", "alice@example.com");
        let db = Db::from_records([Arc::new(record)]);
        let svc = Service::new(cfg, clock.clone(), db);
        let token = os_token();
        svc.lock_sessions().apply(SessionOp::Insert {
            token: token.clone(),
            user: "alice".into(),
            now: clock.now(),
        });

        clock.advance(Duration::from_secs(24 * 3600 - 1));
        assert!(get_user(&svc, &token).is_ok());
        clock.advance(Duration::from_secs(1));
        assert!(matches!(
            get_user(&svc, &token),
            Err(ServiceError::SessionInvalid)
        ));
    }
}
