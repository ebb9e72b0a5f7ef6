//! The shell: the header, the connection banner, the routes, and the rules
//! every screen follows: a signed-out visitor goes to sign-in and comes back,
//! staff screens are for staff, a notice belongs to one screen, and unsaved
//! edits are not lost without asking. It also keeps the session: stored for a
//! reload, resumed after one, and checked for an end elsewhere.

use crate::api::{self, ApiError, AuthorizedApi, Conn, UnauthorizedApi};
use crate::dom;
use crate::header::Header;
use crate::lazy::{self, shown};
use crate::nav::{self, Location};
use crate::pages::auth::LoginPage;
use crate::pages::credentials::FirstPasswordPage;
use crate::pages::errors::{NotAllowed, NotFound};
use crate::pages::register::RegisterPage;
use crate::pages::reset::ResetPage;
use crate::routes::{self, Screen};
use crate::state::{AppState, Notice, Session};
use crate::storage;
use crate::task;
use crate::widgets::NoticeView;
use leptos::prelude::*;
use leptos::task::spawn_local;
use users_protocol::{ErrorCode, Secret, UserView};

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
    guard_unsaved_edits(state);
    // After the guard: its listener must see a step back first (a click it
    // sees first anyway, in the capture phase).
    Location::start();
    // Read before the storing effect first runs, so a reload can resume it.
    let saved = storage::load();
    store_session(state);
    if let Some((token, must_change_password)) = saved {
        resume(state, token, must_change_password);
    }
    watch_session(state);
    count_comebacks(state);
    // Notices are as wide as the screen's card: narrow over sign-in's.
    let location = nav::location();
    let narrow = move || {
        let s = Screen::parse(&location.path.get());
        !s.needs_session() || state.resuming.get()
    };
    view! {
        <Header/>
        <main id="main">
            <div class=move || if narrow() { "notices narrow" } else { "notices" }>
                <ConnectionBanner/>
                <Flash/>
            </div>
            <Screens/>
        </main>
    }
}

/// Counts each time the server can be reached again after it could not
/// (the connection back, or the service answering again), in
/// [`AppState::back`]: screens whose load failed then try again.
fn count_comebacks(state: AppState) {
    let reachable = Memo::new(move |_| state.conn.get() == Conn::Up && state.service_up.get());
    Effect::new(move |before: Option<bool>| {
        let now = reachable.get();
        if before == Some(false) && now {
            state.back.update(|n| *n += 1);
        }
        now
    });
}

/// Leaving a screen with unsaved edits, by a link, Back or Forward, or by
/// closing the tab, asks first.
fn guard_unsaved_edits(state: AppState) {
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
}

/// The one owner of token storage: saves on login, forgets on logout.
fn store_session(state: AppState) {
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
}

/// Picks up the session saved before a reload; no screen that needs one
/// shows until the service has answered.
fn resume(state: AppState, token: Secret, must_change_password: bool) {
    let signed_in = move || state.session.with_untracked(Option::is_some);
    let answer = resume_when_answered(token, signed_in);
    task::run(Some(state.resuming), answer, move |answer| match answer {
        None => {}
        Some(Ok((api, user))) => state.session.set(Some(Session {
            api,
            user,
            must_change_password,
        })),
        Some(Err(e)) if e.code() == Some(ErrorCode::SessionInvalid) => {
            storage::clear();
            state.flash_on(
                Screen::Login,
                Notice::info("Your session has expired. Please log in again."),
            );
        }
        Some(Err(e)) => state.flash_on(Screen::Login, Notice::err(e.message())),
    });
}

/// The service's verdict on a saved token. A reload while the server is away
/// waits for it: the token may well be good, and only the service's verdict
/// ends the session. None when the visitor has signed in meanwhile: that
/// session wins, and the old token's answer, whatever it is, is dropped.
async fn resume_when_answered(
    token: Secret,
    signed_in: impl Fn() -> bool,
) -> Option<Result<(AuthorizedApi, UserView), ApiError>> {
    let mut attempts = 0;
    loop {
        let outcome = UnauthorizedApi.resume(token.clone()).await;
        attempts += 1;
        match &outcome {
            _ if signed_in() => return None,
            Err(e) if e.is_transient() && attempts < RESUME_ATTEMPTS => {
                gloo_timers::future::TimeoutFuture::new(2_000).await;
            }
            _ => return Some(outcome),
        }
    }
}

/// Checks the session every few seconds for the life of the page, so that
/// one ended elsewhere takes the page back to sign-in.
fn watch_session(state: AppState) {
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
    let admin = Memo::new(move |_| state.is_admin());
    let must_change = Memo::new(move |_| {
        state
            .session
            .with(|s| s.as_ref().is_some_and(|s| s.must_change_password))
    });
    send_visitors_to_sign_in(screen, signed_in);
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
            if (s.staff_only() && !staff.get()) || (s.admin_only() && !admin.get()) {
                return view! { <section class="card"><NotAllowed/></section> }.into_any();
            }
        }
        // The first admin's default password is changed before anything else.
        if must_change.get() && !matches!(s, Screen::Login | Screen::Register) {
            return view! { <section class="card narrow"><FirstPasswordPage/></section> }
                .into_any();
        }
        if let Some(title) = s.title() {
            dom::set_title(&title);
        }
        // Signed-in screens sit on one card; the others have their own.
        if s.needs_session() {
            view! { <section class="card">{page(s)}</section> }.into_any()
        } else {
            page(s)
        }
    }
}

/// The one match from a screen to its page: the compiler asks for a new
/// screen's view here. Signed-in screens are downloaded when first shown
/// ([`crate::lazy`]).
fn page(screen: Screen) -> AnyView {
    match screen {
        Screen::Home => view! { <Home/> }.into_any(),
        Screen::Login => view! { <LoginPage/> }.into_any(),
        Screen::Register => view! { <RegisterPage/> }.into_any(),
        Screen::Reset(token) => view! { <ResetPage token/> }.into_any(),
        Screen::Security => shown(lazy::security()),
        s @ (Screen::Profile | Screen::Credentials | Screen::DeleteAccount) => {
            shown(lazy::account(s))
        }
        s @ (Screen::Users | Screen::Audit | Screen::User(_) | Screen::Invitations) => {
            shown(lazy::admin(s))
        }
        Screen::Invite(token) => view! { <RegisterPage invite=token/> }.into_any(),
        Screen::NotFound => view! { <NotFound/> }.into_any(),
    }
}

/// A signed-out visitor on a screen that needs a session goes to sign-in,
/// which leads back here (`?next=`) afterwards.
fn send_visitors_to_sign_in(screen: Memo<Screen>, signed_in: Memo<bool>) {
    let state = expect_context::<AppState>();
    let location = nav::location();
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
}

/// `/`: the profile when signed in, else sign-in.
#[component]
fn Home() -> impl IntoView {
    let state = expect_context::<AppState>();
    let location = nav::location();
    Effect::new(move |_| {
        if !state.resuming.get() {
            let signed_in = state.session.with(Option::is_some);
            let to = if signed_in {
                Screen::Profile
            } else {
                Screen::Login
            };
            location.navigate(&to.path(), true);
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
