//! The tabs after login.

use super::{
    account::AccountTab, admin::AdminPanel, credentials::CredentialsTab, profile::ProfileTab, Tabs,
};
use crate::app::AppState;
use leptos::prelude::*;

/// The logged-in screen.
#[component]
pub fn Dashboard() -> impl IntoView {
    let state = expect_context::<AppState>();
    let tab = RwSignal::new("profile");
    let can_admin = Memo::new(move |_| {
        state
            .session
            .with(|s| s.as_ref().is_some_and(|s| s.user.role.can_read_all()))
    });
    let tabs = Signal::derive(move || {
        let mut t = vec![
            ("profile", "Profile"),
            ("credentials", "Credentials"),
            ("account", "Account"),
        ];
        if can_admin.get() {
            t.push(("admin", "Admin"));
        }
        t
    });
    view! {
        <section class="card">
            <Tabs tabs current=tab/>
            {move || match tab.get() {
                "credentials" => view! { <CredentialsTab/> }.into_any(),
                "account" => view! { <AccountTab/> }.into_any(),
                "admin" if can_admin.get() => view! { <AdminPanel/> }.into_any(),
                _ => view! { <ProfileTab/> }.into_any(),
            }}
        </section>
    }
}
