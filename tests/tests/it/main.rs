//! Integration tests, one binary: real processes, real sockets.
//!
//! - `service`: every action and error code of users-service over ZeroMQ.
//! - `authz`: who may read and change whom; the last active admin stays.
//! - `sessions`: what ends a session and what keeps it.
//! - `policy`: the password policy.
//! - `audit`: the audit log, on a file store and on PostgreSQL.
//! - `audit_chain`: the audit log's chain, broken on purpose.
//! - `audit_refusals`: what refused requests record, and how seldom.
//! - `two_factor`: TOTP login, recovery codes, turning it off.
//! - `session_list`: the sessions a user sees and ends; the idle timeout.
//! - `lists`: list_users on the server, and the public view's limits.
//! - `ops`: the operator's commands (verify, backup, restore, reset-admin, export, import) on a real store.
//! - `rotate`: rotate-key on a file store under SIGKILL, and on PostgreSQL.
//! - `storage`: restarts, the master password, the files on disk.
//! - `disk`: a full disk, on a small filesystem the test makes.
//! - `crash`: SIGKILL at random moments under write load, twenty times.
//! - `postgres`: the private PostgreSQL server, and the PostgreSQL store's schema, key and log.
//! - `postgres_store`: users-service with `--database`, on a real server.
//! - `postgres_tls`: users-service on a server that takes TLS only: `sslmode` and `sslrootcert`.
//! - `cluster`: several instances on one PostgreSQL.
//! - `cluster_catch_up`: an account made, renamed or deleted on one instance, known to the others at once.
//! - `cluster_bridge`: the bridge in front of several instances.
//! - `cluster_faults`: replayed notices, a database that lost batches, an instance left behind.
//! - `python`: the original's Python client code, unchanged, against our binary.
//! - `bridge`: users-bridge over WebSocket, its limits and failures.
//! - `bridge_unix`: the bridge's `--listen-unix`: a proxy believed by the socket
//!   it came through, not by its address; the socket file.
//! - `bridge_edge`: the bridge against rebinding, slow and greedy clients, proxies; logs, CSP, metrics.
//! - `web_assets`: how the bridge serves the UI's files: compression, caching, routes, CSP.
//! - `e2e`: the web UI in headless Chromium.
//! - `throttle`: the login defence against bursts, aliases and stolen sessions.
//! - `trusted_endpoint`: the ipc:// endpoint for the bridge: who is believed,
//!   its socket file, what is refused at start, a bridge over it.
//! - `metrics`: `/metrics` of the service and the bridge, linted by
//!   promtool and scraped by a real Prometheus; the shipped rules and
//!   dashboard.
//! - `json_logs`: `--log-format json` in the service and the bridge.
//! - `bench`: the benchmark's smoke mode.

mod audit;
mod audit_chain;
mod audit_refusals;
mod authz;
mod bench;
mod bridge;
mod bridge_edge;
mod bridge_tls;
mod bridge_unix;
mod cluster;
mod cluster_bridge;
mod cluster_catch_up;
mod cluster_faults;
mod crash;
mod disk;
mod e2e;
mod forward;
mod json_logs;
mod lists;
mod metrics;
mod nginx;
mod nginx_forward;
mod onboarding;
mod ops;
mod passkeys;
mod passwordless;
mod policy;
mod postgres;
mod postgres_store;
mod postgres_tls;
mod python;
mod rotate;
mod service;
mod session_list;
mod sessions;
mod storage;
mod throttle;
mod trusted_endpoint;
mod two_factor;
mod web_assets;
