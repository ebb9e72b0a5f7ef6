//! login: by username or email, with the throttle, equal work for every
//! failure, and hash upgrades.

use super::outcome::{Event, EventKind, Outcome};
use super::step::{AfterHash, Step, Written};
use crate::app::App;
use crate::auth::password;
use crate::auth::sessions::{new_token, SessionOp};
use crate::auth::throttle::{self, Attempt};
use crate::clock::rfc3339;
use crate::error::{Result, ServiceError};
use rand::TryRngCore;
use users_protocol::{validate, Credentials, LoginReply, UserStatus};

pub fn login(app: &App, c: Credentials, peer: Option<String>) -> Result<Step> {
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
    let found = app.users().find_login(&identifier).cloned();
    // One account, one bucket, whichever of its names was typed.
    let key = match &found {
        Some(u) => throttle::account_key(u.id),
        None => throttle::name_key(&identifier),
    };
    let attempt = Attempt::begin(&app.throttle, key, peer, app.clock.now())
        .map_err(|retry_after| ServiceError::RateLimited { retry_after })?;
    let iterations = app.settings.pbkdf2_iterations;
    Ok(Step::slow(move |app| {
        // Unknown user, wrong password and a disabled account take the same time
        // and get the same answer.
        let verified = match &found {
            Some(u) => password::verify_at_least(c.password.expose(), &u.password, iterations).0,
            None => {
                password::verify_dummy(c.password.expose(), iterations);
                false
            }
        };
        let user = match found {
            Some(u) if verified && u.status == UserStatus::Active => u,
            _ => {
                attempt.fail(app.clock.now());
                return AfterHash::fail(ServiceError::InvalidCredentials);
            }
        };
        attempt.succeed(app.clock.now());
        let upgrade = (user.password.iterations < iterations)
            .then(|| password::hash(c.password.expose(), iterations, &mut rand::rng()));
        let token = new_token(&mut rand::rngs::OsRng.unwrap_err());
        let now = app.clock.now();
        // The session starts under the table's read lock: a suspension or a
        // password change applied before this point is seen here, and one
        // applied after it revokes this session too.
        let view = {
            let table = app.users();
            let Some(current) = table
                .get_by_id(user.id)
                .filter(|cur| cur.password == user.password && cur.status == UserStatus::Active)
            else {
                return AfterHash::fail(ServiceError::InvalidCredentials);
            };
            app.sessions.apply(SessionOp::Insert {
                token: token.clone(),
                user: user.id,
                now,
            });
            let mut view = current.view();
            view.last_login = Some(rfc3339(now));
            view
        };
        let reply = Outcome::LoggedIn(Box::new(LoginReply {
            session_token: token,
            user: view,
            expires_at: rfc3339(app.sessions.expiry(now)),
        }));
        // last_login and a hash upgrade are recorded in the background: a
        // login never waits for the disk, nor fails with it.
        let verified = user.password.clone();
        AfterHash::done_then(reply, move |_, table| {
            let Some(current) = table.get_by_id(user.id) else {
                return Ok(recorded(vec![]));
            };
            let mut rec = (**current).clone();
            rec.last_login = Some(rfc3339(now));
            if let Some(h) = upgrade.filter(|_| rec.password == verified) {
                rec.password = h;
            }
            let id = rec.id;
            table.put(rec);
            Ok(recorded(vec![Event {
                kind: EventKind::LoggedIn,
                actor: Some(id),
                target: id,
            }]))
        })
    }))
}

fn recorded(events: Vec<Event>) -> Written {
    Written {
        outcome: Outcome::Recorded,
        sessions: vec![],
        events,
    }
}
