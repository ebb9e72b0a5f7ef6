//! The stored user, as the service works with it in memory. Its stable
//! [`UserId`] never changes on rename: sessions refer to it. The on-disk shape
//! is [`record::UserRecord`], converted at the storage edge.
//!
//! - [`user`]: [`User`] and its [`PasswordHash`].
//! - [`id`]: the stable [`UserId`].
//! - [`record`]: the stored, versioned record; `record_de` reads it.
//! - [`totp`]: two-factor state: the TOTP secret and recovery codes.
//! - [`invite`]: invitations and recovery links, and their tokens.
//! - [`passkey`]: passkeys, and the ceremonies an account has spent.

pub(crate) mod id;
pub(crate) mod invite;
pub(crate) mod passkey;
pub(crate) mod record;
mod record_de;
pub(crate) mod totp;
pub(crate) mod user;

pub(crate) use id::UserId;
pub(crate) use user::{NameKey, PasswordHash, User};

#[cfg(test)]
pub(crate) use user::tests;
