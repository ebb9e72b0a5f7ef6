//! One module per family of protocol actions, each with its validation and
//! authorization rules.
//!
//! An action runs in up to three steps, so that slow work never blocks the
//! socket loop and every change goes through the single writer:
//! 1. on the socket thread: authenticate, validate, read ([`handle`], fast);
//! 2. on the pool of slow work ([`Step::Slow`]): PBKDF2, or building a large
//!    list; it can only end in a reply or a write ([`AfterHash`]);
//! 3. on the writer: re-check against the current table, change it
//!    ([`Step::Write`]); the change is committed before its reply goes.
//!
//! Actions return what happened ([`Outcome`]), never bytes: the server's codec
//! encodes it, and a write also says which sessions change and which events
//! the audit log records ([`Written`]).

mod access;
mod audit_log;
mod confirm;
mod create;
mod delete;
mod forward;
mod invite;
mod invite_passkey;
mod login;
mod outcome;
mod passkey;
mod passkey_assert;
mod passkey_login;
mod read;
mod refusal;
mod reset;
mod sessions;
mod step;
mod totp;
mod update;
pub(crate) use update::MAX_METADATA;

#[cfg(test)]
mod tests;

pub(crate) use crate::audit::Event;
pub(crate) use outcome::Outcome;
pub(crate) use refusal::Attempt;
pub(crate) use step::{AfterHash, Look, SlowFn, Step, WriteFn, Written};

use crate::app::App;
use crate::auth::peer::Caller;
use crate::error::{Result, ServiceError};
use confirm::Proof;
use users_protocol::Request;

/// Routes a parsed request from `caller` to its family of actions; `look`
/// says whether it is the first.
pub(crate) fn handle(app: &App, req: Request, caller: &Caller, look: Look) -> Step {
    if let Err(e) = access::check_session_limits(app, &req) {
        return Step::Done(Err(e));
    }
    let step = match req {
        Request::HealthCheck {} => return Step::Done(read::health(app)),
        Request::CreateUser {
            user_data,
            session_token,
        } => create::create_user(app, user_data, session_token, caller, look),
        Request::Login { credentials } => login::login(app, credentials, caller, look),
        Request::AuditLog {
            session_token,
            query,
        } => audit_log::audit_log(app, &session_token, query),
        r @ (Request::GetUser { .. }
        | Request::ListUsers { .. }
        | Request::UpdateUser { .. }
        | Request::DeleteUser { .. }) => accounts(app, r, caller),
        r @ (Request::Logout { .. }
        | Request::SessionStatus { .. }
        | Request::ListSessions { .. }
        | Request::RevokeSession { .. }) => sessions(app, r, caller),
        r @ (Request::TotpSetup { .. }
        | Request::TotpEnable { .. }
        | Request::TotpDisable { .. }) => two_factor(app, r, caller),
        r @ (Request::InviteCreate { .. }
        | Request::InviteList { .. }
        | Request::InviteRevoke { .. }
        | Request::InviteAccept { .. }
        | Request::InvitePasskeyBegin { .. }
        | Request::ResetLinkCreate { .. }
        | Request::ResetRedeem { .. }) => onboarding(app, r, caller, look),
        r @ (Request::PasskeyRegisterBegin { .. }
        | Request::PasskeyRegisterFinish { .. }
        | Request::PasskeyList { .. }
        | Request::PasskeyRename { .. }
        | Request::PasskeyDelete { .. }
        | Request::PasskeyLoginBegin { .. }
        | Request::PasskeyLoginFinish { .. }
        | Request::PasskeyConfirmBegin { .. }) => passkeys(app, r, caller, look),
        Request::ForwardTicket { session_token } => {
            Ok(Step::Done(forward::ticket(app, &session_token, caller)))
        }
        Request::ForwardVerify { ticket, host } => {
            Ok(Step::Done(forward::verify(app, &ticket, &host, caller)))
        }
        Request::ForwardLogout { ticket } => Ok(forward::logout(app, &ticket, caller)),
    };
    step.unwrap_or_else(|e| Step::Done(Err(e)))
}

/// get_user, list_users, update_user and delete_user.
fn accounts(app: &App, req: Request, caller: &Caller) -> Result<Step> {
    match req {
        Request::GetUser {
            session_token,
            username,
        } => Ok(Step::Done(read::get_user(
            app,
            &session_token,
            username.as_deref(),
        ))),
        Request::ListUsers {
            session_token,
            query,
        } => read::list_users(app, session_token.as_ref(), query, caller),
        Request::UpdateUser {
            session_token,
            update_data,
            username,
            passkey,
        } => update::update_user(app, session_token, (update_data, passkey), username, caller),
        Request::DeleteUser {
            session_token,
            password,
            username,
            passkey,
        } => {
            let proof = Proof::of(Some(password), passkey, "password");
            delete::delete_user(app, session_token, proof, username, caller)
        }
        other => Err(misrouted(&other)),
    }
}

/// logout, session_status, list_sessions and revoke_session.
fn sessions(app: &App, req: Request, caller: &Caller) -> Result<Step> {
    match req {
        Request::Logout { session_token } => Ok(read::logout(app, &session_token, caller)),
        Request::SessionStatus { session_token } => {
            Ok(Step::Done(read::session_status(app, &session_token)))
        }
        Request::ListSessions {
            session_token,
            username,
        } => Ok(Step::Done(sessions::list_sessions(
            app,
            &session_token,
            username.as_deref(),
        ))),
        Request::RevokeSession {
            session_token,
            session_id,
            all_others,
            username,
            all,
            everyone,
            current_password,
            passkey,
        } => {
            let r = sessions::Revocation {
                session_id,
                all_others,
                username,
                all,
                everyone,
                proof: Proof::of(current_password, passkey, "current_password"),
            };
            sessions::revoke_session(app, session_token, r, caller)
        }
        other => Err(misrouted(&other)),
    }
}

/// totp_setup, totp_enable and totp_disable.
fn two_factor(app: &App, req: Request, caller: &Caller) -> Result<Step> {
    match req {
        Request::TotpSetup { session_token } => totp::totp_setup(app, session_token),
        Request::TotpEnable {
            session_token,
            password,
            passkey,
            code,
        } => {
            let proof = Proof::of(Some(password), passkey, "password");
            totp::totp_enable(app, session_token, (proof, code), caller)
        }
        Request::TotpDisable {
            session_token,
            password,
            passkey,
            code,
            recovery_code,
            username,
        } => {
            let d = totp::Disable {
                proof: Proof::of(Some(password), passkey, "password"),
                code,
                recovery_code,
                username,
            };
            totp::totp_disable(app, session_token, d, caller)
        }
        other => Err(misrouted(&other)),
    }
}

/// Passkeys: adding, listing, renaming, removing, and signing in.
fn passkeys(app: &App, req: Request, caller: &Caller, look: Look) -> Result<Step> {
    match req {
        Request::PasskeyRegisterBegin {
            session_token,
            current_password,
            passkey,
            name,
        } => {
            let proof = Proof::of(Some(current_password), passkey, "current_password");
            passkey::register_begin(app, (session_token, proof), name, caller)
        }
        Request::PasskeyRegisterFinish {
            session_token,
            ceremony_id,
            credential,
            name,
        } => passkey::register_finish(app, session_token, (ceremony_id, credential, name), caller),
        Request::PasskeyList {
            session_token,
            username,
        } => Ok(Step::Done(passkey::list(
            app,
            &session_token,
            username.as_deref(),
        ))),
        Request::PasskeyRename {
            session_token,
            passkey_id,
            name,
        } => passkey::rename(app, session_token, passkey_id, name),
        Request::PasskeyDelete {
            session_token,
            passkey_id,
            password,
            passkey,
            username,
        } => {
            let r = passkey::Removal {
                passkey_id,
                proof: Proof::of(password, passkey, "password"),
                username,
            };
            passkey::delete(app, session_token, r, caller)
        }
        Request::PasskeyLoginBegin { .. } => Ok(Step::Done(passkey_login::login_begin(app))),
        Request::PasskeyConfirmBegin { session_token } => Ok(Step::Done(
            passkey_assert::confirm_begin(app, &session_token),
        )),
        Request::PasskeyLoginFinish {
            ceremony_id,
            credential,
        } => passkey_login::login_finish(app, (ceremony_id, credential), caller, look),
        other => Err(misrouted(&other)),
    }
}

/// Invitations and recovery links.
fn onboarding(app: &App, req: Request, caller: &Caller, look: Look) -> Result<Step> {
    match req {
        Request::InviteCreate {
            session_token,
            current_password,
            passkey,
            role,
            email,
            expires_in,
            note,
            link_prefix,
        } => {
            let i = invite::NewInvite {
                proof: Proof::of(Some(current_password), passkey, "current_password"),
                role,
                email,
                expires_in,
                note,
                link_prefix,
            };
            invite::invite_create(app, session_token, i, caller)
        }
        Request::InviteList { session_token } => {
            Ok(Step::Done(invite::invite_list(app, &session_token)))
        }
        Request::InviteRevoke {
            session_token,
            invite_id,
        } => invite::invite_revoke(app, session_token, invite_id, caller),
        Request::InviteAccept {
            invite_token,
            user_data,
            passkey,
        } => invite::invite_accept(app, invite_token, (user_data, passkey), caller, look),
        Request::InvitePasskeyBegin {
            invite_token,
            user_data,
        } => invite::invite_passkey_begin(app, &invite_token, &user_data, caller, look),
        Request::ResetLinkCreate {
            session_token,
            current_password,
            passkey,
            username,
            expires_in,
            link_prefix,
        } => {
            let proof = Proof::of(Some(current_password), passkey, "current_password");
            let link = (proof, username, expires_in, link_prefix);
            reset::reset_link_create(app, session_token, link, caller)
        }
        Request::ResetRedeem {
            reset_token,
            password,
        } => reset::reset_redeem(app, reset_token, password, caller, look),
        other => Err(misrouted(&other)),
    }
}

/// A request [`handle`] sent to a family that does not have it.
fn misrouted(req: &Request) -> ServiceError {
    ServiceError::Internal(format!("{} was routed to the wrong actions", req.action()))
}
