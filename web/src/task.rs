//! The one way a screen runs work in the background: a call to the service
//! (or a pause), with a busy flag up while it is under way, and what to do
//! with its outcome once it comes.
//!
//! The outcome is handled first and the flag lowered after, in the same
//! step, so a form never shows itself ready before its result is on screen.
//! A screen that has gone by then is no obstacle: setting its signals does
//! nothing, and a handler that must not act on a gone screen checks with
//! `try_get_untracked`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use std::future::Future;

/// Runs `work`, with `busy` (if any) up until `then` has had its outcome.
pub(crate) fn run<T: 'static>(
    busy: Option<RwSignal<bool>>,
    work: impl Future<Output = T> + 'static,
    then: impl FnOnce(T) + 'static,
) {
    run_boxed(busy, Box::pin(work), Box::new(then));
}

fn run_boxed<T: 'static>(
    busy: Option<RwSignal<bool>>,
    work: std::pin::Pin<Box<dyn Future<Output = T>>>,
    then: Box<dyn FnOnce(T)>,
) {
    if let Some(busy) = busy {
        busy.set(true);
    }
    spawn_local(async move {
        then(work.await);
        if let Some(busy) = busy {
            busy.set(false);
        }
    });
}
