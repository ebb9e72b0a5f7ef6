//! The audit log's chain (ASVS 16.4.2): each event holds, in `prev`, the
//! digest of the one before it, and the newest event's [`Head`] is sealed
//! with the store's own records (the file store's journal and snapshot
//! seal, a sealed row of the PostgreSQL store). Every event is inside a
//! token sealed under the store's key, so an event cannot be changed or
//! made; with the chain, one cannot be taken out or moved either, and with
//! the sealed head the log cannot be cut short. Events dropped for age
//! leave the oldest kept event naming one that is gone, which is allowed:
//! the chain is checked from the first event kept.

use super::record::{AuditRecord, Head};

/// Chains `records` on from `head`, the log's newest event so far, and
/// moves `head` to the last of them.
pub(crate) fn link(records: &mut [AuditRecord], head: &mut Option<Head>) {
    for r in records {
        r.prev = head.as_ref().map(|h| h.digest.clone());
        *head = Some(r.head());
    }
}

/// Where the chain breaks: the first event found out of place, or the
/// sealed head that the log lacks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the audit log's chain breaks at event {id}: {why}")]
pub(crate) struct Break {
    /// The event's id.
    pub id: u64,
    /// What is wrong.
    pub why: String,
}

/// Checks a log's events, oldest first, one at a time.
#[derive(Default)]
pub(crate) struct Checker {
    last: Option<(Head, u8)>,
    /// Whether the sealed head was among the events, and how many came after.
    sealed_seen: Option<usize>,
    sealed: Option<Head>,
}

impl Checker {
    /// A checker for a log whose store sealed `sealed` as its newest event.
    pub(crate) fn new(sealed: Option<Head>) -> Self {
        Checker {
            sealed,
            ..Checker::default()
        }
    }

    /// The next event.
    pub(crate) fn next(&mut self, r: &AuditRecord) -> Result<(), Break> {
        let broken = |why: &str| Break {
            id: r.id,
            why: why.into(),
        };
        if let Some((last, v)) = &self.last {
            if r.id <= last.id {
                return Err(broken(
                    "it comes after a newer event: the log was reordered",
                ));
            }
            match &r.prev {
                Some(p) if *p != last.digest => {
                    return Err(broken(
                        "it does not follow the event before it: events between were removed or reordered",
                    ))
                }
                // An event of this version without a link, after the first.
                None if r.v >= 2 || *v >= 2 => {
                    return Err(broken("it is not linked to the events before it"))
                }
                _ => {}
            }
        }
        let head = r.head();
        if let Some(seen) = &mut self.sealed_seen {
            *seen += 1;
        } else if self.sealed.as_ref() == Some(&head) {
            self.sealed_seen = Some(0);
        }
        self.last = Some((head, r.v));
        Ok(())
    }

    /// After the last event: the sealed head must have been among them.
    /// Returns how many events came after it (a batch whose change did not
    /// commit, left by a crash).
    pub(crate) fn finish(self) -> Result<usize, Break> {
        match (self.sealed, self.sealed_seen) {
            (None, _) => Ok(0),
            (Some(_), Some(after)) => Ok(after),
            (Some(h), None) => Err(Break {
                id: h.id,
                why: format!(
                    "the store sealed it as the newest event, and the log {}: events were cut off",
                    match self.last {
                        Some((last, _)) if last.id >= h.id => "holds another event in its place",
                        Some(_) => "ends before it",
                        None => "is empty",
                    }
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::record::VERSION;
    use users_protocol::AuditKind;

    fn events(n: u64) -> Vec<AuditRecord> {
        let mut head = None;
        let mut all: Vec<AuditRecord> = (1..=n)
            .map(|id| AuditRecord {
                v: VERSION,
                id,
                at: 100 + id,
                kind: AuditKind::LoginFailed,
                actor: None,
                target: None,
                client: None,
                success: false,
                detail: format!("event {id}"),
                prev: None,
            })
            .collect();
        link(&mut all, &mut head);
        all
    }

    fn check(records: &[AuditRecord], sealed: Option<Head>) -> Result<usize, Break> {
        let mut c = Checker::new(sealed);
        for r in records {
            c.next(r)?;
        }
        c.finish()
    }

    #[test]
    fn a_whole_log_checks_and_any_removal_reorder_or_cut_breaks_it() {
        let all = events(6);
        let head = all[5].head();
        assert_eq!(check(&all, Some(head.clone())), Ok(0));
        // Dropped for age: the oldest kept names one that is gone.
        assert_eq!(check(&all[2..], Some(head.clone())), Ok(0));
        let mut gap = all.clone();
        gap.remove(3);
        assert_eq!(check(&gap, Some(head.clone())).unwrap_err().id, 5);
        let mut swapped = all.clone();
        swapped.swap(2, 3);
        assert_eq!(check(&swapped, Some(head.clone())).unwrap_err().id, 4);
        let cut = check(&all[..4], Some(head.clone())).unwrap_err();
        assert_eq!(cut.id, 6);
        assert!(cut.why.contains("ends before it"), "{cut}");
        // One batch past the sealed head: a crash between the two writes.
        assert_eq!(check(&all, Some(all[4].head())), Ok(1));
        // An event changed (as if the key were known) no longer fits.
        let mut changed = all.clone();
        changed[1].detail = "edited".into();
        assert_eq!(check(&changed, Some(head)).unwrap_err().id, 3);
    }

    #[test]
    fn events_of_version_1_may_come_first_unlinked() {
        let mut old = events(2);
        for r in &mut old {
            r.v = 1;
            r.prev = None;
        }
        let mut head = Some(old[1].head());
        let mut new = events(4).split_off(2);
        link(&mut new, &mut head);
        old.extend(new);
        assert_eq!(check(&old, head), Ok(0));
    }
}
