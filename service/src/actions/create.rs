//! create_user: open to anyone, as in the original.

use super::access::check_unique;
use super::outcome::Outcome;
use super::step::{AfterHash, Look, Step, Written};
use crate::app::App;
use crate::audit::Event;
use crate::auth::password;
use crate::auth::peer::Caller;
use crate::clock::rfc3339;
use crate::error::Result;
use crate::model::{User, UserId};
use users_protocol::{AuditKind, NewUser};

/// A name or email taken here may have been given up on another instance a
/// moment ago: the refusal is looked at again after a catch-up
/// (`server::parked`), and counts once against the rate, at the first look.
pub(super) fn create_user(app: &App, u: NewUser, caller: &Caller, look: Look) -> Result<Step> {
    let client = caller.clone();
    if look == Look::First
        && !app
            .create_rate
            .take(caller.peer_key().as_deref(), std::time::Instant::now())
    {
        return Err(crate::error::ServiceError::TooFast { retry_after: 1 });
    }
    let username = u.username.trim().to_owned();
    let email = u.email.trim().to_owned();
    users_protocol::validate::username(&username)?;
    users_protocol::validate::email(&email)?;
    app.settings
        .password_policy
        .check("password", u.password.expose(), &username, &email)?;
    for (field, value) in u.profile.iter() {
        users_protocol::validate::profile_field(field, value)?;
    }
    check_unique(&app.users(), Some(&username), Some(&email), None)?;
    let iterations = app.settings.pbkdf2_iterations;
    Ok(Step::slow(move |_| {
        let hash = password::hash(u.password.expose(), iterations, &mut rand::rng());
        AfterHash::write(move |app, table| {
            check_unique(table, Some(&username), Some(&email), None)?;
            let id = UserId::random(&mut rand::rng());
            let now = rfc3339(app.clock.now());
            let mut user = User::new(id, username.clone(), email, hash, &now);
            user.profile.apply(&u.profile);
            table.put(user);
            Ok(Written {
                outcome: Outcome::Created(username),
                sessions: vec![],
                events: vec![Event::new(AuditKind::AccountCreated, None, id).from(&client)],
            })
        })
    }))
}
