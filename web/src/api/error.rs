//! [`ApiError`]: why a call failed, and what to show for it.

use users_protocol::{ErrorCode, ErrorReply, ReplyError};

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ApiError {
    /// The service refused.
    Service(ErrorReply),
    /// No connection to the bridge.
    Disconnected,
    /// No reply in time.
    Timeout,
    /// A reply that is not the protocol's.
    Malformed(String),
    /// The browser's part failed: a passkey ceremony cancelled, say. The
    /// text says what.
    Browser(String),
}

impl ApiError {
    /// The text to show.
    pub(crate) fn message(&self) -> String {
        match self {
            ApiError::Service(e) => e.message.clone(),
            ApiError::Disconnected => {
                "Not connected to the server. Reconnecting; try again in a moment.".into()
            }
            ApiError::Timeout => "The server did not answer in time. Try again.".into(),
            ApiError::Malformed(m) => format!("Unexpected reply from the server: {m}"),
            ApiError::Browser(m) => m.clone(),
        }
    }

    /// The request field at fault, if the service named one.
    pub(crate) fn field(&self) -> Option<&str> {
        match self {
            ApiError::Service(e) => e.field.as_deref(),
            _ => None,
        }
    }

    /// Whether trying again later may work: no connection, no answer, or a
    /// service that is away.
    pub(crate) fn is_transient(&self) -> bool {
        matches!(self, ApiError::Disconnected | ApiError::Timeout)
            || self.code() == Some(ErrorCode::ServiceUnavailable)
    }

    /// The service's error code.
    pub(crate) fn code(&self) -> Option<ErrorCode> {
        match self {
            ApiError::Service(e) => Some(e.code),
            _ => None,
        }
    }
}

impl From<ReplyError> for ApiError {
    fn from(e: ReplyError) -> Self {
        match e {
            ReplyError::Service(e) => ApiError::Service(e),
            ReplyError::Malformed(m) => ApiError::Malformed(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_field_and_code() {
        let e = ApiError::Service(
            ErrorReply::new(ErrorCode::UsernameTaken, "Username already exists")
                .with_field("username"),
        );
        assert_eq!(e.field(), Some("username"));
        assert_eq!(e.code(), Some(ErrorCode::UsernameTaken));
        assert!(ApiError::Disconnected.message().contains("Reconnecting"));
        assert!(ApiError::Timeout.is_transient() && !e.is_transient());
    }
}
