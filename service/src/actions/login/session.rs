//! The last step of a login: the session opened, and what the login changes
//! on the account, against the account as it is by then ([`still_valid`]).

use super::trail::lost_race;
use crate::actions::outcome::Outcome;
use crate::actions::step::{AfterHash, Written};
use crate::actions::totp::Second;
use crate::app::App;
use crate::audit::Event;
use crate::auth::peer::Caller;
use crate::auth::sessions::{new_token, Origin, SessionId, SessionOp};
use crate::auth::throttle;
use crate::clock::{rfc3339, unix_secs};
use crate::error::{Result, ServiceError};
use crate::model::{PasswordHash, User, UserId};
use crate::storage::UserTable;
use rand::TryRngCore;
use std::sync::Arc;
use std::time::SystemTime;
use users_protocol::{AuditKind, LoginReply, Secret, UserStatus, UserView};

/// Both factors were right: what is left is to open the session.
pub(super) struct Authenticated {
    pub(super) user: Arc<User>,
    pub(super) record: Record,
    /// The password was set for the account (the first admin's default,
    /// a reset): the session may do little until it sets its own.
    pub(super) change_required: bool,
    pub(super) caller: Caller,
}

impl Authenticated {
    pub(super) fn open_session(self, app: &App) -> AfterHash {
        let now = self.record.now;
        let token = new_token(&mut rand::rngs::OsRng.unwrap_err());
        let expires = app.sessions.expiry(now);
        let session = SessionOp::Insert {
            id: SessionId::of(token.expose()),
            user: self.user.id,
            expires,
            created: Some(now),
            last_used: Some(now),
            origin: Origin {
                client: self.caller.address(),
                agent: self.caller.agent.clone(),
            },
        };
        let ticket = Ticket {
            token,
            expires,
            password_change_required: self.change_required,
        };
        let id = self.user.id;
        let mut events =
            vec![Event::new(AuditKind::LoginSucceeded, Some(id), id).from(&self.caller)];
        if matches!(self.record.second, Some(Second::Recovery(_))) {
            events.push(Event::new(AuditKind::RecoveryCodeUsed, Some(id), id).from(&self.caller));
        }
        // A second factor is taken by the writer before the reply, as on a
        // store shared by several instances; so is the mark that the default
        // password must change, before the session can ask for anything.
        if app.follow.enabled() || self.user.has_totp() || self.record.mark_change_required {
            return self.open_through_writer(session, ticket, events);
        }
        self.open_here(app, session, ticket, events)
    }

    /// The session is committed with `last_login`, and the reply waits for
    /// it: on a shared store, every instance knows the token the client is
    /// given.
    fn open_through_writer(
        self,
        session: SessionOp,
        ticket: Ticket,
        events: Vec<Event>,
    ) -> AfterHash {
        let (record, caller) = (self.record, self.caller);
        AfterHash::write(move |app, table| {
            let view = record.apply(table).inspect_err(|e| {
                // The code was counted right on the pool; it lost a race.
                if matches!(e, ServiceError::WrongCode(_)) {
                    let now = app.clock.now();
                    app.throttle
                        .observe(&throttle::account_key(record.id), true, now);
                    app.audit.push(lost_race(record.id, &caller), now);
                }
            })?;
            Ok(Written {
                outcome: ticket.reply(view),
                sessions: vec![session],
                events,
            })
        })
    }

    /// The session starts under the table's read lock: a suspension or a
    /// password change applied before this point is seen here, and one
    /// applied after it revokes this session too. `last_login` and a hash
    /// upgrade are recorded in the background: a login never waits for the
    /// disk, nor fails with it.
    fn open_here(
        self,
        app: &App,
        session: SessionOp,
        ticket: Ticket,
        events: Vec<Event>,
    ) -> AfterHash {
        let view = {
            let table = app.users();
            let Some(current) = still_valid(&table, self.record.id, &self.record.checked) else {
                return AfterHash::fail(ServiceError::InvalidCredentials);
            };
            // Turned on since the account was read: the code is to come.
            if current.has_totp() {
                return AfterHash::fail(ServiceError::TotpRequired);
            }
            app.sessions.apply(session);
            let mut view = current.view();
            view.last_login = Some(rfc3339(self.record.now));
            view
        };
        let record = self.record;
        AfterHash::done_then(ticket.reply(view), move |_, table| {
            let _ = record.apply(table);
            Ok(Written {
                outcome: Outcome::Recorded,
                sessions: vec![],
                events,
            })
        })
    }
}

/// A session for an account that signed in without its password: with a
/// passkey, which counts as both factors. It is opened on the writer, where
/// `take` makes the sign-in's own changes to the account as it is then, and
/// may refuse it; an account that is not active is refused as a wrong
/// credential is. The reply is login's.
pub(crate) fn open_without_password(
    app: &App,
    id: UserId,
    caller: Caller,
    events: Vec<Event>,
    take: impl FnOnce(&mut User) -> Result<()> + Send + 'static,
) -> AfterHash {
    let now = app.clock.now();
    let token = new_token(&mut rand::rngs::OsRng.unwrap_err());
    let expires = app.sessions.expiry(now);
    AfterHash::write(move |_, table| {
        let current = table
            .get_by_id(id)
            .filter(|u| u.status == UserStatus::Active)
            .ok_or(ServiceError::InvalidCredentials)?;
        let mut rec = (**current).clone();
        take(&mut rec)?;
        rec.last_login = Some(rfc3339(now));
        let ticket = Ticket {
            token,
            expires,
            password_change_required: rec.password_change_required,
        };
        let view = rec.view();
        table.put(rec);
        let session = SessionOp::Insert {
            id: SessionId::of(ticket.token.expose()),
            user: id,
            expires,
            created: Some(now),
            last_used: Some(now),
            origin: Origin {
                client: caller.address(),
                agent: caller.agent.clone(),
            },
        };
        let mut all = vec![Event::new(AuditKind::LoginSucceeded, Some(id), id).from(&caller)];
        all.extend(events);
        Ok(Written {
            outcome: ticket.reply(view),
            sessions: vec![session],
            events: all,
        })
    })
}

/// What a login changes on the account: `last_login`, the second factor
/// used up, and a hash upgrade if the password was checked at a lower count.
pub(super) struct Record {
    pub(super) id: UserId,
    /// The stored hash the password was checked against.
    pub(super) checked: PasswordHash,
    pub(super) second: Option<Second>,
    pub(super) upgrade: Option<PasswordHash>,
    /// Logged in with the default password on an account not yet marked.
    pub(super) mark_change_required: bool,
    pub(super) now: SystemTime,
}

impl Record {
    /// Made on the table as the writer has it. The second factor is taken
    /// here: a code or a recovery code logs in once, however many logins
    /// race with it, and two-factor login turned on meanwhile is not skipped.
    fn apply(&self, table: &mut UserTable) -> Result<UserView> {
        let current =
            still_valid(table, self.id, &self.checked).ok_or(ServiceError::InvalidCredentials)?;
        let mut rec = (**current).clone();
        match &self.second {
            Some(second) if !second.take(&mut rec, unix_secs(self.now)) => {
                return Err(ServiceError::WrongCode(second.field()));
            }
            None if rec.has_totp() => return Err(ServiceError::TotpRequired),
            _ => {}
        }
        rec.last_login = Some(rfc3339(self.now));
        rec.password_change_required |= self.mark_change_required;
        if let Some(h) = &self.upgrade {
            rec.password = h.clone();
        }
        let view = rec.view();
        table.put(rec);
        Ok(view)
    }
}

/// The account as the table has it now, if it still has the password that
/// was checked and is still active: a password change or a suspension since
/// the check wins over the login.
fn still_valid<'t>(
    table: &'t UserTable,
    id: UserId,
    checked: &PasswordHash,
) -> Option<&'t Arc<User>> {
    table
        .get_by_id(id)
        .filter(|cur| cur.password == *checked && cur.status == UserStatus::Active)
}

/// The reply's parts known before the account's view is.
struct Ticket {
    token: Secret,
    expires: SystemTime,
    password_change_required: bool,
}

impl Ticket {
    fn reply(self, user: UserView) -> Outcome {
        Outcome::LoggedIn(Box::new(LoginReply {
            session_token: self.token,
            user,
            expires_at: rfc3339(self.expires),
            password_change_required: self.password_change_required,
        }))
    }
}
