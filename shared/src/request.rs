//! Requests: one JSON object each, tagged by `action`.

pub use crate::action::Action;
pub use crate::data::{Credentials, NewUser, UserUpdate};
use crate::passkey::PasskeyProof;
pub use crate::query::{ListQuery, Sort, SortKey};
use crate::secret::Secret;
use crate::security::AuditQuery;
use crate::user::Role;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A request with its optional `request_id`, which the reply echoes unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestEnvelope {
    /// Any JSON value chosen by the client, echoed in the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Value>,
    /// The request itself.
    #[serde(flatten)]
    pub request: Request,
}

/// Every action of the protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Request {
    /// Register an account. Reply: [`crate::UserCreated`].
    CreateUser {
        /// The new account.
        user_data: NewUser,
        /// An admin's session: needed where registration is not open to
        /// everyone (`--registration invite` or `closed`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_token: Option<Secret>,
    },
    /// Log in by username or email. Reply: [`crate::LoginReply`].
    Login {
        /// Who and the password.
        credentials: Credentials,
    },
    /// End the session. Reply: status and message only.
    Logout {
        /// The session to end.
        session_token: Secret,
    },
    /// Read one's own record, or (admins and moderators) another's. Reply: [`crate::UserReply`].
    GetUser {
        /// The caller's session.
        session_token: Secret,
        /// Another user to read; admins and moderators only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
    },
    /// Change one's own record, or (admins) another's. Reply: [`crate::UserReply`].
    UpdateUser {
        /// The caller's session.
        session_token: Secret,
        /// The fields to change.
        update_data: UserUpdate,
        /// Another user to change; admins only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
        /// Or, in place of `current_password`, a passkey sign-in made just before.
        #[serde(flatten)]
        passkey: PasskeyProof,
    },
    /// Delete one's own account, or (admins) another's. Reply: status and message only.
    DeleteUser {
        /// The caller's session.
        session_token: Secret,
        /// The caller's own password, confirming the deletion.
        #[serde(default, alias = "confirm_password", alias = "current_password")]
        password: Secret,
        /// Or, in place of the password, a passkey sign-in made just before.
        #[serde(flatten)]
        passkey: PasskeyProof,
        /// Another user to delete; admins only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
    },
    /// List users: the public view for anyone, the admin view for admins and
    /// moderators. Reply: [`crate::UserList`].
    ListUsers {
        /// Optional session; an admin's or moderator's gets the admin view.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_token: Option<Secret>,
        /// Paging, search, filters and order.
        #[serde(flatten)]
        query: ListQuery,
    },
    /// Service status. Reply: [`crate::Health`].
    HealthCheck {},
    /// One's own sessions, or (admins) another's. Reply: [`crate::SessionList`].
    ListSessions {
        /// The caller's session.
        session_token: Secret,
        /// Another user; admins only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
    },
    /// Ends sessions: one of one's own by `session_id`, or all but the
    /// current one with `all_others`; an admin ends all of another user's
    /// with `username` and `all`. Reply: [`crate::Revoked`].
    RevokeSession {
        /// The caller's session.
        session_token: Secret,
        /// The session to end, as list_sessions names it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_id: Option<String>,
        /// End every session of the caller's but this one.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        all_others: bool,
        /// Another user, whose sessions an admin ends (with `all`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
        /// With `username`: end every one of that user's sessions.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        all: bool,
        /// Admins: end every session of every user but the caller's current
        /// one, confirmed with `current_password`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        everyone: bool,
        /// The caller's own password, confirming `everyone`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        current_password: Option<Secret>,
        /// Or, in place of the password, a passkey sign-in made just before.
        #[serde(flatten)]
        passkey: PasskeyProof,
    },
    /// Whether a session is still valid, without counting as a use of it:
    /// a page can check for a session ended elsewhere without keeping it
    /// from its idle timeout. Reply: [`crate::SessionStatus`], or
    /// `session_invalid`.
    SessionStatus {
        /// The session to check.
        session_token: Secret,
    },
    /// A new TOTP secret for the caller, not yet in use. Reply: [`crate::TotpSetup`].
    TotpSetup {
        /// The caller's session.
        session_token: Secret,
    },
    /// Turns two-factor login on with a code from the secret of totp_setup,
    /// and ends the account's other sessions. Reply: [`crate::RecoveryCodes`].
    TotpEnable {
        /// The caller's session.
        session_token: Secret,
        /// The caller's password: a session alone cannot lock its owner out.
        #[serde(default)]
        password: Secret,
        /// Or, in place of the password, a passkey sign-in made just before.
        #[serde(flatten)]
        passkey: PasskeyProof,
        /// The current 6-digit code.
        code: Secret,
    },
    /// Turns two-factor login off: one's own with the password and a code
    /// or recovery code; (admins) another's with the admin's own password.
    /// Reply: status and message only.
    TotpDisable {
        /// The caller's session.
        session_token: Secret,
        /// The caller's own password.
        #[serde(default)]
        password: Secret,
        /// Or, in place of the password, a passkey sign-in made just before.
        #[serde(flatten)]
        passkey: PasskeyProof,
        /// A current code, turning off one's own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<Secret>,
        /// Or a recovery code.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recovery_code: Option<Secret>,
        /// Another user, for an admin; no code is needed then.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
    },
    /// Security events, newest first; admins and moderators only.
    /// Reply: [`crate::AuditPage`].
    AuditLog {
        /// The caller's session.
        session_token: Secret,
        /// Filters and paging.
        #[serde(flatten)]
        query: AuditQuery,
    },
    /// An invitation to make an account with a given role; admins only,
    /// confirmed with their password. Reply: [`crate::InviteCreated`].
    InviteCreate {
        /// The caller's session.
        session_token: Secret,
        /// The caller's own password.
        #[serde(default)]
        current_password: Secret,
        /// Or, in place of the password, a passkey sign-in made just before.
        #[serde(flatten)]
        passkey: PasskeyProof,
        /// The role the new account gets.
        role: Role,
        /// The address the new account must have.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        email: Option<String>,
        /// How long it stays open, such as `90s` or `72h`: at most 7 days,
        /// 72 hours when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_in: Option<String>,
        /// Whom it is for, or why: shown in invite_list.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        /// An http(s) address the token is appended to, such as
        /// `https://users.example/invite/`: the reply then has the `link`
        /// and its QR code.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link_prefix: Option<String>,
    },
    /// Open invitations; admins only. Reply: [`crate::InviteList`].
    InviteList {
        /// The caller's session.
        session_token: Secret,
    },
    /// Withdraws an open invitation; admins only. Reply: status and message only.
    InviteRevoke {
        /// The caller's session.
        session_token: Secret,
        /// As invite_create and invite_list name it.
        invite_id: String,
    },
    /// Makes the account an invitation is for, with its role: active at
    /// once. Reply: [`crate::UserCreated`].
    InviteAccept {
        /// The token from invite_create.
        invite_token: Secret,
        /// The new account, as create_user takes it; its `password` may be
        /// left out when the account gets a passkey instead.
        user_data: NewUser,
        /// A passkey for the account, from invite_passkey_begin: the
        /// `ceremony_id`, and the `credential` of `navigator.credentials.create()`.
        #[serde(flatten)]
        passkey: PasskeyProof,
    },
    /// Starts making a passkey for the account an invitation is for, so
    /// that the invitee needs no password. Reply: [`crate::CeremonyStart`].
    InvitePasskeyBegin {
        /// The token from invite_create.
        invite_token: Secret,
        /// The account as invite_accept will make it, without a password:
        /// checked now, so that no device makes a passkey for an account
        /// that cannot be made. The passkey is for its username.
        user_data: NewUser,
    },
    /// A one-time link that lets a user choose a new password; admins only,
    /// confirmed with their password. Reply: [`crate::ResetLinkCreated`].
    ResetLinkCreate {
        /// The caller's session.
        session_token: Secret,
        /// The caller's own password.
        #[serde(default)]
        current_password: Secret,
        /// Or, in place of the password, a passkey sign-in made just before.
        #[serde(flatten)]
        passkey: PasskeyProof,
        /// Whose password the link sets.
        username: String,
        /// How long it stays valid, such as `30m` or `24h`: at most 24
        /// hours, 1 hour when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_in: Option<String>,
        /// An http(s) address the token is appended to, such as
        /// `https://users.example/reset/`: the reply then has the `link`
        /// and its QR code.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link_prefix: Option<String>,
    },
    /// Sets a new password with a recovery link, ends every session of the
    /// account, and spends the link. Reply: status and message only.
    ResetRedeem {
        /// The token from reset_link_create.
        reset_token: Secret,
        /// The new password; the password policy applies.
        password: Secret,
    },
    /// Starts adding a passkey to the caller's account, confirmed with the
    /// caller's password first (a session alone cannot add a way in, and
    /// no device makes a passkey the service then refuses).
    /// Reply: [`crate::CeremonyStart`].
    PasskeyRegisterBegin {
        /// The caller's session.
        session_token: Secret,
        /// The caller's own password.
        #[serde(default)]
        current_password: Secret,
        /// Or, in place of the password, a passkey sign-in made just before.
        #[serde(flatten)]
        passkey: PasskeyProof,
        /// A name for it, such as "Laptop".
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// Adds the passkey the authenticator made. Reply: [`crate::PasskeyReply`].
    PasskeyRegisterFinish {
        /// The caller's session, the one that began the ceremony.
        session_token: Secret,
        /// From passkey_register_begin.
        ceremony_id: String,
        /// `PublicKeyCredential.toJSON()` of what `navigator.credentials.create()` gave.
        credential: Value,
        /// A name for it; the one given at the begin when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// The caller's passkeys, or (admins) another user's. Reply: [`crate::PasskeyList`].
    PasskeyList {
        /// The caller's session.
        session_token: Secret,
        /// Another user; admins only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
    },
    /// Renames one of the caller's passkeys. Reply: [`crate::PasskeyReply`].
    PasskeyRename {
        /// The caller's session.
        session_token: Secret,
        /// As passkey_list names it.
        passkey_id: String,
        /// The new name.
        name: String,
    },
    /// Removes a passkey: one's own with the password or a passkey
    /// confirmation (`ceremony_id` and `credential`, from
    /// passkey_confirm_begin or passkey_login_begin); (admins) another
    /// user's, confirmed as themselves.
    /// Reply: status and message only.
    PasskeyDelete {
        /// The caller's session.
        session_token: Secret,
        /// As passkey_list names it.
        passkey_id: String,
        /// The caller's own password.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password: Option<Secret>,
        /// Or, in place of the password, a passkey sign-in made just before.
        #[serde(flatten)]
        passkey: PasskeyProof,
        /// Another user; admins only, with `password`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
    },
    /// Starts a sign-in with a passkey. Reply: [`crate::CeremonyStart`].
    PasskeyLoginBegin {
        /// Accepted and not used: the authenticator offers the accounts it
        /// has passkeys for, and the reply says nothing about any account.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
    },
    /// Signs in with the passkey's assertion. Reply: [`crate::LoginReply`],
    /// as login's.
    PasskeyLoginFinish {
        /// From passkey_login_begin.
        ceremony_id: String,
        /// `PublicKeyCredential.toJSON()` of what `navigator.credentials.get()` gave.
        credential: Value,
    },
    /// Starts a passkey confirmation for the session's account: the options
    /// name only its passkeys, and the ceremony confirms one change (as
    /// `ceremony_id` and `credential`, in place of the password) but signs
    /// no one in. Reply: [`crate::CeremonyStart`].
    PasskeyConfirmBegin {
        /// The caller's session.
        session_token: Secret,
    },
    /// Makes a forward-auth ticket bound to the session, for a bridge to
    /// set as a cookie. Reply: [`crate::ForwardTicket`].
    ForwardTicket {
        /// The session the ticket stands for.
        session_token: Secret,
    },
    /// Who a ticket's session is, for a reverse proxy asking about `host`.
    /// Reply: [`crate::ForwardUser`].
    ForwardVerify {
        /// From forward_ticket.
        ticket: Secret,
        /// The host the request is for, as the proxy says.
        host: String,
    },
    /// Ends the session a ticket is bound to. Reply: status and message only.
    ForwardLogout {
        /// From forward_ticket.
        ticket: Secret,
    },
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
