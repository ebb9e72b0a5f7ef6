//! The service's error type and its one mapping to the wire.

use users_protocol::validate::FieldError;
use users_protocol::{ErrorCode, ErrorReply};

/// Everything an action can fail with. [`ServiceError::to_reply`] is the only place
/// that turns one into wire text, so messages stay consistent and log-safe.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Malformed request; the message says what, and `field` where.
    #[error("{message}")]
    Invalid {
        /// What is wrong.
        message: String,
        /// The field at fault.
        field: Option<String>,
    },
    /// A field broke a validation rule.
    #[error("{}", .0.message)]
    Field(FieldError),
    /// The request is too large.
    #[error("request too large")]
    TooLarge,
    /// Login failed, for whatever reason.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// A confirming password was wrong; names the field that held it.
    #[error("wrong password")]
    WrongPassword(&'static str),
    /// The password was right; the account needs a second factor.
    #[error("totp required")]
    TotpRequired,
    /// A two-factor or recovery code was wrong or used before; names its field.
    #[error("wrong code")]
    WrongCode(&'static str),
    /// Session unknown, expired or revoked.
    #[error("session invalid")]
    SessionInvalid,
    /// Not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// No such user.
    #[error("user not found")]
    NotFound,
    /// Username in use.
    #[error("username taken")]
    UsernameTaken,
    /// Email in use.
    #[error("email taken")]
    EmailTaken,
    /// The change would leave no active admin.
    #[error("last admin")]
    LastAdmin,
    /// Throttled.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until the next attempt is accepted.
        retry_after: u64,
    },
    /// A per-peer request rate was exceeded.
    #[error("too many requests")]
    TooFast {
        /// Seconds until the next request is taken.
        retry_after: u64,
    },
    /// Too many requests are waiting already.
    #[error("busy")]
    Busy,
    /// A change could not be committed, so nothing changed. Raised only by
    /// the storage layer (from a [`crate::storage::StorageError`]) and by the
    /// writer; the detail goes to the log, never on the wire.
    #[error("storage: {0}")]
    Storage(String),
    /// Something that is neither storage nor the client's fault failed
    /// (encoding a reply, making a QR code, reading the audit log): nothing
    /// was being saved. The detail goes to the log, never on the wire.
    #[error("internal: {0}")]
    Internal(String),
    /// The shared store cannot be reached (PostgreSQL is down or restarting),
    /// or this instance is out of step with the others
    /// ([`crate::follow::Follow::check_in_step`]); nothing changed, and
    /// trying again later may work.
    #[error("store unavailable: {0}")]
    StoreUnavailable(String),
}

impl ServiceError {
    /// An `invalid_request` error naming the field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ServiceError::Invalid {
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            ServiceError::Invalid { .. } => ErrorCode::InvalidRequest,
            ServiceError::Field(f) => f.code,
            ServiceError::TooLarge => ErrorCode::TooLarge,
            ServiceError::InvalidCredentials => ErrorCode::InvalidCredentials,
            ServiceError::WrongPassword(_) => ErrorCode::WrongPassword,
            ServiceError::TotpRequired => ErrorCode::TotpRequired,
            ServiceError::WrongCode(_) => ErrorCode::InvalidCredentials,
            ServiceError::SessionInvalid => ErrorCode::SessionInvalid,
            ServiceError::Forbidden(_) => ErrorCode::Forbidden,
            ServiceError::NotFound => ErrorCode::NotFound,
            ServiceError::UsernameTaken => ErrorCode::UsernameTaken,
            ServiceError::EmailTaken => ErrorCode::EmailTaken,
            ServiceError::LastAdmin => ErrorCode::LastAdmin,
            ServiceError::RateLimited { .. }
            | ServiceError::TooFast { .. }
            | ServiceError::Busy => ErrorCode::RateLimited,
            ServiceError::Storage(_) | ServiceError::Internal(_) => ErrorCode::Internal,
            ServiceError::StoreUnavailable(_) => ErrorCode::ServiceUnavailable,
        }
    }

    /// The reply the client gets. Storage details stay in the log, not on the wire.
    pub fn to_reply(&self) -> ErrorReply {
        let (message, field): (String, Option<String>) = match self {
            ServiceError::Invalid { message, field } => (message.clone(), field.clone()),
            ServiceError::Field(f) => (f.message.clone(), Some(f.field.to_owned())),
            ServiceError::TooLarge => ("Request too large".into(), None),
            ServiceError::InvalidCredentials => ("Invalid username or password".into(), None),
            ServiceError::WrongPassword(field) => {
                ("Password is incorrect".into(), Some((*field).into()))
            }
            ServiceError::TotpRequired => (
                "Enter the code from your authenticator app, or a recovery code".into(),
                Some("totp_code".into()),
            ),
            ServiceError::WrongCode(field) => (
                "The code is wrong or was used already".into(),
                Some((*field).into()),
            ),
            ServiceError::SessionInvalid => (
                "Invalid or expired session; please log in again".into(),
                None,
            ),
            ServiceError::Forbidden(m) => (m.clone(), None),
            ServiceError::NotFound => ("User not found".into(), Some("username".into())),
            ServiceError::UsernameTaken => {
                ("Username already exists".into(), Some("username".into()))
            }
            ServiceError::EmailTaken => ("Email already registered".into(), Some("email".into())),
            ServiceError::LastAdmin => (
                "This would leave no active admin; promote another admin first".into(),
                None,
            ),
            ServiceError::RateLimited { retry_after } => (
                format!("Too many failed attempts; try again in {retry_after} s"),
                None,
            ),
            ServiceError::TooFast { retry_after } => (
                format!("Too many requests; try again in {retry_after} s"),
                None,
            ),
            ServiceError::Busy => ("The service is busy; try again in a moment".into(), None),
            ServiceError::Storage(_) => ("Internal error: the change was not saved".into(), None),
            ServiceError::Internal(_) => ("Internal error".into(), None),
            ServiceError::StoreUnavailable(_) => (
                "The user store is unavailable; try again in a moment. A change refused this \
                 way was not confirmed: check it before repeating it"
                    .into(),
                None,
            ),
        };
        let mut reply = ErrorReply::new(self.code(), message);
        reply.field = field;
        if let ServiceError::RateLimited { retry_after } | ServiceError::TooFast { retry_after } =
            self
        {
            reply.retry_after = Some(*retry_after);
        }
        reply
    }
}

impl From<FieldError> for ServiceError {
    fn from(f: FieldError) -> Self {
        ServiceError::Field(f)
    }
}

/// Shorthand for action results.
pub(crate) type Result<T, E = ServiceError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_details_stay_off_the_wire() {
        let r = ServiceError::Storage("/secret/path: disk full".into()).to_reply();
        assert_eq!(r.code, ErrorCode::Internal);
        assert!(!r.message.contains("/secret/path"));
        let r = ServiceError::Internal("making the QR code: /secret".into()).to_reply();
        assert_eq!(r.code, ErrorCode::Internal);
        assert!(!r.message.contains("/secret"));
        assert!(!r.message.contains("not saved"), "nothing was being saved");
    }

    #[test]
    fn rate_limited_carries_retry_after() {
        let r = ServiceError::RateLimited { retry_after: 8 }.to_reply();
        assert_eq!(r.retry_after, Some(8));
        assert_eq!(r.code, ErrorCode::RateLimited);
    }
}
