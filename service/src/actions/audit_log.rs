//! audit_log: the audit log, newest first. Admins and moderators read all of
//! it (only admins see why a login failed); anyone else their own account's
//! events, for the "recent sign-in activity" they are shown. Read on the
//! pool of slow work, newest first, through the store's index: a read
//! decrypts what its page needs, not the whole log.

use super::access::authenticate;
use super::outcome::Outcome;
use super::step::{AfterHash, Step};
use crate::app::App;
use crate::audit::select::{plan, Reader};
use crate::error::{Result, ServiceError};
use users_protocol::{AuditQuery, Role, Secret};

pub(super) fn audit_log(app: &App, token: &Secret, q: AuditQuery) -> Result<Step> {
    let actor = authenticate(app, token)?;
    // Each read decrypts up to a thousand events on the pool that also hashes passwords.
    if !app
        .audit_rate
        .take(Some(&actor.id.to_string()), std::time::Instant::now())
    {
        return Err(ServiceError::TooFast { retry_after: 1 });
    }
    let reader = match actor.role {
        _ if q.mine => Reader::Owner(actor.id),
        Role::Admin => Reader::Admin,
        Role::Moderator => Reader::Moderator,
        Role::User => Reader::Owner(actor.id),
    };
    let named = q
        .username
        .as_deref()
        .and_then(|n| app.users().get(n.trim()).map(|u| u.id));
    let source = app
        .audit_reader
        .clone()
        .ok_or_else(|| ServiceError::Internal("the audit log is not open".into()))?;
    let plan = plan(&q, reader, named).map_err(|(field, why)| ServiceError::invalid(field, why))?;
    Ok(Step::slow(move |_| {
        let page = plan.run(source.as_ref()).map_err(ServiceError::Internal);
        AfterHash::Done(page.map(Outcome::Audit))
    }))
}
