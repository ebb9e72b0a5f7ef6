//! A backend that keeps commits in memory and fails on demand, for testing the
//! writer and the actions without a disk.

use super::backend::{Backend, Change, State, StorageError};
use crate::audit::{AuditReader, AuditRecord};
use crate::auth::sessions::SessionOp;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// See the module documentation. Clones share their state.
#[derive(Clone, Default)]
pub(crate) struct MemoryBackend {
    /// Every change committed, in order.
    pub committed: Arc<Mutex<Vec<Change>>>,
    /// While true, commits fail as a full disk would.
    pub failing: Arc<AtomicBool>,
    /// Every audit event committed, in order.
    pub audit: Arc<Mutex<Vec<AuditRecord>>>,
}

impl AuditReader for Mutex<Vec<AuditRecord>> {
    fn read_all(&self) -> Result<Vec<AuditRecord>, String> {
        Ok(self.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

impl Backend for MemoryBackend {
    fn commit(&mut self, changes: &[Change]) -> Result<(), StorageError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StorageError::Io {
                context: "committing".into(),
                error: std::io::Error::other("disk full"),
            });
        }
        self.committed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(changes);
        Ok(())
    }

    fn commit_batch(
        &mut self,
        changes: &[Change],
        _: &[SessionOp],
        audit: &mut [AuditRecord],
    ) -> Result<(), StorageError> {
        self.commit(changes)?;
        let mut kept = self.audit.lock().unwrap_or_else(|e| e.into_inner());
        for r in audit.iter_mut() {
            r.id = kept.len() as u64 + 1;
            kept.push(r.clone());
        }
        Ok(())
    }

    fn audit_reader(&self) -> Arc<dyn AuditReader> {
        Arc::clone(&self.audit) as Arc<dyn AuditReader>
    }

    fn maintain(&mut self, _: &mut dyn FnMut() -> State) -> Result<(), StorageError> {
        Ok(())
    }

    fn close(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
}
