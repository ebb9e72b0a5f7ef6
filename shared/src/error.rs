//! Stable error codes, the `code` field of every error reply.

use serde::{Deserialize, Serialize};

/// Machine-readable error code. The snake_case names are part of the protocol and
/// never change; clients match on them, never on the message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed: not JSON, unknown action, missing or invalid field.
    InvalidRequest,
    /// The request is larger than the service accepts.
    TooLarge,
    /// Login failed. Deliberately the same for an unknown user, a wrong password and
    /// an account that may not log in.
    InvalidCredentials,
    /// A password given to confirm an operation is wrong.
    WrongPassword,
    /// The session token is unknown, expired or revoked: log in again.
    SessionInvalid,
    /// The session is valid but may not do this.
    Forbidden,
    /// The named user does not exist (admin operations).
    NotFound,
    /// Another account already has this username.
    UsernameTaken,
    /// Another account already has this email.
    EmailTaken,
    /// The new password does not meet the length rules.
    WeakPassword,
    /// The change would leave no active admin.
    LastAdmin,
    /// Too many failed logins or requests; retry later.
    RateLimited,
    /// The bridge cannot reach the service.
    ServiceUnavailable,
    /// Something failed inside the service; nothing was changed.
    Internal,
}

impl ErrorCode {
    /// The wire name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::WrongPassword => "wrong_password",
            ErrorCode::SessionInvalid => "session_invalid",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::UsernameTaken => "username_taken",
            ErrorCode::EmailTaken => "email_taken",
            ErrorCode::WeakPassword => "weak_password",
            ErrorCode::LastAdmin => "last_admin",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::ServiceUnavailable => "service_unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    /// Every code, for documentation and exhaustive tests.
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::InvalidRequest,
        ErrorCode::TooLarge,
        ErrorCode::InvalidCredentials,
        ErrorCode::WrongPassword,
        ErrorCode::SessionInvalid,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::UsernameTaken,
        ErrorCode::EmailTaken,
        ErrorCode::WeakPassword,
        ErrorCode::LastAdmin,
        ErrorCode::RateLimited,
        ErrorCode::ServiceUnavailable,
        ErrorCode::Internal,
    ];
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_as_str() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
