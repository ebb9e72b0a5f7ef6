//! The shell: the header (navigation, connection, theme, the user), the
//! connection banner, the routes, and the rules every screen follows: a signed-out
//! visitor goes to sign-in and comes back, staff screens are for staff, a notice
//! belongs to one screen, and unsaved edits are not lost without asking.

use crate::api::{self, Conn, UnauthorizedApi};
use crate::dom;
use crate::pages::account::DeleteAccountPage;
use crate::pages::auth::{LoginPage, RegisterPage};
use crate::pages::credentials::CredentialsPage;
use crate::pages::errors::{NotAllowed, NotFound};
use crate::pages::profile::ProfilePage;
use crate::pages::user::UserPage;
use crate::pages::users::UserListPage;
use crate::routes;
use crate::state::{AppState, Notice, Session};
use crate::storage;
use crate::widgets::NoticeView;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::{path, NavigateOptions};
use users_protocol::ErrorCode;

fn replace() -> NavigateOptions {
    NavigateOptions {
        replace: true,
        ..Default::default()
    }
}

#[component]
pub fn App() -> impl IntoView {
    let state = AppState::new();
    provide_context(state);
    api::start(state.conn, state.service_up);
    dom::guard_leaving(
        move || state.dirty.get_untracked(),
        move || state.dirty.set(false),
    );

    // The one owner of token storage: saves on login, forgets on logout. Read
    // before it first runs, so a reload can resume the session.
    let saved = storage::load();
    Effect::new(move |was_logged_in: Option<bool>| {
        let token = state
            .session
            .with(|s| s.as_ref().map(|s| s.api.token().clone()));
        match &token {
            Some(t) => storage::save(t),
            None if was_logged_in == Some(true) => storage::clear(),
            None => {}
        }
        token.is_some()
    });
    if let Some(token) = saved {
        state.resuming.set(true);
        spawn_local(async move {
            match UnauthorizedApi.resume(token).await {
                Ok((api, user)) => state.session.set(Some(Session { api, user })),
                Err(e) if e.code() == Some(ErrorCode::SessionInvalid) => {
                    storage::clear();
                    state.flash_on(
                        routes::LOGIN,
                        Notice::info("Your session has expired. Please log in again."),
                    );
                }
                Err(e) => state.flash_on(routes::LOGIN, Notice::err(e.message())),
            }
            state.resuming.set(false);
        });
    }

    view! {
        <Router>
            <Header/>
            <main id="main">
                <ConnectionBanner/>
                <Flash/>
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=Home/>
                    <Route path=path!("/login") view=LoginPage/>
                    <Route path=path!("/register") view=RegisterPage/>
                    <Route path=path!("/account/profile") view=|| view! { <SignedIn><ProfilePage/></SignedIn> }/>
                    <Route path=path!("/account/credentials") view=|| view! { <SignedIn><CredentialsPage/></SignedIn> }/>
                    <Route path=path!("/account/delete") view=|| view! { <SignedIn><DeleteAccountPage/></SignedIn> }/>
                    <Route path=path!("/admin/users") view=|| view! { <SignedIn><Staff><UserListPage/></Staff></SignedIn> }/>
                    <Route path=path!("/admin/users/:username") view=|| view! { <SignedIn><Staff><UserPage/></Staff></SignedIn> }/>
                </Routes>
            </main>
        </Router>
    }
}

/// `/`: the profile when signed in, else sign-in.
#[component]
fn Home() -> impl IntoView {
    let state = expect_context::<AppState>();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if !state.resuming.get() {
            let signed_in = state.session.with(Option::is_some);
            navigate(
                if signed_in {
                    routes::PROFILE
                } else {
                    routes::LOGIN
                },
                replace(),
            );
        }
    });
}

/// Shows `children` to a signed-in user; sends anyone else to sign-in, with
/// the way back in `?next=`.
#[component]
fn SignedIn(children: ChildrenFn) -> impl IntoView {
    let state = expect_context::<AppState>();
    let location = use_location();
    let navigate = use_navigate();
    let signed_in = Memo::new(move |_| state.session.with(Option::is_some));
    Effect::new(move |_| {
        if state.resuming.get() || signed_in.get() {
            return;
        }
        let path = location.pathname.get_untracked();
        // Logging out has gone to sign-in already.
        if path.starts_with(routes::LOGIN) {
            return;
        }
        let search = location.search.get_untracked();
        let here = match search.trim_start_matches('?') {
            "" => path,
            q => format!("{path}?{q}"),
        };
        navigate(&routes::login_then(&here), replace());
    });
    move || {
        if state.resuming.get() {
            view! { <p class="card narrow" role="status">"Restoring your session…"</p> }.into_any()
        } else if signed_in.get() {
            view! { <section class="card">{children()}</section> }.into_any()
        } else {
            ().into_any()
        }
    }
}

/// Shows `children` to admins and moderators, "not allowed" to anyone else.
#[component]
fn Staff(children: ChildrenFn) -> impl IntoView {
    let state = expect_context::<AppState>();
    let staff = Memo::new(move |_| state.role().is_some_and(|r| r.can_read_all()));
    move || {
        if staff.get() {
            children().into_any()
        } else {
            view! { <NotAllowed/> }.into_any()
        }
    }
}

/// The notice meant for this screen. Leaving the screen drops it, and moving
/// to a new screen moves focus to its title.
#[component]
fn Flash() -> impl IntoView {
    let state = expect_context::<AppState>();
    let location = use_location();
    Effect::new(move |first: Option<()>| {
        let path = location.pathname.get();
        if state
            .flash
            .with_untracked(|f| f.as_ref().is_some_and(|f| f.path != path))
        {
            state.flash.set(None);
        }
        if first.is_some() {
            dom::focus_new_screen();
        }
    });
    let notice = Signal::derive(move || {
        let path = location.pathname.get();
        state.flash.with(|f| {
            f.as_ref()
                .filter(|f| f.path == path)
                .map(|f| f.notice.clone())
        })
    });
    view! { <div id="flash"><NoticeView notice/></div> }
}

#[component]
fn Header() -> impl IntoView {
    let state = expect_context::<AppState>();
    let navigate = use_navigate();
    let busy = RwSignal::new(false);
    let logout = move |_| {
        let Some(api) = state.api() else { return };
        if state.dirty.get_untracked()
            && !dom::confirm("You have unsaved changes. Log out without saving them?")
        {
            return;
        }
        busy.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            // Whatever the service says, the session ends here.
            let _ = api.logout().await;
            busy.set(false);
            navigate(routes::LOGIN, NavigateOptions::default());
            state.end_session(Notice::ok("You have logged out."));
        });
    };
    let conn_label = move || match state.conn.get() {
        Conn::Up => ("conn up", "Connected"),
        Conn::Connecting => ("conn down", "Connecting…"),
        Conn::Down => ("conn down", "Offline"),
    };
    let staff = Memo::new(move |_| state.role().is_some_and(|r| r.can_read_all()));
    let signed_in = Memo::new(move |_| state.session.with(Option::is_some));
    let links = move || {
        if signed_in.get() {
            view! {
                <li><A href=routes::PROFILE attr:id="nav-profile">"Profile"</A></li>
                <li><A href=routes::CREDENTIALS attr:id="nav-credentials">"Credentials"</A></li>
                <li><A href=routes::DELETE_ACCOUNT attr:id="nav-delete">"Delete account"</A></li>
                {move || staff.get().then(|| view! {
                    <li><A href=routes::USERS attr:id="nav-users">"Users"</A></li>
                })}
            }
            .into_any()
        } else {
            view! {
                <li><A href=routes::LOGIN attr:id="nav-login">"Log in"</A></li>
                <li><A href=routes::REGISTER attr:id="nav-register">"Register"</A></li>
            }
            .into_any()
        }
    };
    view! {
        <header class="top">
            <h1><A href="/">"Users"</A></h1>
            <nav aria-label="Main"><ul>{links}</ul></nav>
            <div class="who">
                <span id="conn-state" class=move || conn_label().0>{move || conn_label().1}</span>
                <ThemeToggle/>
                {move || state.session.get().map(|s| view! {
                    <span id="whoami" class="wrap">{s.user.username.clone()} " (" {s.user.role.as_str()} ")"</span>
                })}
                {move || signed_in.get().then(|| view! {
                    <button id="logout" class="secondary" on:click=logout.clone() disabled=move || busy.get()>
                        {move || if busy.get() { "Logging out…" } else { "Log out" }}
                    </button>
                })}
            </div>
        </header>
    }
}

/// Dark or light: follows the system until chosen here, then remembered.
#[component]
fn ThemeToggle() -> impl IntoView {
    let chosen = RwSignal::new(storage::load_theme());
    let system = RwSignal::new(dom::system_prefers_dark());
    dom::watch_system_dark(move |dark| system.set(dark));
    let dark = move || chosen.get().unwrap_or_else(|| system.get());
    let toggle = move |_| {
        let d = !dark();
        storage::save_theme(d);
        dom::set_theme_attr(Some(if d { "dark" } else { "light" }));
        chosen.set(Some(d));
    };
    view! {
        <button id="theme-toggle" class="secondary" type="button"
            aria-pressed=move || if dark() { "true" } else { "false" } on:click=toggle>
            "Dark mode"
        </button>
    }
}

#[component]
fn ConnectionBanner() -> impl IntoView {
    let state = expect_context::<AppState>();
    let notice = Signal::derive(move || match state.conn.get() {
        Conn::Down => Some(Notice::err("Connection to the server lost. Reconnecting…")),
        Conn::Up if !state.service_up.get() => Some(Notice::err(
            "The service is unavailable. Retrying every few seconds…",
        )),
        _ => None,
    });
    view! { <div id="connection-banner"><NoticeView notice/></div> }
}
