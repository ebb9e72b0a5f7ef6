//! [`AuditReader`]: how the audit log a store keeps is read.

use super::record::AuditRecord;
use super::want::Want;

/// Reads what the audit log holds. Called on the pool of slow work, never
/// by the writer, so a long read holds up no change.
pub trait AuditReader: Send + Sync {
    /// Every record kept, oldest first: for the operator commands.
    fn read_all(&self) -> Result<Vec<AuditRecord>, String>;

    /// The records `want` may match, newest first (more is fine: the reader
    /// checks each), until `visit` returns false: for audit_log, whose
    /// cost must follow the page it reads, not the size of the log.
    /// Without an index: every record, newest first.
    fn newest_first(
        &self,
        want: &Want,
        visit: &mut dyn FnMut(AuditRecord) -> bool,
    ) -> Result<(), String> {
        let _ = want;
        visit_newest_first(self.read_all()?, visit);
        Ok(())
    }
}

/// Gives `visit` the records of a batch (oldest first, as stored), newest
/// first; false once `visit` says to stop.
pub(crate) fn visit_newest_first(
    records: Vec<AuditRecord>,
    visit: &mut dyn FnMut(AuditRecord) -> bool,
) -> bool {
    records.into_iter().rev().all(visit)
}
