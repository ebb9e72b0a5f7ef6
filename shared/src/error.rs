//! Stable error codes, the `code` field of every error reply.

use crate::wire_enum::wire_enum;

wire_enum! {
    /// Machine-readable error code. The names are part of the protocol and never
    /// change; clients match on them, never on the message text.
    pub enum ErrorCode {
        /// The request is malformed: not JSON, unknown action, missing or invalid field.
        InvalidRequest = "invalid_request",
        /// The request is larger than the service accepts.
        TooLarge = "too_large",
        /// Login failed. Deliberately the same for an unknown user, a wrong password and
        /// an account that may not log in.
        InvalidCredentials = "invalid_credentials",
        /// A password given to confirm an operation is wrong.
        WrongPassword = "wrong_password",
        /// The session token is unknown, expired or revoked: log in again.
        SessionInvalid = "session_invalid",
        /// The session is valid but may not do this.
        Forbidden = "forbidden",
        /// The named user does not exist (admin operations).
        NotFound = "not_found",
        /// Another account already has this username.
        UsernameTaken = "username_taken",
        /// Another account already has this email.
        EmailTaken = "email_taken",
        /// The new password breaks the password policy; the message says which rule.
        WeakPassword = "weak_password",
        /// The password was right, and the account has two-factor login on:
        /// send it again with `totp_code` or `recovery_code`.
        TotpRequired = "totp_required",
        /// The change would leave no active admin.
        LastAdmin = "last_admin",
        /// Too many failed logins or requests; retry later.
        RateLimited = "rate_limited",
        /// The bridge cannot reach the service.
        ServiceUnavailable = "service_unavailable",
        /// Something failed inside the service; nothing was changed.
        Internal = "internal",
        /// The account's password was chosen by someone else (the first
        /// admin's default, `reset-admin`, an admin's reset): until the
        /// account sets its own with update_user, a session may only read
        /// its own record, change its password, check itself and log out.
        PasswordChangeRequired = "password_change_required",
        /// The account's role must sign in with two factors
        /// (`--require-two-factor`) and it has none yet: until it sets one
        /// up (totp_setup, then totp_enable), a session may only do that,
        /// read its own record, check itself and log out.
        TwoFactorRequired = "two_factor_required",
        /// The invitation token is unknown, used, revoked or expired, or the
        /// admin who made it no longer is one.
        InviteInvalid = "invite_invalid",
        /// The recovery link is unknown, used, replaced or expired.
        ResetInvalid = "reset_invalid",
        /// Accounts are not open to everyone here (`--registration invite`
        /// or `closed`): create_user needs an admin's session, or (under
        /// `invite`) an invitation through invite_accept.
        RegistrationClosed = "registration_closed",
        /// The forward-auth ticket is unknown or damaged, or its session
        /// has ended: sign in again.
        TicketInvalid = "ticket_invalid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_as_str() {
        for &code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
