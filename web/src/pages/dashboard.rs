//! The tabs after login.

use crate::pages::account::AccountTab;
use crate::pages::admin::AdminPanel;
use crate::pages::credentials::CredentialsTab;
use crate::pages::profile::ProfileTab;
use crate::state::AppState;
use crate::widgets::{TabId, Tabs};
use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Profile,
    Credentials,
    Account,
    /// Admins and moderators only.
    Admin,
}

impl Tab {
    const ALL: [Tab; 4] = [Tab::Profile, Tab::Credentials, Tab::Account, Tab::Admin];

    /// The tabs a user sees, in order.
    fn visible(can_admin: bool) -> Vec<Tab> {
        Tab::ALL
            .into_iter()
            .filter(|&t| t != Tab::Admin || can_admin)
            .collect()
    }
}

impl TabId for Tab {
    fn id(self) -> &'static str {
        match self {
            Tab::Profile => "profile",
            Tab::Credentials => "credentials",
            Tab::Account => "account",
            Tab::Admin => "admin",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::Profile => "Profile",
            Tab::Credentials => "Credentials",
            Tab::Account => "Account",
            Tab::Admin => "Admin",
        }
    }
}

/// The logged-in screen.
#[component]
pub fn Dashboard() -> impl IntoView {
    let state = expect_context::<AppState>();
    let tab = RwSignal::new(Tab::Profile);
    let can_admin = Memo::new(move |_| {
        state
            .session
            .with(|s| s.as_ref().is_some_and(|s| s.user.role.can_read_all()))
    });
    let tabs = Signal::derive(move || Tab::visible(can_admin.get()));
    view! {
        <section class="card">
            <Tabs tabs current=tab/>
            {move || match tab.get() {
                Tab::Credentials => view! { <CredentialsTab/> }.into_any(),
                Tab::Account => view! { <AccountTab/> }.into_any(),
                // A user who lost the role keeps the tab selected but sees the profile.
                Tab::Admin if can_admin.get() => view! { <AdminPanel/> }.into_any(),
                Tab::Admin | Tab::Profile => view! { <ProfileTab/> }.into_any(),
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_and_moderators_see_the_admin_tab() {
        let ids = |v: Vec<Tab>| v.into_iter().map(Tab::id).collect::<Vec<_>>();
        assert_eq!(
            ids(Tab::visible(false)),
            ["profile", "credentials", "account"]
        );
        assert_eq!(
            ids(Tab::visible(true)),
            ["profile", "credentials", "account", "admin"]
        );
    }
}
