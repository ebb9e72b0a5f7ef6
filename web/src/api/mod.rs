//! Talking to the service through the bridge.
//!
//! - [`error`]: [`ApiError`], why a call failed.
//! - [`socket`]: the one WebSocket: requests matched to replies by
//!   `request_id`, reconnection with back-off, the service's availability.
//! - [`calls`]: the typed calls, with a session ([`AuthorizedApi`]) or without
//!   ([`UnauthorizedApi`]).
//! - [`onboarding`]: invitations and recovery links.
//! - [`cookie`]: the sign-in cookie that apps behind the same reverse proxy
//!   see (forward authentication).
//! - [`passkeys`]: the passkey calls, each a ceremony: the service's begin,
//!   the browser's part, the service's finish.
//! - [`confirm`]: what confirms a change, the password or a passkey.

mod calls;
mod confirm;
mod cookie;
mod error;
mod onboarding;
mod passkeys;
mod socket;

pub(crate) use calls::{AuthorizedApi, LoggedIn, Revoke, SecondFactor, UnauthorizedApi};
pub(crate) use confirm::Proof;
pub(crate) use error::ApiError;
pub(crate) use onboarding::NewInvite;
pub(crate) use socket::{start, Conn};
