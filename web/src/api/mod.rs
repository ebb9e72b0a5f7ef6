//! Talking to the service through the bridge.
//!
//! - [`error`]: [`ApiError`], why a call failed.
//! - [`socket`]: the one WebSocket: requests matched to replies by
//!   `request_id`, reconnection with back-off, the service's availability.
//! - [`calls`]: the typed calls, with a session ([`AuthorizedApi`]) or without
//!   ([`UnauthorizedApi`]).

mod calls;
mod error;
mod socket;

pub(crate) use calls::{AuthorizedApi, LoggedIn, Revoke, SecondFactor, UnauthorizedApi};
pub(crate) use error::ApiError;
pub(crate) use socket::{start, Conn};
