//! One module per screen. Pages share nothing through this module: what they
//! share lives in [`crate::state`], [`crate::forms`] and [`crate::widgets`].
//!
//! - [`auth`]: the Login and Register tabs.
//! - [`dashboard`]: the tabs after login, with [`profile`], [`credentials`],
//!   [`account`] and, for admins and moderators, [`admin`].

pub mod account;
pub mod admin;
pub mod auth;
pub mod credentials;
pub mod dashboard;
pub mod profile;
