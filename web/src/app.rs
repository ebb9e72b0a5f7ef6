//! The shell: the header (navigation, connection, theme, the user), the
//! connection banner, the routes, and the rules every screen follows: a signed-out
//! visitor goes to sign-in and comes back, staff screens are for staff, a notice
//! belongs to one screen, and unsaved edits are not lost without asking.

use crate::api::{self, Conn, UnauthorizedApi};
use crate::dom;
use crate::nav::{self, Location};
use crate::pages::account::DeleteAccountPage;
use crate::pages::audit::AuditPage;
use crate::pages::auth::{LoginPage, RegisterPage};
use crate::pages::credentials::{CredentialsPage, FirstPasswordPage};
use crate::pages::errors::{NotAllowed, NotFound};
use crate::pages::profile::ProfilePage;
use crate::pages::security::SecurityPage;
use crate::pages::user::UserPage;
use crate::pages::users::UserListPage;
use crate::routes::{self, Screen};
use crate::state::{AppState, Notice, Session};
use crate::storage;
use crate::widgets::NoticeView;
use leptos::prelude::*;
use leptos::task::spawn_local;
use users_protocol::ErrorCode;

/// How often a saved session is tried while the server does not answer, two
/// seconds apart.
const RESUME_ATTEMPTS: u32 = 30;

/// How often the session is checked, in milliseconds: one ended elsewhere
/// (signed out from another browser, by an admin, by a password change)
/// takes this page back to sign-in within this long, not at the next click.
const SESSION_CHECK_MS: u32 = 5_000;

#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn App() -> impl IntoView {
    let state = AppState::new();
    provide_context(state);
    api::start(state.conn, state.service_up);
    // Where the unsaved edits are, to return to if the user refuses to leave.
    let dirty_at = StoredValue::new(None::<String>);
    Effect::new(move |_| {
        if state.dirty.get() {
            dirty_at.set_value(dom::current_address());
        }
    });
    dom::guard_leaving(
        move || state.dirty.get_untracked(),
        move || state.dirty.set(false),
        move || dirty_at.get_value(),
    );
    // After the guard: its listener must see a step back first (a click it
    // sees first anyway, in the capture phase).
    Location::start();

    // The one owner of token storage: saves on login, forgets on logout. Read
    // before it first runs, so a reload can resume the session.
    let saved = storage::load();
    Effect::new(move |was_logged_in: Option<bool>| {
        let token = state.session.with(|s| {
            s.as_ref()
                .map(|s| (s.api.token().clone(), s.must_change_password))
        });
        match &token {
            Some((t, must_change)) => storage::save(t, *must_change),
            None if was_logged_in == Some(true) => storage::clear(),
            None => {}
        }
        token.is_some()
    });
    if let Some((token, must_change_password)) = saved {
        state.resuming.set(true);
        spawn_local(async move {
            // A reload while the server is away waits for it: the token may
            // well be good. Only the service's verdict ends the session.
            // A session made by signing in meanwhile wins: the old token's
            // answer, whatever it is, is then dropped.
            let signed_in = move || state.session.with_untracked(Option::is_some);
            let mut attempts = 0;
            let outcome = loop {
                let outcome = UnauthorizedApi.resume(token.clone()).await;
                attempts += 1;
                match &outcome {
                    _ if signed_in() => {
                        state.resuming.set(false);
                        return;
                    }
                    Err(e) if e.is_transient() && attempts < RESUME_ATTEMPTS => {
                        gloo_timers::future::TimeoutFuture::new(2_000).await;
                    }
                    _ => break outcome,
                }
            };
            match outcome {
                Ok((api, user)) => state.session.set(Some(Session {
                    api,
                    user,
                    must_change_password,
                })),
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

    spawn_local(async move {
        loop {
            gloo_timers::future::TimeoutFuture::new(SESSION_CHECK_MS).await;
            let Some(api) = state.api().filter(|_| !state.resuming.get_untracked()) else {
                continue;
            };
            let still = || state.api().as_ref() == Some(&api);
            // session_status, not get_user: checking is not using, so an
            // open tab does not keep its session from the idle timeout.
            match api.still_valid().await {
                Err(e) if still() && e.code() == Some(ErrorCode::SessionInvalid) => {
                    state.fail(&e);
                }
                _ => {}
            }
        }
    });

    view! {
        <Header/>
        <main id="main">
            <ConnectionBanner/>
            <Flash/>
            <Screens/>
        </main>
    }
}

/// The screen for the current path, behind the guards it needs: a signed-out
/// visitor goes to sign-in, with the way back in `?next=`; staff screens show
/// "not allowed" to anyone else, and ask the service for nothing. One match on
/// [`Screen`]: a router's route matching would add a sixth to the wasm for
/// what these few fixed paths need.
#[component]
fn Screens() -> impl IntoView {
    let state = expect_context::<AppState>();
    let location = nav::location();
    let screen = Memo::new(move |_| Screen::parse(&location.path.get()));
    // Memos, so that updating the user does not rebuild the screen.
    let signed_in = Memo::new(move |_| state.session.with(Option::is_some));
    let staff = Memo::new(move |_| state.is_staff());
    let must_change = Memo::new(move |_| {
        state
            .session
            .with(|s| s.as_ref().is_some_and(|s| s.must_change_password))
    });
    Effect::new(move |_| {
        if state.resuming.get() || signed_in.get() || !screen.get().needs_session() {
            return;
        }
        let search = location.search.get_untracked();
        let here = match search.trim_start_matches('?') {
            "" => location.path.get_untracked(),
            q => format!("{}?{q}", location.path.get_untracked()),
        };
        location.navigate(&routes::login_then(&here), true);
    });
    move || {
        let s = screen.get();
        if s.needs_session() {
            if state.resuming.get() {
                return view! { <p class="card narrow" role="status">"Restoring your session…"</p> }
                    .into_any();
            }
            if !signed_in.get() {
                return ().into_any();
            }
            if s.staff_only() && !staff.get() {
                return view! { <section class="card"><NotAllowed/></section> }.into_any();
            }
        }
        // The first admin's default password is changed before anything else.
        if must_change.get() && !matches!(s, Screen::Login | Screen::Register) {
            return view! { <section class="card narrow"><FirstPasswordPage/></section> }
                .into_any();
        }
        let card = s.needs_session();
        let page = match s {
            Screen::Home => view! { <Home/> }.into_any(),
            Screen::Login => view! { <LoginPage/> }.into_any(),
            Screen::Register => view! { <RegisterPage/> }.into_any(),
            Screen::Profile => view! { <ProfilePage/> }.into_any(),
            Screen::Credentials => view! { <CredentialsPage/> }.into_any(),
            Screen::DeleteAccount => view! { <DeleteAccountPage/> }.into_any(),
            Screen::Security => view! { <SecurityPage/> }.into_any(),
            Screen::Users => view! { <UserListPage/> }.into_any(),
            Screen::Audit => view! { <AuditPage/> }.into_any(),
            Screen::User(name) => view! { <UserPage name/> }.into_any(),
            Screen::NotFound => return view! { <NotFound/> }.into_any(),
        };
        // Signed-in screens sit on one card; sign-in and register have their own.
        if card {
            view! { <section class="card">{page}</section> }.into_any()
        } else {
            page
        }
    }
}

/// `/`: the profile when signed in, else sign-in.
#[component]
fn Home() -> impl IntoView {
    let state = expect_context::<AppState>();
    let location = nav::location();
    Effect::new(move |_| {
        if !state.resuming.get() {
            let signed_in = state.session.with(Option::is_some);
            location.navigate(
                if signed_in {
                    routes::PROFILE
                } else {
                    routes::LOGIN
                },
                true,
            );
        }
    });
}

/// The notice meant for this screen. Leaving the screen drops it, and moving
/// to a new screen moves focus to its title.
#[component]
fn Flash() -> impl IntoView {
    let state = expect_context::<AppState>();
    let location = nav::location();
    Effect::new(move |first: Option<()>| {
        let path = location.path.get();
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
        let path = location.path.get();
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
    let location = nav::location();
    let busy = RwSignal::new(false);
    let logout = move |_| {
        let Some(api) = state.api() else { return };
        if state.dirty.get_untracked()
            && !dom::confirm("You have unsaved changes. Log out without saving them?")
        {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            // Whatever the service says, the session ends here.
            let _ = api.logout().await;
            busy.set(false);
            location.navigate(routes::LOGIN, false);
            state.end_session(Notice::ok("You have logged out."));
        });
    };
    let conn_label = move || match state.conn.get() {
        Conn::Up => ("conn up", "Connected"),
        Conn::Connecting => ("conn down", "Connecting…"),
        Conn::Down => ("conn down", "Offline"),
    };
    let staff = Memo::new(move |_| state.is_staff());
    let signed_in = Memo::new(move |_| state.session.with(Option::is_some));
    // A link of the navigation, marked when its screen, or one below it, shows.
    let link = move |href: &'static str, id: &'static str, label: &'static str| {
        let current = move || {
            let path = location.path.get();
            let here = path == href || path.strip_prefix(href).is_some_and(|r| r.starts_with('/'));
            here.then_some("page")
        };
        view! { <li><a href=href id=id aria-current=current>{label}</a></li> }
    };
    let links = move || {
        if signed_in.get() {
            view! {
                {link(routes::PROFILE, "nav-profile", "Profile")}
                {link(routes::CREDENTIALS, "nav-credentials", "Credentials")}
                {link(routes::SECURITY, "nav-security", "Security")}
                {link(routes::DELETE_ACCOUNT, "nav-delete", "Delete account")}
                {move || staff.get().then(|| link(routes::USERS, "nav-users", "Users"))}
                {move || staff.get().then(|| link(routes::AUDIT, "nav-audit", "Audit"))}
            }
            .into_any()
        } else {
            view! {
                {link(routes::LOGIN, "nav-login", "Log in")}
                {link(routes::REGISTER, "nav-register", "Register")}
            }
            .into_any()
        }
    };
    view! {
        <header class="top">
            <h1><a href=move || if signed_in.get() { routes::PROFILE } else { routes::LOGIN }>"Users"</a></h1>
            <nav aria-label="Main"><ul>{links}</ul></nav>
            <div class="who">
                <span id="conn-state" class=move || conn_label().0>{move || conn_label().1}</span>
                <ThemeToggle/>
                {move || state.session.get().map(|s| view! {
                    <span id="whoami" class="wrap">{s.user.username.clone()} " (" {s.user.role.as_str()} ")"</span>
                })}
                {move || signed_in.get().then(|| view! {
                    <button id="logout" class="secondary" on:click=logout disabled=move || busy.get()>
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
    // Once the connection has been up, every state short of up is one
    // reconnection: the message stays put instead of coming and going (and
    // being announced again) with each attempt.
    let was_up = Memo::new(move |before: Option<&bool>| {
        before.copied().unwrap_or(false) || state.conn.get() != Conn::Connecting
    });
    let notice = Signal::derive(move || match state.conn.get() {
        Conn::Down | Conn::Connecting if was_up.get() => {
            Some(Notice::err("Connection to the server lost. Reconnecting…"))
        }
        Conn::Up if !state.service_up.get() => Some(Notice::err(
            "The service is unavailable. Retrying every few seconds…",
        )),
        _ => None,
    });
    view! { <div id="connection-banner"><NoticeView notice/></div> }
}
