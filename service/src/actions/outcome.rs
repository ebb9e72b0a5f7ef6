//! What an action did, as values: the server's codec turns an [`Outcome`] into
//! reply bytes.

use crate::error::{Result, ServiceError};
use serde::Serialize;
use std::sync::Arc;
use users_protocol::response::Empty;
use users_protocol::{
    AuditPage, CeremonyStart, ForwardTicket, ForwardUser, Health, InviteCreated, InviteList,
    LoginReply, PasskeyList, PasskeyReply, PublicUser, RecoveryCodes, Reply, ResetLinkCreated,
    Revoked, SessionList, SessionStatus, TotpSetup, UserCreated, UserList, UserReply, UserView,
};

/// The result of a successful action.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// health_check.
    Health(Health),
    /// logout.
    LoggedOut,
    /// get_user.
    Found(Box<UserView>),
    /// list_users.
    Listed(Listing),
    /// create_user; the new username.
    Created(String),
    /// login.
    LoggedIn(Box<LoginReply>),
    /// update_user; the user as it is now.
    Updated(Box<UserView>),
    /// delete_user.
    Deleted,
    /// list_sessions.
    Sessions(SessionList),
    /// revoke_session; how many ended.
    Revoked(usize),
    /// session_status; when the session ends.
    SessionAlive(String),
    /// totp_setup.
    TotpSetup(Box<TotpSetup>),
    /// totp_enable.
    TotpEnabled(RecoveryCodes),
    /// totp_disable.
    TotpDisabled,
    /// audit_log.
    Audit(AuditPage),
    /// invite_create.
    InviteCreated(Box<InviteCreated>),
    /// invite_list.
    Invites(InviteList),
    /// invite_revoke.
    InviteRevoked,
    /// reset_link_create.
    ResetLinkCreated(Box<ResetLinkCreated>),
    /// reset_redeem.
    PasswordSet,
    /// passkey_register_begin and passkey_login_begin.
    CeremonyStarted(CeremonyStart),
    /// passkey_register_finish and passkey_rename.
    Passkey(PasskeyReply),
    /// passkey_list.
    Passkeys(PasskeyList),
    /// passkey_delete.
    PasskeyRemoved,
    /// forward_ticket.
    ForwardTicket(ForwardTicket),
    /// forward_verify.
    ForwardUser(Box<ForwardUser>),
    /// A background change, such as a login's `last_login`: no one is told.
    Recorded,
    /// A reply encoded before, such as a cached public list page.
    Prepared(Arc<Vec<u8>>),
}

/// A success reply with its payload, straight from the types.
fn success<T: Serialize>(message: &str, data: T) -> Result<Vec<u8>> {
    serde_json::to_vec(&Reply::success(message, data))
        .map_err(|e| ServiceError::Internal(format!("encoding a reply: {e}")))
}

impl Outcome {
    /// The success reply, as the original service words it.
    pub(crate) fn encode(self) -> Result<Vec<u8>> {
        match self {
            Outcome::Health(h) => success("Service is healthy", h),
            Outcome::LoggedOut => success("Logged out successfully", Empty {}),
            Outcome::Found(user) => {
                success("User retrieved successfully", UserReply { user: *user })
            }
            Outcome::Listed(Listing::Admin(l)) => success(&format!("Found {} users", l.total), l),
            Outcome::Listed(Listing::Public(l)) => success(&format!("Found {} users", l.total), l),
            Outcome::Created(username) => {
                success("User created successfully", UserCreated { username })
            }
            Outcome::LoggedIn(l) => success("Login successful", l),
            Outcome::Updated(user) => {
                success("User updated successfully", UserReply { user: *user })
            }
            Outcome::Deleted => success("User deleted successfully", Empty {}),
            Outcome::Sessions(l) => success(&format!("{} sessions", l.sessions.len()), l),
            Outcome::Revoked(revoked) => success(
                &format!("Ended {revoked} session(s)"),
                Revoked { revoked },
            ),
            Outcome::TotpSetup(t) => success(
                "Scan the QR code, then confirm with a code (totp_enable)",
                t,
            ),
            Outcome::TotpEnabled(codes) => success(
                "Two-factor login is on. Keep the recovery codes somewhere safe: they are shown once",
                codes,
            ),
            Outcome::TotpDisabled => success("Two-factor login is off", Empty {}),
            Outcome::Audit(page) => success(&format!("Found {} events", page.total), page),
            Outcome::SessionAlive(expires_at) => {
                success("Session is valid", SessionStatus { expires_at })
            }
            Outcome::InviteCreated(i) => success(
                "Invitation created. Send the token (invite_token) to the invitee: it is shown once",
                i,
            ),
            Outcome::Invites(l) => success(
                &format!("{} open invitation(s)", l.invitations.len()),
                l,
            ),
            Outcome::InviteRevoked => success("Invitation revoked", Empty {}),
            Outcome::ResetLinkCreated(r) => success(
                "Recovery link created. Give the token (reset_token) to the user: it is shown once",
                r,
            ),
            Outcome::PasswordSet => success(
                "Password set. Every session of the account has ended: log in with the new password",
                Empty {},
            ),
            Outcome::CeremonyStarted(c) => success(
                "Pass the options to the browser, then send the credential with the ceremony_id",
                c,
            ),
            Outcome::Passkey(p) => success("Passkey saved", p),
            Outcome::Passkeys(l) => success(&format!("{} passkey(s)", l.passkeys.len()), l),
            Outcome::PasskeyRemoved => success("Passkey removed", Empty {}),
            Outcome::ForwardTicket(t) => success(
                "Ticket made: set it as the users_session cookie; it works for forward authentication only",
                t,
            ),
            Outcome::ForwardUser(u) => success("Ticket is valid", u),
            Outcome::Recorded => success("Recorded", Empty {}),
            Outcome::Prepared(bytes) => Ok(bytes.to_vec()),
        }
    }
}

/// A list_users page in the view the caller may see.
#[derive(Debug)]
pub(crate) enum Listing {
    /// For admins and moderators.
    Admin(UserList<UserView>),
    /// For everyone else.
    Public(UserList<PublicUser>),
}
