//! What a login records of who tried: the account, or for a name that is
//! no account a keyed fingerprint of it, never the name itself.

use crate::app::App;
use crate::audit::event::{unknown_name, UNKNOWN_ACCOUNT};
use crate::audit::Event;
use crate::auth::peer::Caller;
use crate::model::{User, UserId};
use users_protocol::AuditKind;

/// Who tried to log in, for the audit log.
pub(super) struct Trail {
    pub(super) account: Option<UserId>,
    /// For a name that matches no account: its fingerprint (see
    /// [`unknown_name`]).
    pub(super) unknown: Option<String>,
    pub(super) caller: Caller,
}

impl Trail {
    pub(super) fn new(app: &App, found: Option<&User>, identifier: &str, caller: &Caller) -> Self {
        let unknown = found
            .is_none()
            .then(|| unknown_name(&app.names, identifier));
        Trail {
            account: found.map(|u| u.id),
            unknown,
            caller: caller.clone(),
        }
    }

    /// What a failed login records: the account if there is one, else the
    /// fingerprint of the name.
    pub(super) fn failed(&self, kind: AuditKind, why: &str) -> Event {
        Event {
            kind,
            actor: None,
            target: self.account,
            name: self.unknown.as_ref().map(|_| UNKNOWN_ACCOUNT.to_owned()),
            client: None,
            success: false,
            detail: format!("{why}{}", self.unknown.as_deref().unwrap_or_default()),
            at: None,
        }
        .from(&self.caller)
    }
}

/// A login whose code another login took first.
pub(super) fn lost_race(id: UserId, caller: &Caller) -> Event {
    Event {
        success: false,
        detail: "two-factor or recovery code used by another login first".into(),
        ..Event::new(AuditKind::LoginFailed, None, id).from(caller)
    }
}
