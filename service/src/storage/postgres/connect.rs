//! Connecting to PostgreSQL, the same way for every connection the service
//! opens: the writer's, the listener's, a snapshot's, audit_log's and the
//! operator commands'. TLS is as the address asks ([`super::tls`]).

use super::errors::db;
use super::tls::Address;
use crate::storage::backend::StorageError;
use postgres::{Client, NoTls};
use std::time::Duration;

/// How long connecting may take when the address does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The `application_name` of every connection the service makes.
pub(crate) const APPLICATION: &str = "users-service";

/// Connects to `url`, with a connect timeout unless the address sets one.
pub(crate) fn connect(url: &str) -> Result<Client, StorageError> {
    let refused = |e: super::tls::TlsError| StorageError::Database(e.to_string());
    let address = Address::parse(url).map_err(refused)?;
    let tls = address.connector().map_err(refused)?;
    let mut config = address.config;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    // A server that went away without closing the connection (a machine
    // gone, a NAT that forgot it) is noticed in seconds, not at TCP's
    // retransmission timeout of many minutes.
    config
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(10))
        .keepalives_interval(Duration::from_secs(5))
        .keepalives_retries(3)
        .tcp_user_timeout(Duration::from_secs(15));
    // Names the connection in pg_stat_activity: rotate-key tells running
    // instances by it.
    config.application_name(APPLICATION);
    match tls {
        None => config.connect(NoTls),
        Some(tls) => config.connect(tls),
    }
    .map_err(db("connecting"))
}
