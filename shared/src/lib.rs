//! Wire types of the users service, shared by the service, the bridge, the web UI and
//! outside clients. The JSON they produce is the protocol of the original Python
//! service, byte-compatible with its clients.
//!
//! - [`request`]: every request, tagged by `action`, and the envelope carrying `request_id`.
//! - [`response`]: the reply envelope (`status`, `message`, `code`) and each action's payload.
//! - [`user`]: the stored record, its admin and public views, roles and statuses.
//! - [`error`]: [`ErrorCode`], the stable machine-readable error codes.
//! - [`validate`]: field rules, applied alike by the service and by the browser.
//! - [`secret`]: [`Secret`], a string that never prints and is wiped on drop.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod error;
pub mod request;
pub mod response;
pub mod secret;
pub mod user;
pub mod validate;

pub use error::ErrorCode;
pub use request::{Credentials, ListQuery, NewUser, Request, RequestEnvelope, UserUpdate};
pub use response::{
    ErrorReply, Health, LoginReply, Reply, ReplyError, Status, UserCreated, UserList, UserReply,
};
pub use secret::Secret;
pub use user::{PublicUser, Role, UserRecord, UserStatus, UserView};
