//! The state one form needs: field errors, a result notice, and whether it is
//! busy; how a form runs a call; and the save of one's own record that
//! several forms share.

use crate::api::{ApiError, Proof};
use crate::dom;
use crate::state::{AppState, Notice, Tone};
use crate::task;
use leptos::prelude::*;
use std::collections::HashMap;
use std::future::Future;
use users_protocol::validate::FieldError;
use users_protocol::{Secret, UserUpdate};

#[derive(Clone, Copy)]
pub(crate) struct FormState {
    /// The app's state: a failed call may end the session.
    state: AppState,
    /// The `<form>`'s id: focus moves inside it after a submit.
    pub(crate) id: &'static str,
    /// Errors by protocol field name, so the service's `field` lands on its input.
    pub(crate) errors: RwSignal<HashMap<String, String>>,
    /// The result of the last submit.
    pub(crate) notice: RwSignal<Option<Notice>>,
    /// A request is in flight; the submit button is disabled meanwhile.
    pub(crate) busy: RwSignal<bool>,
}

impl FormState {
    /// A form's state; made inside a component, under the shell's context.
    pub(crate) fn new(id: &'static str) -> Self {
        let state = expect_context::<AppState>();
        let form = FormState {
            state,
            id,
            errors: RwSignal::new(HashMap::new()),
            notice: RwSignal::new(None),
            busy: RwSignal::new(false),
        };
        // Another form's submit takes this one's success away: a page shows
        // the outcome of what was done last, not of everything done on it.
        Effect::new(move |_| {
            if state.acted.get() != id
                && form
                    .notice
                    .with_untracked(|n| n.as_ref().is_some_and(|n| n.tone == Tone::Ok))
            {
                form.notice.set(None);
            }
        });
        form
    }

    /// Clears errors and the notice before a submit.
    pub(crate) fn start(&self) {
        self.errors.set(HashMap::new());
        self.notice.set(None);
        self.state.acted.set(self.id);
    }

    /// Records client-side rule violations; true if there were none.
    pub(crate) fn check(&self, results: impl IntoIterator<Item = Result<(), FieldError>>) -> bool {
        let mut errors = HashMap::new();
        for e in results.into_iter().filter_map(Result::err) {
            errors.entry(e.field.to_owned()).or_insert(e.message);
        }
        let ok = errors.is_empty();
        self.errors.set(errors);
        if !ok {
            self.focus_outcome();
        }
        ok
    }

    /// Moves focus to the first field in error, else to the form's notice:
    /// never back to the page's body.
    pub(crate) fn focus_outcome(&self) {
        let id = self.id;
        dom::focus_later(vec![
            format!("#{id} [aria-invalid=\"true\"]"),
            format!("#{id} .notice"),
        ]);
    }

    /// What confirms this form's change as the signed-in user: their
    /// passkey when the account has no password, else the password typed
    /// in `value`; none, with the field `name` marked, when it is empty.
    pub(crate) fn proof(&self, name: &str, value: RwSignal<String>) -> Option<Proof> {
        if self
            .state
            .session
            .with_untracked(|s| s.as_ref().is_some_and(|s| s.user.passwordless))
        {
            return Some(Proof::Passkey);
        }
        let typed = value.get_untracked();
        if typed.is_empty() {
            self.field_error(name, "Enter your password to confirm");
            return None;
        }
        Some(Proof::Password(Secret::new(typed)))
    }

    /// Shows a success and moves focus to it.
    pub(crate) fn succeed(&self, text: impl Into<String>) {
        self.notice.set(Some(Notice::ok(text)));
        self.focus_outcome();
    }

    /// Marks `field` as wrong, and moves focus to the first field in error.
    pub(crate) fn field_error(&self, field: &str, message: impl Into<String>) {
        self.errors.update(|m| {
            m.insert(field.to_owned(), message.into());
        });
        self.focus_outcome();
    }

    /// Shows a failed call: next to its field when the service named one that
    /// this form has, else as the form's notice.
    pub(crate) fn fail(&self, e: &ApiError, fields: &[&str]) {
        let message = self.state.fail(e);
        match e.field().filter(|f| fields.contains(f)) {
            Some(f) => self.field_error(f, message),
            // The banner says the server is away: the form only says that
            // its request did not go through, without a second alarm.
            None if e.is_transient() => {
                self.notice.set(Some(Notice::info(format!(
                    "Not done: {}",
                    transient_reason(e)
                ))));
                self.focus_outcome();
            }
            None => {
                self.notice.set(Some(Notice::err(message)));
                self.focus_outcome();
            }
        }
    }

    /// [`fail`](Self::fail) for a change: the notice also says that nothing
    /// was changed, so no one wonders whether half of it was.
    pub(crate) fn fail_unchanged(&self, e: &ApiError, fields: &[&str]) {
        self.fail(e, fields);
        self.notice.update(|n| match n {
            Some(n) => n.text.push_str(" Nothing was changed."),
            None => *n = Some(Notice::err("Nothing was changed.")),
        });
    }

    /// Runs `call` with the form busy: `ok` gets a success; a failure shows
    /// on the form, next to one of `fields` when the service names it.
    pub(crate) fn run<T: 'static>(
        self,
        fields: &'static [&'static str],
        call: impl Future<Output = Result<T, ApiError>> + 'static,
        ok: impl FnOnce(T) + 'static,
    ) {
        task::run(Some(self.busy), call, move |outcome| match outcome {
            Ok(value) => ok(value),
            Err(e) => self.fail(&e, fields),
        });
    }
}

/// Sends `update` of one's own record, confirmed with `proof` if it takes
/// one, reporting into `form`: `ok` on success (and `done` runs), the error
/// next to one of `fields` or as the notice.
pub(crate) fn save_own(
    form: FormState,
    (update, proof): (UserUpdate, Option<Proof>),
    fields: &'static [&'static str],
    ok: &'static str,
    done: impl FnOnce() + 'static,
) {
    let state = form.state;
    let Some(api) = state.api() else { return };
    let call = async move {
        match proof {
            Some(proof) => api.update_confirmed(update, proof, None).await,
            None => api.update(update, None).await,
        }
    };
    form.run(fields, call, move |u| {
        state.set_user(u);
        form.succeed(ok);
        done();
    });
}

/// Why a request did not go through, for a form under the banner that says
/// the server is away.
fn transient_reason(e: &ApiError) -> &'static str {
    match e {
        ApiError::Timeout => "the server did not answer in time. Try again.",
        ApiError::Disconnected => "not connected to the server. Try again once it is back.",
        _ => "the service is unavailable. Try again once it is back.",
    }
}
