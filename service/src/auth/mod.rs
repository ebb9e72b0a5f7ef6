//! Who the caller is: passwords and their policy, sessions and the login throttle. Sessions and
//! throttle state sit behind traits ([`sessions::SessionStore`],
//! [`throttle::ThrottleStore`]) and live in this process's memory. On a
//! store shared by several instances, session changes travel in the store's
//! log and failure counts through [`relay`]. Tokens and the ids that stand
//! for them are in [`token`]; passkeys' relying party and ceremonies in
//! [`passkey`]; forward-auth tickets in [`ticket`].

pub(crate) mod passkey;
pub mod password;
pub(crate) mod peer;
pub(crate) mod policy;
pub(crate) mod rate;
pub(crate) mod relay;
pub(crate) mod sessions;
pub(crate) mod throttle;
pub(crate) mod ticket;
pub(crate) mod token;
