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

/// A tab strip; `tabs` holds (id, label) pairs and `current` the selected id.
#[component]
pub fn Tabs(tabs: Signal<Vec<(&'static str, &'static str)>>, current: RwSignal<&'static str>) -> impl IntoView {
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
