//! The steps of an action: what is left to do after each, typed so that a
//! hashing step can only end in a reply or a write.

use super::outcome::Outcome;
use crate::app::App;
use crate::audit::Event;
use crate::auth::sessions::SessionOp;
use crate::error::{Result, ServiceError};
use crate::storage::table::UserTable;

/// What is left to do for a request.
pub(crate) enum Step {
    /// Reply now.
    Done(Result<Outcome>),
    /// Continue on the pool of slow work: PBKDF2, or a large list.
    Slow(SlowFn),
    /// Continue on the writer.
    Write(WriteFn),
    /// Look again once this instance has caught up with the others of a
    /// shared store: the request names an account this instance does not
    /// know, which another may have made a moment ago, and the step that
    /// would answer it from what is known now cannot be taken back (a
    /// login's failure is counted and hashed). Given only at
    /// [`Look::First`] on a store that others share (see `server::parked`).
    CatchUp,
}

/// Which look at a request this is. On a store shared with other
/// instances, a request whose answer rests on something this instance does
/// not know (a session, an account by name, a name that is taken here) is
/// looked at again, once, after this instance has caught up with the others
/// (see `server::parked`); the first look leaves nothing behind that the
/// second would do again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Look {
    /// As the request arrives.
    First,
    /// After a catch-up, or where none can be waited for: answer from what
    /// this instance knows.
    Again,
}

impl Look {
    /// True where a miss should wait for a catch-up ([`Step::CatchUp`]).
    pub(super) fn may_catch_up(self, app: &App) -> bool {
        self == Look::First && app.follow.enabled()
    }
}

/// Slow work for the pool.
pub(crate) type SlowFn = Box<dyn FnOnce(&App) -> AfterHash + Send>;

/// What may follow slow work: a reply or a write, never more slow work.
pub(crate) enum AfterHash {
    /// Reply now.
    Done(Result<Outcome>),
    /// Continue on the writer.
    Write(WriteFn),
    /// Reply now, and hand the writer a change that no one waits for: it is
    /// committed with the next batch, or dropped with a warning if that fails.
    DoneThen(Result<Outcome>, WriteFn),
}

/// A change run by the writer against the current table.
pub(crate) type WriteFn = Box<dyn FnOnce(&App, &mut UserTable) -> Result<Written> + Send>;

/// A change made in memory, to be acknowledged once committed.
pub(crate) struct Written {
    /// What the client is told.
    pub outcome: Outcome,
    /// Session changes to apply once the change is durable.
    pub sessions: Vec<SessionOp>,
    /// What happened, for the audit log.
    pub events: Vec<Event>,
}

impl Step {
    pub(super) fn slow(f: impl FnOnce(&App) -> AfterHash + Send + 'static) -> Step {
        Step::Slow(Box::new(f))
    }

    pub(super) fn write(
        f: impl FnOnce(&App, &mut UserTable) -> Result<Written> + Send + 'static,
    ) -> Step {
        Step::Write(Box::new(f))
    }
}

impl AfterHash {
    pub(super) fn write(
        f: impl FnOnce(&App, &mut UserTable) -> Result<Written> + Send + 'static,
    ) -> Self {
        AfterHash::Write(Box::new(f))
    }

    pub(super) fn done_then(
        outcome: Outcome,
        f: impl FnOnce(&App, &mut UserTable) -> Result<Written> + Send + 'static,
    ) -> Self {
        AfterHash::DoneThen(Ok(outcome), Box::new(f))
    }

    pub(super) fn fail(e: ServiceError) -> Self {
        AfterHash::Done(Err(e))
    }
}
