//! The screens a signed-out visitor never sees, downloaded the first time one
//! is shown, in three groups: the account's (where sign-in lands), the
//! Security page (two-factor login, passkeys, sessions: the largest of them),
//! and the staff's. `scripts/build-web` builds with the `split` feature: each
//! `*_part` function below is then a split point, and wasm-split
//! (`scripts/bundle-web`) moves it and the code only it needs into a wasm
//! file of its own, fetched when the function is first called. Code that
//! several need goes into shared files, fetched with the first that needs
//! it. Builds without the feature (tests, `trunk serve`) link everything in
//! as usual.
//!
//! The sign-in, registration, invitation and recovery screens stay in the
//! first download: they are what a visitor opens first.

use crate::dom;
use crate::pages::account::DeleteAccountPage;
use crate::pages::audit::AuditPage;
use crate::pages::credentials::CredentialsPage;
use crate::pages::errors::NotFound;
use crate::pages::invitations::InvitationsPage;
use crate::pages::profile::ProfilePage;
use crate::pages::security::SecurityPage;
use crate::pages::user::UserPage;
use crate::pages::users::UserListPage;
use crate::routes::Screen;
use crate::widgets::LoadFailed;
use leptos::prelude::*;
use leptos::task::spawn_local_scoped_with_cancellation;
use std::future::Future;

/// A part of the app that could not be downloaded: the network failed, or
/// the server now has a newer build, whose parts have other names.
pub(crate) struct NotLoaded;

impl From<wasm_split_helpers::SplitLoaderError> for NotLoaded {
    fn from(_: wasm_split_helpers::SplitLoaderError) -> Self {
        NotLoaded
    }
}

/// Calls a split point: with the `split` feature it is async, downloading
/// its part first; without, a plain call.
macro_rules! part {
    ($call:expr) => {{
        #[cfg(feature = "split")]
        let view = $call.await;
        #[cfg(not(feature = "split"))]
        let view = $call;
        view
    }};
}

/// The account's own screens but Security: one download for the three.
pub(crate) async fn account(screen: Screen) -> Result<AnyView, NotLoaded> {
    part!(account_part(screen))
}

/// The Security page: two-factor login, passkeys, sessions.
pub(crate) async fn security() -> Result<AnyView, NotLoaded> {
    part!(security_part())
}

/// The staff's screens, `/admin/...`: one download for the four.
pub(crate) async fn admin(screen: Screen) -> Result<AnyView, NotLoaded> {
    part!(admin_part(screen))
}

// `fallible`: a failed download is an `Err` (and tried afresh next time),
// not a panic, which would stop the app.
#[cfg_attr(feature = "split", wasm_split_helpers::wasm_split(account, fallible))]
fn account_part(screen: Screen) -> Result<AnyView, NotLoaded> {
    Ok(match screen {
        Screen::Profile => view! { <ProfilePage/> }.into_any(),
        Screen::Credentials => view! { <CredentialsPage/> }.into_any(),
        Screen::DeleteAccount => view! { <DeleteAccountPage/> }.into_any(),
        // Not an account screen: the caller sends only those.
        _ => view! { <NotFound/> }.into_any(),
    })
}

#[cfg_attr(feature = "split", wasm_split_helpers::wasm_split(security, fallible))]
fn security_part() -> Result<AnyView, NotLoaded> {
    Ok(view! { <SecurityPage/> }.into_any())
}

#[cfg_attr(feature = "split", wasm_split_helpers::wasm_split(admin, fallible))]
fn admin_part(screen: Screen) -> Result<AnyView, NotLoaded> {
    Ok(match screen {
        Screen::Users => view! { <UserListPage/> }.into_any(),
        Screen::Audit => view! { <AuditPage/> }.into_any(),
        Screen::User(name) => view! { <UserPage name/> }.into_any(),
        Screen::Invitations => view! { <InvitationsPage/> }.into_any(),
        // Not a staff screen: the caller sends only those.
        _ => view! { <NotFound/> }.into_any(),
    })
}

/// A screen whose code may still have to be downloaded: "Loading…" until it
/// is there, then the screen, with focus on its title as for any new screen.
///
/// The screen is built under the caller's owner, as if built in place: it is
/// disposed of with it, and the download is dropped if that comes first.
/// `<Suspense>` would build it under an owner of its own, whose disposal
/// lags behind the screen's effects (a session ended elsewhere then reads a
/// disposed signal).
pub(crate) fn shown(load: impl Future<Output = Result<AnyView, NotLoaded>> + 'static) -> AnyView {
    let page = RwSignal::new_local(None::<AnyView>);
    // Untracked: what the screen reads while it is built is its own business,
    // not the caller's.
    untrack(|| {
        spawn_local_scoped_with_cancellation(async move {
            page.set(Some(load.await.unwrap_or_else(|NotLoaded| {
                // Reloading takes the page and its parts afresh from the server.
                let retry = Callback::new(|()| dom::reload());
                view! {
                    <LoadFailed id="screen-retry" what="this screen" retry
                        message="The network failed, or the app has been updated.".to_owned()/>
                }
                .into_any()
            })));
            dom::focus_new_screen();
        })
    });
    (move || {
        page.track();
        // Taken without notifying: the view moves into the page once. Only
        // `page` re-runs this closure, and it is set once.
        page.try_update_untracked(Option::take)
            .flatten()
            .unwrap_or_else(|| view! { <p class="muted" role="status">"Loading…"</p> }.into_any())
    })
    .into_any()
}
