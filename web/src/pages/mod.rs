//! One module per screen.
//!
//! - [`auth`]: the Login and Register tabs.
//! - [`dashboard`]: the tabs after login, with [`profile`], [`credentials`],
//!   [`account`] and, for admins and moderators, [`admin`].

pub mod account;
pub mod admin;
pub mod auth;
pub mod credentials;
pub mod dashboard;
pub mod profile;

use leptos::prelude::*;

/// A stored RFC 3339 time for people: `2026-11-24 12:54 UTC`; `never` for none.
pub fn when(t: Option<&str>) -> String {
    match t {
        Some(t) if t.len() >= 16 => format!("{} {} UTC", &t[..10], &t[11..16]),
        Some(t) => t.to_owned(),
        None => "never".into(),
    }
}

/// A tab strip; `tabs` holds (id, label) pairs and `current` the selected id.
#[component]
pub fn Tabs(
    tabs: Signal<Vec<(&'static str, &'static str)>>,
    current: RwSignal<&'static str>,
) -> impl IntoView {
    view! {
        <div class="tabs" role="tablist">
            {move || tabs.get().into_iter().map(|(id, label)| view! {
                <button
                    id=format!("tab-{id}")
                    role="tab"
                    type="button"
                    aria-selected=move || if current.get() == id { "true" } else { "false" }
                    on:click=move |_| current.set(id)
                >{label}</button>
            }).collect_view()}
        </div>
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
