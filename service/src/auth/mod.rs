//! Who the caller is: passwords and their policy, sessions and the login throttle. Sessions and
//! throttle state sit behind traits ([`sessions::SessionStore`],
//! [`throttle::ThrottleStore`]) and live in this process's memory. On a
//! store shared by several instances, session changes travel in the store's
//! log and failure counts through [`relay`].

pub mod password;
pub mod peer;
pub mod policy;
pub mod rate;
pub mod relay;
pub mod sessions;
pub mod throttle;
