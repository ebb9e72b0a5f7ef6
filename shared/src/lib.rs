//! Wire types of the users service, shared by the service, the bridge, the web UI and
//! outside clients. The JSON they produce is the protocol of the original Python
//! service, byte-compatible with its clients.
//!
//! - [`request`]: every request, tagged by `action`, and the envelope carrying
//!   `request_id`; the objects inside them (`user_data`, `credentials`,
//!   `update_data`) are in `data`; each request's action and session are in
//!   `request_meta`.
//! - [`response`]: the reply envelope (`status`, `message`, `code`) and each action's payload.
//! - [`user`]: the admin and public views of an account, roles and statuses.
//! - [`query`]: list_users' paging, filters and order.
//! - [`profile`]: the profile fields, listed once, and the patch a request carries.
//! - [`error`]: [`ErrorCode`], the stable machine-readable error codes.
//! - [`validate`]: field rules, applied alike by the service and by the browser.
//! - [`invite`]: invitations and recovery links.
//! - [`passkey`]: passkeys (WebAuthn) as the protocol carries them.
//! - [`forward`]: forward authentication's tickets, for reverse proxies.
//! - [`security`]: sessions one can see and end, two-factor login, the audit log.
//! - [`strength`]: a password strength hint for forms.
//! - [`secret`]: [`Secret`], a string that never prints and is wiped on drop.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(clippy::panic)]
#![cfg_attr(test, allow(clippy::panic))]

mod wire_enum;

mod action;

mod data;
pub mod error;
pub mod forward;
pub mod invite;
pub mod passkey;
pub mod profile;
pub mod query;
pub mod request;
mod request_meta;
pub mod response;
pub mod secret;
pub mod security;
pub mod strength;
pub mod user;
pub mod validate;

pub use error::ErrorCode;
pub use forward::{ForwardTicket, ForwardUser};
pub use invite::{Invitation, InviteCreated, InviteList, ResetLinkCreated};
pub use passkey::{CeremonyStart, PasskeyList, PasskeyProof, PasskeyReply, PasskeyView};
pub use profile::{Profile, ProfileField, ProfilePatch};
pub use request::{
    Action, Credentials, ListQuery, NewUser, Request, RequestEnvelope, Sort, SortKey, UserUpdate,
};
pub use response::{
    ErrorReply, Health, ListView, LoginReply, Reply, ReplyError, Status, UserCreated, UserList,
    UserReply,
};
pub use secret::Secret;
pub use security::{
    AuditEvent, AuditKind, AuditPage, AuditQuery, RecoveryCodes, Revoked, SessionList,
    SessionStatus, SessionView, TotpSetup,
};
pub use user::{PublicUser, Role, UserStatus, UserView};
