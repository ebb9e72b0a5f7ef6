//! The pool of slow work (PBKDF2, large lists): one thread per `--workers`,
//! each taking slow steps from a shared queue. A step ends in a reply or in a
//! write for the writer.

use super::queues::Queues;
use super::replies::{push, ReplyTo};
use super::writer::{Job, WriteJob};
use crate::actions::{AfterHash, SlowFn};
use crate::app::App;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Mutex;

/// A request waiting for the pool.
pub(crate) struct SlowJob {
    /// Where its reply goes.
    pub to: ReplyTo,
    /// Who asked, for the per-peer share.
    pub peer: Option<String>,
    /// The slow step.
    pub work: SlowFn,
    /// When it was queued, for the time it waits in the metrics.
    pub queued: std::time::Instant,
}

/// Runs hashing jobs until the queue closes.
pub(crate) fn pool_loop(
    app: &App,
    queues: &Queues,
    rx: &Mutex<Receiver<SlowJob>>,
    write_tx: &Sender<Job>,
    sock: &zmq::Socket,
) {
    loop {
        let job = match rx.lock().unwrap_or_else(|e| e.into_inner()).recv() {
            Ok(j) => j,
            Err(_) => return,
        };
        app.metrics.hash_taken(job.queued.elapsed());
        let next = (job.work)(app);
        queues.end_slow(job.peer.as_deref());
        match next {
            AfterHash::Done(result) => push(app, sock, job.to, result),
            AfterHash::Write(work) => {
                queues.follow_write();
                let _ = write_tx.send(Job::Write(Box::new(WriteJob {
                    to: Some(job.to),
                    work,
                })));
            }
            AfterHash::DoneThen(result, work) => {
                push(app, sock, job.to, result);
                queues.follow_write();
                let _ = write_tx.send(Job::Write(Box::new(WriteJob { to: None, work })));
            }
        }
    }
}
