//! login: by username or email, with the throttle, equal work for every
//! failure, and hash upgrades.

use super::outcome::{Event, EventKind, Outcome};
use super::step::{AfterHash, Step, Written};
use crate::app::App;
use crate::auth::password;
use crate::auth::sessions::{new_token, SessionOp};
use crate::auth::throttle;
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
    app.throttle
        .begin(&key, peer.as_deref(), app.clock.now())
        .map_err(|retry_after| ServiceError::RateLimited { retry_after })?;
    let iterations = app.settings.pbkdf2_iterations;
    Ok(Step::hash(move |app| {
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
                app.throttle.fail(&key, peer.as_deref(), app.clock.now());
                return AfterHash::fail(ServiceError::InvalidCredentials);
            }
        };
        app.throttle.succeed(&key, peer.as_deref());
        let upgrade = (user.password.iterations < iterations)
            .then(|| password::hash(c.password.expose(), iterations, &mut rand::rng()));
        let token = new_token(&mut rand::rngs::OsRng.unwrap_err());
        AfterHash::write(move |app, table| {
            // The password or status may have changed while hashing.
            let current = table
                .get_by_id(user.id)
                .filter(|cur| cur.password == user.password && cur.status == UserStatus::Active)
                .ok_or(ServiceError::InvalidCredentials)?;
            let now = app.clock.now();
            let mut rec = (**current).clone();
            rec.last_login = Some(rfc3339(now));
            if let Some(h) = upgrade {
                rec.password = h;
            }
            let (view, id) = (rec.view(), rec.id);
            table.put(rec);
            Ok(Written {
                outcome: Outcome::LoggedIn(Box::new(LoginReply {
                    session_token: token.clone(),
                    user: view,
                    expires_at: rfc3339(app.sessions.expiry(now)),
                })),
                sessions: vec![SessionOp::Insert {
                    token,
                    user: id,
                    now,
                }],
                events: vec![Event {
                    kind: EventKind::LoggedIn,
                    actor: Some(id),
                    target: id,
                }],
            })
        })
    }))
}
