//! The audit log: who did what to which account, when, from where, and
//! whether it worked. Records are sealed with the store's key and kept in a
//! log of their own beside the store ([`crate::storage::file`]'s
//! `STORE.audit`, or a table of the PostgreSQL store); old ones are dropped
//! after `--audit-retention`.
//!
//! - [`event`]: [`Event`], what an action reports.
//! - [`record`]: [`AuditRecord`], the stored, versioned event.
//! - [`chain`]: each event linked to the one before, and checking the links.
//! - [`reader`]: [`AuditReader`], how a store's log is read.
//! - [`queue`]: [`AuditQueue`], events of nothing changed (failed and
//!   throttled logins), recorded with the next commit and never waited for.
//! - [`select`]: audit_log's filters and paging over records, and who may
//!   see what.
//! - [`want`]: what a read asks of a store before it decrypts anything, for
//!   its index.

pub(crate) mod chain;
pub(crate) mod event;
pub(crate) mod queue;
pub(crate) mod reader;
pub(crate) mod record;
pub(crate) mod select;
pub(crate) mod want;

pub(crate) use event::Event;
pub(crate) use queue::AuditQueue;
pub(crate) use reader::AuditReader;
pub(crate) use record::{AuditRecord, Head};

/// How long events are kept unless `--audit-retention` says otherwise.
pub const DEFAULT_RETENTION: std::time::Duration = std::time::Duration::from_secs(90 * 24 * 3600);
