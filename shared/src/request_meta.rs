//! What every request is, beside its members: its action, and the session
//! it is made with.

use crate::action::Action;
use crate::request::Request;
use crate::secret::Secret;

impl Request {
    /// Which action this is.
    pub fn action(&self) -> Action {
        match self {
            Request::CreateUser { .. } => Action::CreateUser,
            Request::Login { .. } => Action::Login,
            Request::Logout { .. } => Action::Logout,
            Request::GetUser { .. } => Action::GetUser,
            Request::UpdateUser { .. } => Action::UpdateUser,
            Request::DeleteUser { .. } => Action::DeleteUser,
            Request::ListUsers { .. } => Action::ListUsers,
            Request::HealthCheck {} => Action::HealthCheck,
            Request::ListSessions { .. } => Action::ListSessions,
            Request::RevokeSession { .. } => Action::RevokeSession,
            Request::SessionStatus { .. } => Action::SessionStatus,
            Request::TotpSetup { .. } => Action::TotpSetup,
            Request::TotpEnable { .. } => Action::TotpEnable,
            Request::TotpDisable { .. } => Action::TotpDisable,
            Request::AuditLog { .. } => Action::AuditLog,
            Request::InviteCreate { .. } => Action::InviteCreate,
            Request::InviteList { .. } => Action::InviteList,
            Request::InviteRevoke { .. } => Action::InviteRevoke,
            Request::InviteAccept { .. } => Action::InviteAccept,
            Request::InvitePasskeyBegin { .. } => Action::InvitePasskeyBegin,
            Request::ResetLinkCreate { .. } => Action::ResetLinkCreate,
            Request::ResetRedeem { .. } => Action::ResetRedeem,
            Request::PasskeyRegisterBegin { .. } => Action::PasskeyRegisterBegin,
            Request::PasskeyRegisterFinish { .. } => Action::PasskeyRegisterFinish,
            Request::PasskeyList { .. } => Action::PasskeyList,
            Request::PasskeyRename { .. } => Action::PasskeyRename,
            Request::PasskeyDelete { .. } => Action::PasskeyDelete,
            Request::PasskeyLoginBegin { .. } => Action::PasskeyLoginBegin,
            Request::PasskeyLoginFinish { .. } => Action::PasskeyLoginFinish,
            Request::PasskeyConfirmBegin { .. } => Action::PasskeyConfirmBegin,
            Request::ForwardTicket { .. } => Action::ForwardTicket,
            Request::ForwardVerify { .. } => Action::ForwardVerify,
            Request::ForwardLogout { .. } => Action::ForwardLogout,
        }
    }

    /// The session the request is made with, if it names one.
    pub fn session_token(&self) -> Option<&Secret> {
        match self {
            Request::Logout { session_token }
            | Request::GetUser { session_token, .. }
            | Request::UpdateUser { session_token, .. }
            | Request::DeleteUser { session_token, .. }
            | Request::ListSessions { session_token, .. }
            | Request::RevokeSession { session_token, .. }
            | Request::SessionStatus { session_token }
            | Request::TotpSetup { session_token }
            | Request::TotpEnable { session_token, .. }
            | Request::TotpDisable { session_token, .. }
            | Request::AuditLog { session_token, .. }
            | Request::InviteCreate { session_token, .. }
            | Request::InviteList { session_token }
            | Request::InviteRevoke { session_token, .. }
            | Request::ResetLinkCreate { session_token, .. }
            | Request::PasskeyRegisterBegin { session_token, .. }
            | Request::PasskeyRegisterFinish { session_token, .. }
            | Request::PasskeyList { session_token, .. }
            | Request::PasskeyRename { session_token, .. }
            | Request::PasskeyDelete { session_token, .. }
            | Request::PasskeyConfirmBegin { session_token }
            | Request::ForwardTicket { session_token } => Some(session_token),
            Request::ListUsers { session_token, .. }
            | Request::CreateUser { session_token, .. } => session_token.as_ref(),
            Request::Login { .. }
            | Request::HealthCheck {}
            | Request::InviteAccept { .. }
            | Request::InvitePasskeyBegin { .. }
            | Request::ResetRedeem { .. }
            | Request::PasskeyLoginBegin { .. }
            | Request::PasskeyLoginFinish { .. }
            | Request::ForwardVerify { .. }
            | Request::ForwardLogout { .. } => None,
        }
    }
}
