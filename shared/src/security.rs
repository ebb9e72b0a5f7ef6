//! The account-security payloads: sessions one can see and end, two-factor
//! login (TOTP, RFC 6238) and its recovery codes, and the audit log.

use crate::secret::Secret;
use crate::wire_enum::wire_enum;
use serde::{Deserialize, Serialize};

/// One session, as list_sessions shows it. Never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Names the session in revoke_session.
    pub id: String,
    /// RFC 3339 time of the login.
    pub created_at: String,
    /// RFC 3339 time of its last use.
    pub last_used_at: String,
    /// RFC 3339 time at which it ends, unless ended sooner.
    pub expires_at: String,
    /// The address the login came from, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_address: Option<String>,
    /// The browser's user agent, when the login came through the bridge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The session the request was made with.
    pub current: bool,
}

/// list_sessions' payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionList {
    /// Whose sessions these are.
    pub username: String,
    /// The newest first.
    pub sessions: Vec<SessionView>,
}

/// session_status's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStatus {
    /// RFC 3339 time at which the session ends, unless it is used or ended before.
    pub expires_at: String,
}

/// revoke_session's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoked {
    /// How many sessions were ended.
    pub revoked: usize,
}

/// totp_setup's payload: a secret to confirm with totp_enable. Nothing has
/// changed yet. `Debug` leaves out the QR code, which holds the secret.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct TotpSetup {
    /// The shared secret, base32, for typing into an authenticator app.
    pub secret: Secret,
    /// The same as an `otpauth://totp/...` URI.
    pub otpauth_uri: Secret,
    /// The URI as a QR code, an SVG document.
    pub qr_svg: String,
}

impl std::fmt::Debug for TotpSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpSetup")
            .field("secret", &self.secret)
            .field("otpauth_uri", &self.otpauth_uri)
            .finish_non_exhaustive()
    }
}

/// totp_enable's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecoveryCodes {
    /// Ten single-use codes, shown this once: each logs in instead of a TOTP code.
    pub recovery_codes: Vec<Secret>,
}

wire_enum! {
    /// What an audit event records.
    pub enum AuditKind {
        /// A login succeeded.
        LoginSucceeded = "login_succeeded",
        /// A login failed; admins see why.
        LoginFailed = "login_failed",
        /// An account or address was made to wait.
        Throttled = "throttled",
        /// A session was ended by its own logout.
        Logout = "logout",
        /// Sessions were ended by revoke_session.
        SessionRevoked = "session_revoked",
        /// An account was registered.
        AccountCreated = "account_created",
        /// An account was deleted.
        AccountDeleted = "account_deleted",
        /// Fields were changed: names, and old → new for names, role and status.
        AccountUpdated = "account_updated",
        /// The password was changed by its owner.
        PasswordChanged = "password_changed",
        /// An admin set another user's password.
        PasswordReset = "password_reset",
        /// Two-factor login was turned on.
        TotpEnabled = "totp_enabled",
        /// Two-factor login was turned off.
        TotpDisabled = "totp_disabled",
        /// A recovery code was used to log in.
        RecoveryCodeUsed = "recovery_code_used",
        /// The operator restored the store from a backup (`restore`).
        StoreRestored = "store_restored",
        /// The operator gave the store a new master password (`rotate-key`).
        KeyRotated = "key_rotated",
        /// A request was refused to the caller's role, or named another
        /// account that does not exist: the action, and why, in the detail.
        AccessDenied = "access_denied",
        /// A change's confirmation was wrong: the caller's password
        /// (`current_password`, a deletion's `password`) or a two-factor code.
        ConfirmationFailed = "confirmation_failed",
        /// A request came with an unknown or ended session token (at most one
        /// a minute per client address).
        SessionRejected = "session_rejected",
        /// A request was refused by a rate limit other than the login
        /// throttle (at most one a minute per client address or account).
        RateLimited = "rate_limited",
        /// At start-up, the audit log lacked the newest event the store had
        /// sealed: it was cut short, or the store was put back. The detail
        /// says which event; `verify` names where the chain breaks.
        AuditChainBroken = "audit_chain_broken",
        /// An admin made an invitation: its id, role and expiry in the detail.
        InviteCreated = "invite_created",
        /// An admin revoked an invitation.
        InviteRevoked = "invite_revoked",
        /// An invitation was used: the new account is the target, the admin
        /// who made it the actor.
        InviteAccepted = "invite_accepted",
        /// An admin made a recovery link for an account.
        ResetLinkCreated = "reset_link_created",
        /// A recovery link set an account's password.
        ResetLinkUsed = "reset_link_used",
        /// A passkey was added to the account: its name in the detail.
        PasskeyAdded = "passkey_added",
        /// A passkey was removed from the account.
        PasskeyRemoved = "passkey_removed",
        /// Someone signed in with a passkey (`login_succeeded` is recorded too).
        PasskeyLogin = "passkey_login",
        /// A forward-auth ticket was made for a session (forward_ticket).
        TicketIssued = "ticket_issued",
        /// A ticket was first shown for a host (forward_verify): the host
        /// in the detail. Recorded once per ticket and host on each instance.
        TicketUsed = "ticket_used",
    }
}

/// One audit event, newest first in [`AuditPage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Orders events; pass the last one's as `cursor` for the next page.
    pub id: u64,
    /// RFC 3339 time.
    pub at: String,
    /// What happened.
    pub kind: AuditKind,
    /// Who did it (their username then), when someone was signed in or named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The account it happened to (its username then), or the name typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The client's address, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_address: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// Details: changed fields, old → new names, why a login failed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// audit_log's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    /// This page, newest first.
    pub events: Vec<AuditEvent>,
    /// Events on this page.
    pub count: usize,
    /// Events matching the filters, over all pages, counted up to 1,000
    /// past `offset`: a read stops there, so that it costs what its page
    /// does however long the log.
    pub total: usize,
    /// More events match than `total` counts.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub total_capped: bool,
    /// The `cursor` for the next page, if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<u64>,
}

/// audit_log's filters and paging, all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Events whose actor or target had this username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Only this kind of event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<AuditKind>,
    /// Events at or after this RFC 3339 time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Events before this RFC 3339 time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Page size (default 50, at most 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Events to skip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<usize>,
    /// Events older than this id (a previous page's `next_cursor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<u64>,
    /// Only events about the caller's own account, as anyone but staff sees
    /// them anyway: for one's own recent activity.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mine: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_part_of_the_secret() {
        let setup = TotpSetup {
            secret: Secret::from("JBSWY3DPEHPK3PXP"),
            otpauth_uri: Secret::from("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP"),
            qr_svg: "<svg>JBSWY3DPEHPK3PXP</svg>".into(),
        };
        assert!(!format!("{setup:?}").contains("JBSWY3DPEHPK3PXP"));
    }
}
