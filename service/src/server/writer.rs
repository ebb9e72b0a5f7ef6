//! The writer: the one thread that changes the table. It takes the writes that
//! are waiting (up to [`MAX_BATCH`]), applies each to the table (undoing any
//! that fails), commits the batch through the backend in one go (group
//! commit), and only then lets their replies go. If the commit fails, the whole
//! batch is undone in memory and every client in it is told.
//!
//! On a store shared by several instances, the writer is also the one that
//! applies what the others committed: at the start of each batch, under the
//! store's write lock, so that every write is checked against the latest
//! state; and between batches, when asked to follow ([`Job::Follow`]).

use super::queues::Queues;
use super::replies::{push, wake, ReplyTo};
use crate::actions::{Event, Outcome, WriteFn, Written};
use crate::app::App;
use crate::audit::AuditRecord;
use crate::auth::sessions::SessionOp;
use crate::clock::unix_secs;
use crate::error::{Result, ServiceError};
use crate::storage::{Backend, Caught, Change, State, StorageError, UserTable};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

/// Largest number of writes in one group commit.
pub(crate) const MAX_BATCH: usize = 512;

/// How soon a catch-up that failed is tried again.
const RETRY_FOLLOW: Duration = Duration::from_millis(200);

/// How often, at most, sessions' uses are told to other instances, and
/// waiting audit events (failed logins) are written, when no write carries
/// them sooner.
const TICK: Duration = Duration::from_secs(1);

/// A change waiting for the writer.
pub(crate) struct WriteJob {
    /// Where its reply goes; `None` for a background change no one waits for.
    pub to: Option<ReplyTo>,
    /// The change.
    pub work: WriteFn,
}

/// What the writer is asked to do.
pub(crate) enum Job {
    /// A change.
    Write(Box<WriteJob>),
    /// Catch up with what other instances committed (see [`crate::follow`]).
    Follow,
}

/// Commits batches until the queue closes, then lets the backend finish.
///
/// After a fatal storage error it stops the service (`stop`, and `fatal` so
/// that it exits non-zero) and answers every change still queued with
/// `internal`, touching the store no more: each client gets an answer, and no
/// further change is acknowledged.
pub(crate) fn writer_loop(
    app: &App,
    queues: &Queues,
    mut backend: Box<dyn Backend>,
    rx: &Receiver<Job>,
    sock: &zmq::Socket,
    (stop, fatal): (&AtomicBool, &AtomicBool),
) {
    // After a catch-up that failed, try again soon even if nothing asks:
    // until it succeeds, this instance may miss sessions ended elsewhere.
    let mut behind = false;
    let tells_uses = backend.shared() && app.settings.sessions.idle.is_some();
    loop {
        let wait = if behind { RETRY_FOLLOW } else { TICK };
        let first = match rx.recv_timeout(wait) {
            Ok(job) => Some(job),
            Err(RecvTimeoutError::Timeout) => behind.then_some(Job::Follow),
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let timed_out = first.is_none();
        let mut batch = collect(first, rx);
        for _ in 0..batch.len() {
            queues.end_write();
        }
        if tells_uses {
            batch.extend(session_uses(app));
        }
        if batch.is_empty() && timed_out {
            if app.audit.is_empty() {
                continue;
            }
            // A batch of its own for the waiting audit events.
            batch.push(background(vec![]));
        }
        if fatal.load(Ordering::SeqCst) {
            for job in batch {
                if let Some(to) = job.to {
                    push(app, sock, to, Err(ServiceError::Storage("stopping".into())));
                }
            }
            continue;
        }
        // Every ticket issued so far is covered by the catch-up about to start.
        let ticket = app.follow.issued();
        let done = if batch.is_empty() {
            follow(app, backend.as_mut())
        } else {
            run_batch(app, backend.as_mut(), batch, &mut |to, result| {
                push(app, sock, to, result)
            })
        };
        behind = matches!(done, Ok(false));
        match done {
            Ok(true) => {
                if app.follow.completed(ticket) {
                    wake(sock);
                }
            }
            Ok(false) => app.follow.caught_up(false),
            Err(e) => {
                tracing::error!(error = %e, "the store's state is unknown: stopping the service");
                fatal.store(true, Ordering::SeqCst);
                stop.store(true, Ordering::SeqCst);
            }
        }
    }
    if fatal.load(Ordering::SeqCst) {
        return;
    }
    if let Err(e) = backend.close() {
        tracing::error!(error = %e, "snapshot failed at shutdown; the log keeps every change");
    }
}

/// `first` and the writes already waiting behind it, up to [`MAX_BATCH`].
/// Requests to follow need nothing more: a batch catches up too.
fn collect(first: Option<Job>, rx: &Receiver<Job>) -> Vec<WriteJob> {
    let mut batch = Vec::new();
    let mut next = first;
    while let Some(job) = next {
        if let Job::Write(w) = job {
            batch.push(*w);
        }
        next = if batch.len() < MAX_BATCH {
            rx.try_recv().ok()
        } else {
            None
        };
    }
    batch
}

/// Sessions' uses since the last batch, for the other instances, as a
/// change of their own that no one waits for.
fn session_uses(app: &App) -> Option<WriteJob> {
    let uses = app.sessions.take_touches();
    (!uses.is_empty()).then(|| background(uses))
}

/// A change that no one waits for and that changes no account: it carries
/// session changes into a batch, or makes a batch for the audit events
/// waiting (every batch takes them).
fn background(sessions: Vec<SessionOp>) -> WriteJob {
    WriteJob {
        to: None,
        work: Box::new(move |_, _| {
            Ok(Written {
                outcome: Outcome::Recorded,
                sessions,
                events: vec![],
            })
        }),
    }
}

/// Applies what other instances committed, outside a batch. True once
/// caught up; a store that cannot be reached is logged and tried again at the
/// next batch or request to follow.
fn follow(app: &App, backend: &mut dyn Backend) -> std::result::Result<bool, StorageError> {
    match backend.follow() {
        Ok(caught) => {
            apply_caught(app, caught);
            Ok(true)
        }
        Err(e @ StorageError::Fatal(_)) => Err(e),
        Err(e) => {
            tracing::warn!(error = %e, "could not follow the other instances; will retry");
            Ok(false)
        }
    }
}

/// Makes what others committed part of this instance's state. It is
/// already durable, so nothing of it is undone or committed again.
fn apply_caught(app: &App, caught: Caught) {
    if !caught.changes.is_empty() {
        app.users_mut().apply_committed(caught.changes);
    }
    for op in caught.sessions {
        app.sessions.apply(op);
    }
}

/// Applies, commits and answers one batch. A write that fails in memory is
/// answered at once; the others once the commit has succeeded or failed.
/// Returns whether the batch began caught up with the other instances, or
/// the error when the backend could not undo a failed commit: the caller
/// must stop.
pub(crate) fn run_batch(
    app: &App,
    backend: &mut dyn Backend,
    batch: Vec<WriteJob>,
    reply: &mut dyn FnMut(ReplyTo, Result<Outcome>),
) -> std::result::Result<bool, StorageError> {
    let mut answer = Answer(reply);
    match backend.begin() {
        Ok(caught) => apply_caught(app, caught),
        Err(e) => {
            tracing::error!(error = %e, writes = batch.len(), "could not start a batch");
            for job in batch {
                answer.give(job.to, Err(ServiceError::from(&e)));
            }
            return match e {
                StorageError::Fatal(_) => Err(e),
                _ => Ok(false),
            };
        }
    }
    let applied = Applied::run(app, batch, &mut answer);
    applied.commit(app, backend, &mut answer)?;
    let state = &mut || State {
        users: app.users().all(),
        sessions: app.sessions.live(app.clock.now()),
    };
    match backend.maintain(state) {
        Err(e @ StorageError::Fatal(_)) => return Err(e),
        Err(e) => tracing::error!(error = %e, "snapshot failed; the log keeps every change"),
        Ok(()) => {}
    }
    Ok(true)
}

/// Where a change's result goes: to its client, or for a background change
/// that no one waits for, to the log if it failed.
struct Answer<'a>(&'a mut dyn FnMut(ReplyTo, Result<Outcome>));

impl Answer<'_> {
    fn give(&mut self, to: Option<ReplyTo>, result: Result<Outcome>) {
        match (to, result) {
            (Some(to), result) => (self.0)(to, result),
            (None, Err(e)) => tracing::warn!(error = %e, "a background change was dropped"),
            (None, Ok(_)) => {}
        }
    }
}

/// A batch applied to the table in memory, not yet committed.
struct Applied {
    /// The writes that succeeded in memory, with where their replies go.
    done: Vec<(Option<ReplyTo>, Written)>,
    changes: Vec<Change>,
    audit: Vec<AuditRecord>,
    /// Events that no client waits on (a background change's, the queue's):
    /// if the commit fails they go back to the queue, not lost.
    retry: Vec<Event>,
    /// Audit events the queue had to drop, for want of room.
    dropped: u64,
}

impl Applied {
    /// Runs each write against the table, undoing and answering at once any
    /// that fails, and takes the audit events waiting in the queue. The
    /// table's write lock is held throughout, so that events are named as
    /// the accounts are right after the batch, and the changes taken are
    /// exactly the batch's.
    fn run(app: &App, batch: Vec<WriteJob>, answer: &mut Answer<'_>) -> Applied {
        let at = unix_secs(app.clock.now());
        let mut applied = Applied {
            done: Vec::with_capacity(batch.len()),
            changes: Vec::new(),
            audit: Vec::new(),
            retry: Vec::new(),
            dropped: 0,
        };
        let mut table = app.users_mut();
        let names = |t: &UserTable, id| t.get_by_id(id).map(|u| u.username.clone());
        for job in batch {
            let mark = table.mark();
            match (job.work)(app, &mut table) {
                Ok(mut written) => {
                    if job.to.is_none() {
                        applied.retry.extend(written.events.iter().cloned());
                    }
                    // Named as the accounts are right after the change.
                    let records = written.events.drain(..);
                    let records = records.map(|e| e.record(at, |id| names(&table, id)));
                    applied.audit.extend(records);
                    applied.done.push((job.to, written));
                }
                Err(e) => {
                    table.rollback_to(mark);
                    answer.give(job.to, Err(e));
                }
            }
        }
        let (waiting, dropped) = app.audit.take();
        applied.retry.extend(waiting.iter().cloned());
        let records = waiting.into_iter();
        let records = records.map(|e| e.record(at, |id| names(&table, id)));
        applied.audit.extend(records);
        if dropped > 0 {
            applied.audit.push(AuditRecord::dropped(at, dropped));
        }
        applied.dropped = dropped;
        applied.changes = table.take_changes();
        applied
    }

    /// Commits the batch, then applies its session changes and answers its
    /// clients; or undoes it all and tells them it failed. Readers may see
    /// the changes during the commit; no one is told they happened until it
    /// succeeds.
    fn commit(
        mut self,
        app: &App,
        backend: &mut dyn Backend,
        answer: &mut Answer<'_>,
    ) -> std::result::Result<(), StorageError> {
        let sessions: Vec<_> = self
            .done
            .iter()
            .flat_map(|(_, w)| w.sessions.iter().cloned())
            .collect();
        let started = std::time::Instant::now();
        let committed = backend.commit_batch(&self.changes, &sessions, &mut self.audit);
        let writes = self.done.iter().filter(|(to, _)| to.is_some()).count();
        app.metrics.committed(writes, started.elapsed());
        match committed {
            Ok(()) => {
                app.users_mut().forget_undo();
                for (to, written) in self.done {
                    for op in written.sessions {
                        app.sessions.apply(op);
                    }
                    answer.give(to, Ok(written.outcome));
                }
                Ok(())
            }
            Err(e) => {
                app.users_mut().rollback_all();
                app.audit.put_back(self.retry, self.dropped);
                let changes = self.changes.len();
                tracing::error!(error = %e, changes, "commit failed; changes undone");
                for (to, _) in self.done {
                    answer.give(to, Err(ServiceError::from(&e)));
                }
                match e {
                    StorageError::Fatal(_) => Err(e),
                    _ => Ok(()),
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
