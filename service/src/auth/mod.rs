//! Who the caller is: passwords, sessions and the login throttle. Sessions and
//! throttle state sit behind traits ([`sessions::SessionStore`],
//! [`throttle::ThrottleStore`]), so that a shared backend can hold them for
//! several instances; this process's memory holds them today.

pub mod password;
pub mod peer;
pub mod rate;
pub mod sessions;
pub mod throttle;
