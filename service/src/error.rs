//! The service's error type and its one mapping to the wire.

use users_protocol::validate::FieldError;
use users_protocol::{ErrorCode, ErrorReply};

/// Everything an action can fail with. [`ServiceError::to_reply`] is the only place
/// that turns one into wire text, so messages stay consistent and log-safe.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A request that is not one of the protocol's (by the codec), or whose
    /// members contradict each other or exceed a limit (by the actions); the
    /// message says what, and `field` where.
    #[error("{message}")]
    Invalid {
        /// What is wrong.
        message: String,
        /// The field at fault.
        field: Option<String>,
    },
    /// A field broke one of the shared field rules (`users_protocol::validate`)
    /// or the password policy.
    #[error("{}", .0.message)]
    Field(FieldError),
    /// A request over `--max-request-bytes`, refused by the codec unread.
    #[error("request too large")]
    TooLarge,
    /// A login failed: no such account, a wrong password, an account that
    /// is not active, a name or password longer than any account's can be,
    /// or an account whose password or status changed while it was checked.
    /// One answer for all, so none is told apart.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The caller's own password, confirming a change or a deletion, was
    /// wrong; names the field that held it.
    #[error("wrong password")]
    WrongPassword(&'static str),
    /// A login's password was right and the account has two-factor login
    /// on, but no code came with it: the client asks for one.
    #[error("totp required")]
    TotpRequired,
    /// A two-factor or recovery code was wrong or used before; names its
    /// field. On the wire it is `invalid_credentials`.
    #[error("wrong code")]
    WrongCode(&'static str),
    /// A login's password was right, but its account had too many wrong
    /// two-factor codes in a row: codes no longer sign in, only a recovery
    /// code does (`model::totp::MAX_WRONG_CODES`). On the wire it is
    /// `invalid_credentials`.
    #[error("codes locked")]
    CodesLocked,
    /// The session token is unknown, expired or revoked, or its account is
    /// gone; also list_users without a session when `--public-list off`.
    #[error("session invalid")]
    SessionInvalid,
    /// The caller's role may not do this; the message says what is refused.
    #[error("{0}")]
    Forbidden(String),
    /// The account a request names does not exist.
    #[error("user not found")]
    NotFound,
    /// A new username is already another account's, in any case.
    #[error("username taken")]
    UsernameTaken,
    /// A new email is already another account's, in any case.
    #[error("email taken")]
    EmailTaken,
    /// A change or a deletion would leave no active admin.
    #[error("last admin")]
    LastAdmin,
    /// A password guess (a login or a confirmation) came while its account
    /// or its client must wait after repeated failures.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until the next attempt is accepted.
        retry_after: u64,
    },
    /// A per-peer request rate (anonymous lists, account creation) or the
    /// audit log's rate per reader was exceeded.
    #[error("too many requests")]
    TooFast {
        /// Seconds until the next request is taken.
        retry_after: u64,
    },
    /// The hashing pool or the writer has as much waiting as it may take
    /// (`--max-slow-queue`, `--max-write-queue`, the per-peer share).
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
    /// The session's account has a password someone else chose, and the
    /// request is not one of the few it may make before it sets its own
    /// (`actions::access::check_session_limits`).
    #[error("password change required")]
    PasswordChangeRequired,
    /// The session's account has a role that `--require-two-factor` names and
    /// no two-factor login yet, and the request is not one that sets it up.
    #[error("two-factor login required")]
    TwoFactorRequired,
    /// The shared store cannot be reached (PostgreSQL is down or restarting),
    /// or this instance is out of step with the others
    /// ([`crate::follow::Follow::check_in_step`]); nothing changed, and
    /// trying again later may work.
    #[error("store unavailable: {0}")]
    StoreUnavailable(String),
    /// An invitation token that opens nothing: unknown, used, revoked,
    /// expired, or made by someone who is no longer an active admin. One
    /// answer for all.
    #[error("invite invalid")]
    InviteInvalid,
    /// A recovery link that opens nothing: unknown, used, replaced or
    /// expired. One answer for all.
    #[error("reset link invalid")]
    ResetInvalid,
    /// `--registration` does not let this caller make an account.
    #[error("registration closed")]
    RegistrationClosed,
    /// A forward-auth ticket that stands for no live session: unknown,
    /// damaged, or its session ended. One answer for all.
    #[error("ticket invalid")]
    TicketInvalid,
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
            ServiceError::WrongCode(_) | ServiceError::CodesLocked => ErrorCode::InvalidCredentials,
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
            ServiceError::PasswordChangeRequired => ErrorCode::PasswordChangeRequired,
            ServiceError::TwoFactorRequired => ErrorCode::TwoFactorRequired,
            ServiceError::StoreUnavailable(_) => ErrorCode::ServiceUnavailable,
            ServiceError::InviteInvalid => ErrorCode::InviteInvalid,
            ServiceError::ResetInvalid => ErrorCode::ResetInvalid,
            ServiceError::RegistrationClosed => ErrorCode::RegistrationClosed,
            ServiceError::TicketInvalid => ErrorCode::TicketInvalid,
        }
    }

    /// The reply the client gets. Storage details stay in the log, not on the wire.
    pub fn to_reply(&self) -> ErrorReply {
        let (message, field) = self.wording();
        let mut reply = ErrorReply::new(self.code(), message);
        reply.field = field;
        if let ServiceError::RateLimited { retry_after } | ServiceError::TooFast { retry_after } =
            self
        {
            reply.retry_after = Some(*retry_after);
        }
        reply
    }

    /// The message, and the field at fault if there is one.
    fn wording(&self) -> (String, Option<String>) {
        match self {
            ServiceError::Invalid { message, field } => (message.clone(), field.clone()),
            ServiceError::Field(f) => (f.message.clone(), Some(f.field.to_owned())),
            ServiceError::TooLarge => ("Request too large".into(), None),
            ServiceError::InvalidCredentials => ("Invalid username or password".into(), None),
            ServiceError::WrongPassword("credential") => (
                "The passkey did not confirm this: use one of this account's, just now".into(),
                Some("credential".into()),
            ),
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
            ServiceError::CodesLocked => (
                "Too many wrong codes in a row: sign in with a recovery code, or ask an admin \
                 to turn two-factor login off"
                    .into(),
                Some("recovery_code".into()),
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
            ServiceError::TwoFactorRequired => (
                "Your role signs in with two factors: set up two-factor login first \
                 (totp_setup, then totp_enable)"
                    .into(),
                None,
            ),
            ServiceError::PasswordChangeRequired => (
                "Choose a new password first: this one was set for you. Send update_user \
                 with update_data.password and update_data.current_password"
                    .into(),
                Some("password".into()),
            ),
            ServiceError::StoreUnavailable(_) => (
                "The user store is unavailable; try again in a moment. A change refused this \
                 way was not confirmed: check it before repeating it"
                    .into(),
                None,
            ),
            _ => self.onboarding_wording(),
        }
    }

    /// [`ServiceError::wording`] of the errors of invitations and recovery links.
    fn onboarding_wording(&self) -> (String, Option<String>) {
        let (message, field) = match self {
            ServiceError::InviteInvalid => (
                "This invitation does not work: it was used, revoked or has expired. Ask for \
                 a new one",
                Some("invite_token"),
            ),
            ServiceError::ResetInvalid => (
                "This recovery link does not work: it was used, replaced or has expired. Ask \
                 an admin for a new one",
                Some("reset_token"),
            ),
            ServiceError::TicketInvalid => (
                "The sign-in ticket is unknown or its session has ended: sign in again",
                Some("ticket"),
            ),
            _ => (
                "Accounts here are made by admins or by invitation only",
                None,
            ),
        };
        (message.into(), field.map(str::to_owned))
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
