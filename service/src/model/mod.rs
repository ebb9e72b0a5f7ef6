//! The stored user, as the service works with it in memory. Its stable
//! [`UserId`] never changes on rename: sessions refer to it. The on-disk shape
//! is [`record::UserRecord`], converted at the storage edge.
//!
//! - [`user`]: [`User`] and its [`PasswordHash`].
//! - [`id`]: the stable [`UserId`].
//! - [`record`]: the stored, versioned record; `record_de` reads it.
//! - [`totp`]: two-factor state: the TOTP secret and recovery codes.

pub mod id;
pub mod record;
mod record_de;
pub mod totp;
pub mod user;

pub use id::UserId;
pub use user::{NameKey, PasswordHash, User, LEGACY_ITERATIONS};

#[cfg(test)]
pub(crate) use user::tests;
