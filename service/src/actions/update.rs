//! update_user: one's own record, or (admins) anyone's. Checked on the socket
//! thread, hashed on the pool when the password changes, applied by the writer
//! against the table as it is then.

use super::access::{actor_at_write, authenticate, check_unique, may_write, target, Access};
use super::confirm::{self, Proof};
use super::outcome::Outcome;
use super::step::{AfterHash, Step, Written};
use crate::app::App;
use crate::audit::Event;
use crate::auth::peer::Caller;
use crate::auth::sessions::{SessionId, SessionOp};
use crate::auth::{password, policy};
use crate::clock::rfc3339;
use crate::error::{Result, ServiceError};
use crate::model::{PasswordHash, User, UserId};
use crate::storage::UserTable;
use std::sync::Arc;
use users_protocol::{validate, AuditKind, PasskeyProof, Secret, UserStatus, UserUpdate};

/// Largest metadata object, as JSON bytes.
pub(crate) const MAX_METADATA: usize = 4096;

pub(super) fn update_user(
    app: &App,
    token: Secret,
    (upd, passkey): (UserUpdate, PasskeyProof),
    named: Option<String>,
    caller: &Caller,
) -> Result<Step> {
    let actor = authenticate(app, &token)?;
    let target_user = target(&app.users(), &actor, named.as_deref(), Access::Write)?;
    let is_self = target_user.id == actor.id;
    may_write(
        &actor,
        target_user.id,
        upd.role.is_some() || upd.status.is_some(),
    )?;
    let mut edit = Edit::check(token, target_user.id, upd)?;
    edit.client = caller.clone();
    check_unique(
        &app.users(),
        edit.username.as_deref(),
        edit.email.as_deref(),
        Some(target_user.id),
    )?;
    // A password, a role or a status changes only with the caller's own
    // password or passkey: one's own, or the admin's when it is another's
    // account. A stolen session alone cannot take an account over, nor
    // suspend the other admins.
    let confirming =
        edit.upd.password.is_some() || edit.upd.role.is_some() || edit.upd.status.is_some();
    if !confirming {
        return Ok(Step::write(move |app, table| edit.apply(app, table, None)));
    }
    let proof = Proof::of(
        edit.upd.current_password.clone(),
        passkey,
        "current_password",
    );
    let new_password = edit.upd.password.clone();
    if let Some(new) = &new_password {
        let username = edit.username.as_deref().unwrap_or(&target_user.username);
        let email = edit.email.as_deref().unwrap_or(&target_user.email);
        app.settings
            .password_policy
            .check("password", new.expose(), username, email)?;
        if is_self && proof.password().is_some_and(|p| new.expose() == p.expose()) {
            return Err(same_password().into());
        }
    }
    let iterations = app.settings.pbkdf2_iterations;
    // Confirmed with a passkey, the current password is not known here.
    let by_hash = !is_self || proof.password().is_none();
    let confirmation = confirm::begin(app, &actor, caller, &edit.token, proof)?;
    Ok(Step::slow(move |app| {
        let confirmed = match confirmation.check(app) {
            Ok(confirmed) => confirmed,
            Err(refused) => return refused,
        };
        let hash = match &new_password {
            Some(new) => {
                if by_hash && password::verify(new.expose(), &target_user.password) {
                    return AfterHash::fail(same_password().into());
                }
                Some(password::hash(new.expose(), iterations, &mut rand::rng()))
            }
            None => None,
        };
        AfterHash::write(move |app, table| {
            confirmed.actor_at_write(app, table, &edit.token)?;
            edit.apply(app, table, hash)
        })
    }))
}

fn same_password() -> users_protocol::validate::FieldError {
    policy::weak(
        "password",
        "The new password must differ from the current one",
    )
}

/// An update checked on the socket thread, to be applied by the writer.
struct Edit {
    /// The caller's session, checked again when applying.
    token: Secret,
    /// The account to change.
    target: UserId,
    /// The fields to change.
    upd: UserUpdate,
    /// New username, trimmed and validated.
    username: Option<String>,
    /// New email, trimmed and validated.
    email: Option<String>,
    /// Who asked, for the audit log.
    client: Caller,
}

impl Edit {
    /// Validates every field of `upd`.
    fn check(token: Secret, target: UserId, upd: UserUpdate) -> Result<Edit> {
        let username = upd.username.as_deref().map(str::trim).map(str::to_owned);
        let email = upd.email.as_deref().map(str::trim).map(str::to_owned);
        if let Some(u) = &username {
            validate::username(u)?;
        }
        if let Some(e) = &email {
            validate::email(e)?;
        }
        for (field, value) in upd.profile.iter() {
            validate::profile_field(field, value)?;
        }
        if let Some(m) = &upd.metadata {
            if serde_json::to_string(m).map_or(0, |s| s.len()) > MAX_METADATA {
                return Err(ServiceError::invalid(
                    "metadata",
                    format!("metadata must be at most {MAX_METADATA} bytes of JSON"),
                ));
            }
        }
        if upd.password_change_required.is_some() && upd.password.is_none() {
            return Err(ServiceError::invalid(
                "password_change_required",
                "password_change_required goes with a new password",
            ));
        }
        if upd.current_password.is_some()
            && upd.password.is_none()
            && upd.role.is_none()
            && upd.status.is_none()
        {
            return Err(ServiceError::invalid(
                "password",
                "current_password was given without a new password, role or status",
            ));
        }
        let edit = Edit {
            token,
            target,
            upd,
            username,
            email,
            client: Caller::default(),
        };
        if edit.upd.changed_fields().is_empty() {
            return Err(ServiceError::invalid(
                "update_data",
                "update_data names nothing to change",
            ));
        }
        Ok(edit)
    }

    /// Applies the edit to the table as it is now.
    fn apply(
        self,
        app: &App,
        table: &mut UserTable,
        hash: Option<PasswordHash>,
    ) -> Result<Written> {
        let (actor, current) = self.recheck(app, table)?;
        let changes = self.changes(&current);
        let fields = self.upd.changed_fields();
        let password_changed = hash.is_some();
        let mut rec = self.edited(&current, hash, actor == current.id);
        if current.is_active_admin()
            && !rec.is_active_admin()
            && table.other_active_admins(current.id) == 0
        {
            return Err(ServiceError::LastAdmin);
        }
        rec.updated_at = rfc3339(app.clock.now());
        let (id, view) = (rec.id, rec.view());
        let disabled = rec.status != UserStatus::Active;
        table.put(rec);
        let sessions = match (disabled, password_changed) {
            (true, _) => vec![SessionOp::RevokeUser {
                user: id,
                except: None,
            }],
            // One's own password changed: this session goes on, the others end.
            (false, true) => vec![SessionOp::RevokeUser {
                user: id,
                except: (actor == id).then(|| SessionId::of(self.token.expose())),
            }],
            (false, false) => vec![],
        };
        let mut events = Vec::new();
        let others: Vec<&str> = fields.into_iter().filter(|f| *f != "password").collect();
        if !others.is_empty() {
            let mut detail = format!("fields: {}", others.join(", "));
            for c in changes {
                detail.push_str("; ");
                detail.push_str(&c);
            }
            events.push(
                Event::new(AuditKind::AccountUpdated, Some(actor), id)
                    .from(&self.client)
                    .detail(detail),
            );
        }
        if password_changed {
            let kind = match actor == id {
                true => AuditKind::PasswordChanged,
                false => AuditKind::PasswordReset,
            };
            events.push(Event::new(kind, Some(actor), id).from(&self.client));
        }
        Ok(Written {
            outcome: Outcome::Updated(Box::new(view)),
            sessions,
            events,
        })
    }

    /// The caller and the account as they are now, checked again as on the
    /// socket thread: the caller may still make this change, and the new
    /// names are free.
    fn recheck(&self, app: &App, table: &UserTable) -> Result<(UserId, Arc<User>)> {
        let actor = actor_at_write(app, table, &self.token)?;
        let current = table
            .get_by_id(self.target)
            .cloned()
            .ok_or(ServiceError::NotFound)?;
        let role_or_status = self.upd.role.is_some() || self.upd.status.is_some();
        may_write(&actor, current.id, role_or_status)?;
        check_unique(
            table,
            self.username.as_deref(),
            self.email.as_deref(),
            Some(current.id),
        )?;
        Ok((actor.id, current))
    }

    /// What the audit log says changed, as `what: old → new`, for the
    /// fields whose old value may be shown.
    fn changes(&self, current: &User) -> Vec<String> {
        let role = self.upd.role.map(|r| r.as_str());
        let status = self.upd.status.map(|s| s.as_str());
        [
            (
                "username",
                current.username.as_str(),
                self.username.as_deref(),
            ),
            ("email", current.email.as_str(), self.email.as_deref()),
            ("role", current.role.as_str(), role),
            ("status", current.status.as_str(), status),
        ]
        .into_iter()
        .filter_map(|(what, old, new)| {
            new.filter(|new| *new != old)
                .map(|new| format!("{what}: {old} → {new}"))
        })
        .collect()
    }

    /// `current` with the edit made, and the new password hash if any. A
    /// password one sets oneself is one's own; one an admin sets must be
    /// changed at the next login, unless the admin says otherwise.
    fn edited(&self, current: &User, hash: Option<PasswordHash>, by_self: bool) -> User {
        let mut rec = current.clone();
        if let Some(u) = &self.username {
            rec.username = u.clone();
        }
        if let Some(e) = &self.email {
            rec.email = e.clone();
        }
        rec.profile.apply(&self.upd.profile);
        if let Some(r) = self.upd.role {
            rec.role = r;
        }
        if let Some(s) = self.upd.status {
            rec.status = s;
        }
        // An admin who stops being one takes their invitations along, for
        // good: promoted again, they do not come back.
        if !rec.is_active_admin() {
            rec.invites.clear();
        }
        if let Some(m) = &self.upd.metadata {
            rec.metadata = m.clone();
        }
        if let Some(h) = hash {
            rec.password = h;
            // A recovery link made before is for the old password.
            rec.reset_link = None;
            rec.password_change_required =
                !by_self && self.upd.password_change_required.unwrap_or(true);
        }
        rec
    }
}
