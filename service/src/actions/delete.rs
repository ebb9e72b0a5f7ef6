//! delete_user: one's own account, or (admins) another's, always confirmed by
//! the caller's own password or passkey.

use super::access::{authenticate, may_write, target, Access};
use super::confirm::{self, Proof};
use super::outcome::Outcome;
use super::step::{Step, Written};
use crate::app::App;
use crate::audit::Event;
use crate::auth::peer::Caller;
use crate::auth::sessions::SessionOp;
use crate::error::{Result, ServiceError};
use users_protocol::{AuditKind, Secret};

pub(super) fn delete_user(
    app: &App,
    token: Secret,
    proof: Proof,
    named: Option<String>,
    caller: &Caller,
) -> Result<Step> {
    let actor = authenticate(app, &token)?;
    let victim = target(&app.users(), &actor, named.as_deref(), Access::Write)?;
    // The caller confirms as themselves, also when an admin deletes
    // another account.
    let client = caller.clone();
    confirm::confirmed_write(
        app,
        (actor, token),
        proof,
        caller,
        move |_, table, actor| {
            let current = table
                .get_by_id(victim.id)
                .cloned()
                .ok_or(ServiceError::NotFound)?;
            may_write(&actor, current.id, false)?;
            if current.is_active_admin() && table.other_active_admins(current.id) == 0 {
                return Err(ServiceError::LastAdmin);
            }
            table.remove(current.id);
            Ok(Written {
                outcome: Outcome::Deleted,
                sessions: vec![SessionOp::RevokeUser {
                    user: current.id,
                    except: None,
                }],
                events: vec![Event {
                    name: Some(current.username.clone()),
                    ..Event::new(AuditKind::AccountDeleted, Some(actor.id), current.id)
                        .from(&client)
                }],
            })
        },
    )
}
