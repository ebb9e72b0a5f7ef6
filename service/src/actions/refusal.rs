//! What a refused request leaves in the audit log (ASVS 16.3.1 to 16.3.3),
//! whichever step refused it: an action refused to the caller's role, or on
//! another account that does not exist (`access_denied`); a wrong password
//! or code confirming a change (`confirmation_failed`); an unknown or ended
//! session token (`session_rejected`); and a refusal by a rate limit other
//! than the login throttle, which records its own (`rate_limited`).
//!
//! Only confirmations cost hashing, and the throttle bounds them; the
//! others cost a client nothing, so one event a minute per client address
//! or account (and, for `access_denied`, per action) stands for all of a
//! kind, as for throttled logins ([`crate::audit::AuditQueue`]).

use crate::app::App;
use crate::audit::event::{unknown_name, UNKNOWN_ACCOUNT};
use crate::audit::Event;
use crate::auth::peer::Caller;
use crate::error::ServiceError;
use crate::model::UserId;
use users_protocol::{Action, AuditKind, Request, Secret};

/// A request as the audit log needs it should it be refused. Whose session
/// it came with is looked up only then: a refused request ended no session,
/// and a request that succeeds costs no lookup.
#[derive(Debug, Default)]
pub(crate) struct Attempt {
    /// None for a request that could not be read.
    action: Option<Action>,
    /// The session token it came with.
    token: Option<Secret>,
    /// The account the request names, if it names one.
    named: Option<String>,
    caller: Caller,
}

impl Attempt {
    /// `req` from `caller`, before it is handled.
    pub(crate) fn of(req: &Request, caller: &Caller) -> Attempt {
        let named = match req {
            Request::GetUser { username, .. }
            | Request::UpdateUser { username, .. }
            | Request::DeleteUser { username, .. }
            | Request::ListSessions { username, .. }
            | Request::RevokeSession { username, .. } => username.clone(),
            Request::ResetLinkCreate { username, .. } => Some(username.clone()),
            Request::PasskeyList { username, .. } | Request::PasskeyDelete { username, .. } => {
                username.clone()
            }
            _ => None,
        };
        Attempt {
            action: Some(req.action()),
            token: req.session_token().cloned(),
            named,
            caller: caller.clone(),
        }
    }

    /// The request's action; `None` for one that could not be read.
    pub(crate) fn action(&self) -> Option<Action> {
        self.action
    }

    /// Records the refusal `e`, if it is one the audit log keeps.
    pub(crate) fn refused(&self, app: &App, e: &ServiceError) {
        let Some(action) = self.action else {
            return;
        };
        let now = app.clock.now();
        let who = self
            .token
            .as_ref()
            .and_then(|t| app.sessions.peek(t.expose(), now))
            .map(|s| s.user);
        let peer = format!("peer:{}", self.caller.peer_key().unwrap_or_default());
        let actor = who.map(|id| format!("account:{id}"));
        match e {
            ServiceError::Forbidden(why) => {
                let key = format!("denied:{}:{action}", actor.unwrap_or(peer));
                let event = self.denied(app, who, action, why);
                app.audit.push_throttled(&[&key], event, now);
            }
            ServiceError::NotFound if who.is_some() => {
                let key = format!("denied:{}:{action}", actor.unwrap_or(peer));
                let event = self.denied(app, who, action, "no such account");
                app.audit.push_throttled(&[&key], event, now);
            }
            ServiceError::WrongPassword(field) | ServiceError::WrongCode(field)
                if action != Action::Login =>
            {
                let detail = format!("{action}: wrong {field}");
                app.audit
                    .push(self.event(who, AuditKind::ConfirmationFailed, detail), now);
            }
            ServiceError::SessionInvalid => {
                let detail = format!("{action}: unknown or ended session");
                let event = self.event(who, AuditKind::SessionRejected, detail);
                app.audit
                    .push_throttled(&[&format!("session:{peer}")], event, now);
            }
            ServiceError::RateLimited { .. } | ServiceError::TooFast { .. }
                if action != Action::Login =>
            {
                let detail = format!("{action}: refused by a rate limit");
                let event = self.event(who, AuditKind::RateLimited, detail);
                let mut keys = vec![format!("rate:{peer}")];
                keys.extend(actor.map(|a| format!("rate:{a}")));
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                app.audit.push_throttled(&keys, event, now);
            }
            _ => {}
        }
    }

    /// A failed event of `kind` by the session's account, to itself.
    fn event(&self, who: Option<UserId>, kind: AuditKind, detail: String) -> Event {
        Event {
            kind,
            actor: who,
            target: who,
            name: None,
            client: None,
            success: false,
            detail,
            at: None,
        }
        .from(&self.caller)
    }

    /// `access_denied`: the account named, or for a name that is no account
    /// a keyed fingerprint of it (it may be anything typed).
    fn denied(&self, app: &App, who: Option<UserId>, action: Action, why: &str) -> Event {
        let found = self
            .named
            .as_deref()
            .and_then(|n| app.users().get(n.trim()).map(|u| u.id));
        let unknown = match (&self.named, found) {
            (Some(name), None) => unknown_name(&app.names, name.trim()),
            _ => String::new(),
        };
        Event {
            target: found.or(self.named.is_none().then_some(who).flatten()),
            name: (!unknown.is_empty()).then(|| UNKNOWN_ACCOUNT.to_owned()),
            ..self.event(
                who,
                AuditKind::AccessDenied,
                format!("{action}: {why}{unknown}"),
            )
        }
    }
}
