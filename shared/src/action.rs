//! [`Action`]: the `action` names of requests, each written once.

use crate::wire_enum::wire_enum;

wire_enum! {
    /// The `action` of a request: one per [`crate::Request`] variant, by the same
    /// name, documented there.
    #[allow(missing_docs)]
    pub enum Action {
        CreateUser = "create_user",
        Login = "login",
        Logout = "logout",
        GetUser = "get_user",
        UpdateUser = "update_user",
        DeleteUser = "delete_user",
        ListUsers = "list_users",
        HealthCheck = "health_check",
        ListSessions = "list_sessions",
        RevokeSession = "revoke_session",
        SessionStatus = "session_status",
        TotpSetup = "totp_setup",
        TotpEnable = "totp_enable",
        TotpDisable = "totp_disable",
        AuditLog = "audit_log",
        InviteCreate = "invite_create",
        InviteList = "invite_list",
        InviteRevoke = "invite_revoke",
        InviteAccept = "invite_accept",
        InvitePasskeyBegin = "invite_passkey_begin",
        ResetLinkCreate = "reset_link_create",
        ResetRedeem = "reset_redeem",
        PasskeyRegisterBegin = "passkey_register_begin",
        PasskeyRegisterFinish = "passkey_register_finish",
        PasskeyList = "passkey_list",
        PasskeyRename = "passkey_rename",
        PasskeyDelete = "passkey_delete",
        PasskeyLoginBegin = "passkey_login_begin",
        PasskeyLoginFinish = "passkey_login_finish",
        PasskeyConfirmBegin = "passkey_confirm_begin",
        ForwardTicket = "forward_ticket",
        ForwardVerify = "forward_verify",
        ForwardLogout = "forward_logout",
    }
}
