//! What a screen loads from the service to show: loaded at once, again on
//! demand (after a change, or Retry), and again by itself when the server
//! can be reached after a failed load.

use crate::api::{ApiError, AuthorizedApi};
use crate::state::AppState;
use crate::task;
use leptos::prelude::*;
use std::future::Future;

/// The data, or why it could not be loaded, and how to load it again.
#[derive(Clone, Copy)]
pub(crate) struct Loaded<T: Send + Sync + 'static> {
    /// None until the first load comes back.
    pub(crate) data: RwSignal<Option<T>>,
    /// Why the last load failed, until one works.
    pub(crate) failed: RwSignal<Option<String>>,
    pub(crate) reload: Callback<()>,
}

impl<T: Send + Sync + 'static> Loaded<T> {
    /// Loads with `call`, under the shell's context, now.
    pub(crate) fn new<F>(call: impl Fn(AuthorizedApi) -> F + Send + Sync + 'static) -> Self
    where
        F: Future<Output = Result<T, ApiError>> + 'static,
    {
        let state = expect_context::<AppState>();
        let data = RwSignal::new(None::<T>);
        let failed = RwSignal::new(None::<String>);
        let reload = Callback::new(move |()| {
            let Some(api) = state.api() else { return };
            task::run(None, call(api), move |outcome| match outcome {
                Ok(d) => {
                    data.set(Some(d));
                    failed.set(None);
                }
                Err(e) => failed.set(Some(state.fail(&e))),
            });
        });
        reload.run(());
        state.when_back(Callback::new(move |()| {
            if failed.with_untracked(Option::is_some) {
                reload.run(());
            }
        }));
        Loaded {
            data,
            failed,
            reload,
        }
    }
}
