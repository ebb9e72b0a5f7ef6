//! Labelled fields that show their own error, and the state one form needs:
//! field errors, a result notice, and whether it is busy.

use crate::api::ApiError;
use crate::app::AppState;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::HashMap;
use users_protocol::validate::FieldError;
use users_protocol::UserUpdate;

/// Kind of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Success.
    Ok,
    /// Failure.
    Err,
    /// Information.
    Info,
}

/// A message above or below a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Kind.
    pub tone: Tone,
    /// Text.
    pub text: String,
}

impl Notice {
    /// A success notice.
    pub fn ok(text: impl Into<String>) -> Self {
        Notice {
            tone: Tone::Ok,
            text: text.into(),
        }
    }
    /// A failure notice.
    pub fn err(text: impl Into<String>) -> Self {
        Notice {
            tone: Tone::Err,
            text: text.into(),
        }
    }
    /// An informational notice.
    pub fn info(text: impl Into<String>) -> Self {
        Notice {
            tone: Tone::Info,
            text: text.into(),
        }
    }
}

/// Renders a notice, if any, as a live region.
#[component]
pub fn NoticeView(#[prop(into)] notice: Signal<Option<Notice>>) -> impl IntoView {
    move || {
        notice.get().map(|n| {
            let class = match n.tone {
                Tone::Ok => "notice ok",
                Tone::Err => "notice err",
                Tone::Info => "notice info",
            };
            let role = if n.tone == Tone::Err {
                "alert"
            } else {
                "status"
            };
            view! { <p class=class role=role>{n.text}</p> }
        })
    }
}

/// The state of one form.
#[derive(Clone, Copy)]
pub struct FormState {
    /// Errors by protocol field name.
    pub errors: RwSignal<HashMap<String, String>>,
    /// The result of the last submit.
    pub notice: RwSignal<Option<Notice>>,
    /// A request is in flight.
    pub busy: RwSignal<bool>,
}

impl FormState {
    /// Empty.
    pub fn new() -> Self {
        FormState {
            errors: RwSignal::new(HashMap::new()),
            notice: RwSignal::new(None),
            busy: RwSignal::new(false),
        }
    }

    /// Clears errors and the notice before a submit.
    pub fn start(&self) {
        self.errors.set(HashMap::new());
        self.notice.set(None);
    }

    /// Records client-side rule violations; true if there were none.
    pub fn check(&self, results: impl IntoIterator<Item = Result<(), FieldError>>) -> bool {
        let mut errors = HashMap::new();
        for e in results.into_iter().filter_map(Result::err) {
            errors.entry(e.field.to_owned()).or_insert(e.message);
        }
        let ok = errors.is_empty();
        self.errors.set(errors);
        ok
    }

    /// Sets one field's error.
    pub fn field_error(&self, field: &str, message: impl Into<String>) {
        self.errors.update(|m| {
            m.insert(field.to_owned(), message.into());
        });
    }

    /// Shows a failed call: next to its field when the service named one that
    /// this form has, else as the form's notice.
    pub fn fail(&self, state: AppState, e: &ApiError, fields: &[&str]) {
        let message = state.fail(e);
        match e.field().filter(|f| fields.contains(f)) {
            Some(f) => self.field_error(f, message),
            None => self.notice.set(Some(Notice::err(message))),
        }
    }
}

/// Sends `update` of one's own record, reporting into `form`: `ok` on success
/// (and `done` runs), the error next to one of `fields` or as the notice.
pub fn save_own(
    state: AppState,
    form: FormState,
    update: UserUpdate,
    fields: Vec<&'static str>,
    ok: &'static str,
    done: impl FnOnce() + 'static,
) {
    let Some(api) = state.api() else { return };
    form.busy.set(true);
    spawn_local(async move {
        match api.update(update, None).await {
            Ok(u) => {
                state.set_user(u);
                form.notice.set(Some(Notice::ok(ok)));
                done();
            }
            Err(e) => form.fail(state, &e, &fields),
        }
        form.busy.set(false);
    });
}

/// A labelled input whose error, when it has one, shows beneath it.
#[component]
pub fn Field(
    /// Element id (unique on the page).
    id: &'static str,
    /// Protocol field name, for errors.
    name: &'static str,
    /// Visible label.
    label: &'static str,
    /// The value.
    value: RwSignal<String>,
    /// The form this belongs to.
    form: FormState,
    /// Input type.
    #[prop(default = "text")]
    kind: &'static str,
    /// Autocomplete hint.
    #[prop(default = "off")]
    autocomplete: &'static str,
) -> impl IntoView {
    let error = move || form.errors.with(|m| m.get(name).cloned());
    let err_id = format!("{id}-error");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || if error().is_some() { "true" } else { "false" }
                aria-describedby=err_id.clone()
            />
            <p class="error" id=err_id>{error}</p>
        </div>
    }
}
