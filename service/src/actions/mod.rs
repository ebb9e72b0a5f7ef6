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
mod login;
mod outcome;
mod read;
mod sessions;
mod step;
mod totp;
mod update;
pub use update::MAX_METADATA;

#[cfg(test)]
mod tests;

pub use crate::audit::Event;
pub use outcome::{Listing, Outcome};
pub use step::{AfterHash, SlowFn, Step, WriteFn, Written};

use crate::app::App;
use users_protocol::Request;

/// Routes a parsed request. `peer` is the client's address, for throttling;
/// `agent` the browser's user agent, when the bridge forwarded one.
pub fn handle(app: &App, req: Request, peer: Option<String>, agent: Option<String>) -> Step {
    let step = match req {
        Request::HealthCheck {} => return Step::Done(read::health(app)),
        Request::Logout { session_token } => {
            return read::logout(app, &session_token, peer.as_deref())
        }
        Request::GetUser {
            session_token,
            username,
        } => return Step::Done(read::get_user(app, &session_token, username.as_deref())),
        Request::ListUsers {
            session_token,
            query,
        } => read::list_users(app, session_token.as_ref(), query, peer.as_deref()),
        Request::CreateUser { user_data } => create::create_user(app, user_data, peer.as_deref()),
        Request::Login { credentials } => login::login(app, credentials, peer, agent),
        Request::UpdateUser {
            session_token,
            update_data,
            username,
        } => update::update_user(app, session_token, update_data, username, peer),
        Request::DeleteUser {
            session_token,
            password,
            username,
        } => delete::delete_user(app, session_token, password, username, peer),
        Request::ListSessions {
            session_token,
            username,
        } => {
            return Step::Done(sessions::list_sessions(
                app,
                &session_token,
                username.as_deref(),
            ))
        }
        Request::RevokeSession {
            session_token,
            session_id,
            all_others,
            username,
            all,
        } => sessions::revoke_session(
            app,
            session_token,
            sessions::Revocation {
                session_id,
                all_others,
                username,
                all,
            },
            peer,
        ),
        Request::SessionStatus { session_token } => {
            return Step::Done(read::session_status(app, &session_token))
        }
        Request::TotpSetup { session_token } => totp::totp_setup(app, session_token),
        Request::TotpEnable {
            session_token,
            password,
            code,
        } => totp::totp_enable(app, session_token, (password, code), peer),
        Request::TotpDisable {
            session_token,
            password,
            code,
            recovery_code,
            username,
        } => totp::totp_disable(
            app,
            session_token,
            totp::Disable {
                password,
                code,
                recovery_code,
                username,
            },
            peer,
        ),
        Request::AuditLog {
            session_token,
            query,
        } => audit_log::audit_log(app, &session_token, query),
    };
    step.unwrap_or_else(|e| Step::Done(Err(e)))
}
