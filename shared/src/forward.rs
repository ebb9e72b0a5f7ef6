//! Forward authentication: other web apps behind a reverse proxy use these
//! accounts. After sign-in, the bridge asks for a ticket bound to the
//! session (forward_ticket) and sets it as the [`TICKET_COOKIE`] cookie;
//! the proxy asks the bridge about each request, and the bridge asks the
//! service who the ticket's session is (forward_verify). A ticket is not a
//! session token: it works only for these two, and ends with its session.

use crate::secret::Secret;
use crate::user::Role;
use serde::{Deserialize, Serialize};

/// The cookie that carries a ticket.
pub const TICKET_COOKIE: &str = "users_session";

/// The longest host name forward_verify takes (a DNS name's limit).
pub const MAX_HOST: usize = 253;

/// forward_ticket's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardTicket {
    /// The ticket, for the cookie; shown this once.
    pub ticket: Secret,
    /// RFC 3339 time at which its session ends at the latest.
    pub expires_at: String,
    /// Seconds until then: the cookie's `Max-Age`.
    pub expires_in: u64,
}

/// forward_verify's payload: who the ticket's session is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardUser {
    /// The account's username.
    pub username: String,
    /// Its email.
    pub email: String,
    /// Its profile's full name, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// Its role.
    pub role: Role,
    /// RFC 3339 time at which the session ends at the latest.
    pub expires_at: String,
}
