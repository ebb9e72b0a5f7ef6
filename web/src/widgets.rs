//! Small view pieces the pages share: notices, labelled fields, times for
//! people, and the password strength hint.

use crate::forms::FormState;
use crate::state::{Notice, Tone};
use leptos::prelude::*;
use users_protocol::validate;

/// Renders a notice, if any, in a live region that is always on the page (so
/// that screen readers announce what appears in it): errors in an `alert`, the
/// rest in a `status`.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn NoticeView(#[prop(into)] notice: Signal<Option<Notice>>) -> impl IntoView {
    let shown = move |err: bool| {
        notice
            .get()
            .filter(|n| (n.tone == Tone::Err) == err)
            .map(|n| {
                let class = match n.tone {
                    Tone::Ok => "notice ok",
                    Tone::Err => "notice err",
                    Tone::Info => "notice info",
                };
                // Focusable, so that focus can be moved to the outcome of an action.
                view! { <p class=class tabindex="-1">{n.text}</p> }
            })
    };
    view! {
        <div role="status" class="live">{move || shown(false)}</div>
        <div role="alert" class="live">{move || shown(true)}</div>
    }
}

/// A labelled input whose error, when it has one, shows beneath it and is tied
/// to it (`aria-describedby`, `aria-invalid`). A password input gets a Show
/// toggle button (`aria-pressed`), which reveals it as text until pressed
/// again; its name starts with its visible text.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn Field(
    /// Element id (unique on the page).
    #[prop(into)]
    id: String,
    /// Protocol field name: the form's errors are keyed by it.
    name: &'static str,
    #[prop(into)] label: String,
    value: RwSignal<String>,
    form: FormState,
    /// The input's `type`.
    #[prop(default = "text")]
    kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    /// The id of a hint that describes the field too, such as a strength hint.
    #[prop(optional)]
    hint: Option<&'static str>,
) -> impl IntoView {
    let error = move || form.errors.with(|m| m.get(name).cloned());
    let err_id = format!("{id}-error");
    let described_by = match hint {
        Some(h) => format!("{err_id} {h}"),
        None => err_id.clone(),
    };
    let shown = RwSignal::new(false);
    let input_type = move || {
        if kind == "password" && shown.get() {
            "text"
        } else {
            kind
        }
    };
    let toggle = (kind == "password").then(|| {
        view! {
            <button type="button" class="secondary reveal" id=format!("{id}-show")
                aria-controls=id.clone()
                aria-pressed=move || if shown.get() { "true" } else { "false" }
                on:click=move |_| shown.update(|s| *s = !*s)>
                "Show"<span class="visually-hidden">{format!(" {}", label.to_lowercase())}</span>
            </button>
        }
    });
    view! {
        <div class="field">
            <label for=id.clone()>{label.clone()}</label>
            <div class="input-row">
                <input
                    id=id.clone()
                    name=name
                    type=input_type
                    autocomplete=autocomplete
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                    aria-invalid=move || if error().is_some() { "true" } else { "false" }
                    aria-describedby=described_by
                />
                {toggle}
            </div>
            <p class="error" id=err_id>{error}</p>
        </div>
    }
}

/// A stored RFC 3339 time for people: `2026-11-24 12:54 UTC`; `never` for none.
pub(crate) fn when(t: Option<&str>) -> String {
    match t {
        Some(t) if t.len() >= 16 => format!("{} {} UTC", &t[..10], &t[11..16]),
        Some(t) => t.to_owned(),
        None => "never".into(),
    }
}

/// The day of a stored RFC 3339 time, for narrow columns: `2026-11-24`.
pub(crate) fn day(t: Option<&str>) -> String {
    match t {
        Some(t) if t.len() >= 10 => t[..10].to_owned(),
        other => when(other),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_for_narrow_columns() {
        assert_eq!(super::day(Some("2026-11-24T12:54:27Z")), "2026-11-24");
        assert_eq!(super::day(None), "never");
    }

    #[test]
    fn times_for_people() {
        assert_eq!(
            super::when(Some("2026-11-24T12:54:27Z")),
            "2026-11-24 12:54 UTC"
        );
        assert_eq!(super::when(None), "never");
    }
}

/// The strength hint under a new password, updated while typing. A hint
/// only: the service's rules decide.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn StrengthHint(
    id: &'static str,
    #[prop(into)] password: Signal<String>,
    /// The account's username and email: a password holding them is weak.
    #[prop(into)]
    names: Signal<Vec<String>>,
) -> impl IntoView {
    let text = move || {
        let p = password.get();
        if p.is_empty() {
            return String::new();
        }
        let names = names.get();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let s = users_protocol::strength::strength(&p, &names, validate::PASSWORD_MIN_DEFAULT);
        format!("Strength: {}", s.hint())
    };
    // Tied to its field by `aria-describedby` (the field's `hint`), not a
    // live region: it is read with the field, not at every keystroke.
    view! { <p id=id class="hint">{text}</p> }
}
