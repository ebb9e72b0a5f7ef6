//! Small view pieces the pages share: notices, labelled fields, the tab strip,
//! and times for people.

use crate::forms::FormState;
use crate::state::{Notice, Tone};
use leptos::prelude::*;

/// Renders a notice, if any, as a live region: errors interrupt a screen
/// reader (`alert`), the rest wait their turn (`status`).
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

/// A labelled input whose error, when it has one, shows beneath it.
#[component]
pub fn Field(
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
) -> impl IntoView {
    let error = move || form.errors.with(|m| m.get(name).cloned());
    let err_id = format!("{id}-error");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
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

/// One tab of a [`Tabs`] strip.
pub trait TabId: Copy + PartialEq + Send + Sync + 'static {
    /// Names the button `tab-{id}`: the end-to-end tests click it by that id.
    fn id(self) -> &'static str;
    fn label(self) -> &'static str;
}

/// A tab strip showing `tabs`, `current` selected.
#[component]
pub fn Tabs<T: TabId>(#[prop(into)] tabs: Signal<Vec<T>>, current: RwSignal<T>) -> impl IntoView {
    view! {
        <div class="tabs" role="tablist">
            {move || tabs.get().into_iter().map(|tab| view! {
                <button
                    id=format!("tab-{}", tab.id())
                    role="tab"
                    type="button"
                    aria-selected=move || if current.get() == tab { "true" } else { "false" }
                    on:click=move |_| current.set(tab)
                >{tab.label()}</button>
            }).collect_view()}
        </div>
    }
}

/// A stored RFC 3339 time for people: `2026-11-24 12:54 UTC`; `never` for none.
pub fn when(t: Option<&str>) -> String {
    match t {
        Some(t) if t.len() >= 16 => format!("{} {} UTC", &t[..10], &t[11..16]),
        Some(t) => t.to_owned(),
        None => "never".into(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_for_people() {
        assert_eq!(
            super::when(Some("2026-11-24T12:54:27Z")),
            "2026-11-24 12:54 UTC"
        );
        assert_eq!(super::when(None), "never");
    }
}
