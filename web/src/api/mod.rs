//! Talking to the service through the bridge.
//!
//! - [`error`]: [`ApiError`], why a call failed.
//! - [`socket`]: the one WebSocket: requests matched to replies by
//!   `request_id`, reconnection with back-off, the service's availability.
//! - [`calls`]: the typed calls, with a session ([`AuthorizedApi`]) or without
//!   ([`UnauthorizedApi`]).

pub mod calls;
pub mod error;
pub mod socket;

pub use calls::{AuthorizedApi, LoggedIn, Revoke, SecondFactor, UnauthorizedApi};
pub use error::ApiError;
pub use socket::{start, Conn};
