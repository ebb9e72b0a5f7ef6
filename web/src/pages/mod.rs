//! One module per screen, each at its own address (see [`crate::routes`]).
//! What screens share lives in [`crate::state`], [`crate::forms`],
//! [`crate::widgets`] and [`crate::dialog`]; the exceptions are the profile
//! form and record, which [`user`] takes from [`profile`], and the sessions
//! list ([`sessions`]), which [`security`] and [`user`] share.
//!
//! - [`auth`]: `/login`; [`register`]: `/register` and `/invite/<token>`.
//! - [`profile`], [`credentials`], [`security`], [`account`]: `/account/...`.
//! - [`users`]: `/admin/users`, the list; [`user`]: one user's page.
//! - [`sessions`]: where an account is signed in.
//! - [`passkeys`]: the account's passkeys, on `/account/security`.
//! - [`audit`]: `/admin/audit`, the audit log.
//! - [`invitations`]: `/admin/invitations`, for admins.
//! - [`errors`]: not found, not allowed.
//! - [`reset`]: `/reset/<token>`, a recovery link.

pub(crate) mod account;
pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod credentials;
pub(crate) mod errors;
pub(crate) mod invitations;
pub(crate) mod passkeys;
pub(crate) mod profile;
pub(crate) mod register;
pub(crate) mod reset;
pub(crate) mod security;
pub(crate) mod sessions;
pub(crate) mod user;
pub(crate) mod users;
