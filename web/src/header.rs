//! The header on every screen: the app's name, the navigation, the
//! connection's state, the theme toggle, and who is signed in, with Log out.

use crate::api::Conn;
use crate::dom;
use crate::nav;
use crate::routes::{self, NavLink, Screen};
use crate::state::{AppState, Notice};
use crate::storage;
use crate::task;
use leptos::prelude::*;

#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn Header() -> impl IntoView {
    let state = expect_context::<AppState>();
    let signed_in = Memo::new(move |_| state.session.with(Option::is_some));
    let home = move || {
        if signed_in.get() {
            Screen::Profile.path()
        } else {
            Screen::Login.path()
        }
    };
    view! {
        <header class="top">
            <h1><a href=home>"Users"</a></h1>
            <Nav signed_in/>
            <div class="who">
                <ConnectionState/>
                <ThemeToggle/>
                <SignedIn signed_in/>
            </div>
        </header>
    }
}

/// The links to the screens the visitor may open (see [`routes::nav_links`]),
/// the current one marked when its screen, or one below it, shows.
#[component]
fn Nav(signed_in: Memo<bool>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let location = nav::location();
    let staff = Memo::new(move |_| state.is_staff());
    let item = move |NavLink { path, id, text }: NavLink| {
        let current = move || {
            let here = location.path.get();
            let under = here == path || here.strip_prefix(path).is_some_and(|r| r.starts_with('/'));
            under.then_some("page")
        };
        view! { <li><a href=path id=id aria-current=current>{text}</a></li> }
    };
    let links = move || {
        routes::nav_links(signed_in.get(), staff.get())
            .map(item)
            .collect_view()
    };
    view! { <nav aria-label="Main"><ul>{links}</ul></nav> }
}

/// Whether the WebSocket is open.
#[component]
fn ConnectionState() -> impl IntoView {
    let state = expect_context::<AppState>();
    let label = move || match state.conn.get() {
        Conn::Up => ("conn up", "Connected"),
        Conn::Connecting => ("conn down", "Connecting…"),
        Conn::Down => ("conn down", "Offline"),
    };
    view! { <span id="conn-state" class=move || label().0>{move || label().1}</span> }
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

/// Who is signed in, and Log out, which asks first while edits are unsaved.
/// Whatever the service answers, the session ends here.
#[component]
fn SignedIn(signed_in: Memo<bool>) -> impl IntoView {
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
        task::run(Some(busy), api.logout(), move |_| {
            location.navigate(&Screen::Login.path(), false);
            state.end_session(Notice::ok("You have logged out."));
        });
    };
    view! {
        {move || state.session.get().map(|s| view! {
            <span id="whoami" class="wrap">{s.user.username.clone()} " (" {s.user.role.as_str()} ")"</span>
        })}
        {move || signed_in.get().then(|| view! {
            <button id="logout" class="secondary" on:click=logout disabled=move || busy.get()>
                {move || if busy.get() { "Logging out…" } else { "Log out" }}
            </button>
        })}
    }
}
