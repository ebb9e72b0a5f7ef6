//! Accounts made without a typed-in password from an admin: invitations
//! (invite_create, invite_list, invite_revoke, invite_accept) and recovery
//! links (reset_link_create, reset_redeem). A token is shown once, in the
//! reply that made it; the service keeps only its hash.

use crate::secret::Secret;
use crate::user::Role;
use serde::{Deserialize, Serialize};

/// The longest an invitation may stay open, in seconds (7 days).
pub const INVITE_MAX_SECS: u64 = 7 * 24 * 3600;
/// How long an invitation stays open when `expires_in` is not given (72 hours).
pub const INVITE_DEFAULT_SECS: u64 = 72 * 3600;
/// The longest a recovery link may stay valid, in seconds (24 hours).
pub const RESET_MAX_SECS: u64 = 24 * 3600;
/// How long a recovery link stays valid when `expires_in` is not given (1 hour).
pub const RESET_DEFAULT_SECS: u64 = 3600;

/// invite_create's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteCreated {
    /// Names the invitation in invite_list and invite_revoke.
    pub invite_id: String,
    /// What the invitee gives invite_accept; shown this once.
    pub invite_token: Secret,
    /// RFC 3339 time after which it no longer works.
    pub expires_at: String,
    /// `link_prefix` and the token, when the request gave a prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The link as a QR code (SVG), to scan with a phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_svg: Option<String>,
}

/// An open invitation, as invite_list shows it: never its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// Its id.
    pub invite_id: String,
    /// The role the new account gets.
    pub role: Role,
    /// The address the new account must have, when the invitation names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The admin's note, such as whom it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The admin who made it.
    pub created_by: String,
    /// RFC 3339 time it was made.
    pub created_at: String,
    /// RFC 3339 time after which it no longer works.
    pub expires_at: String,
}

/// invite_list's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteList {
    /// Open invitations, the newest first.
    pub invitations: Vec<Invitation>,
}

/// reset_link_create's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetLinkCreated {
    /// Whose password it sets.
    pub username: String,
    /// What reset_redeem takes; shown this once.
    pub reset_token: Secret,
    /// RFC 3339 time after which it no longer works.
    pub expires_at: String,
    /// `link_prefix` and the token, when the request gave a prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The link as a QR code (SVG), to scan with a phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_svg: Option<String>,
}
