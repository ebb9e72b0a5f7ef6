//! The header on every screen: the skip link, the app's name, the
//! navigation, the connection's state, the theme toggle, and who is signed
//! in, with Log out. On a phone the navigation, the theme and Log out fold
//! into a Menu (a disclosure button), so the screen starts near the top.

use crate::api::Conn;
use crate::dom;
use crate::nav;
use crate::routes::{self, NavLink, Screen};
use crate::state::{AppState, Notice};
use crate::storage;
use crate::task;
use crate::widgets::{role_label, BusyButton};
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
    let open = RwSignal::new(false);
    // A new screen, however reached, closes the menu.
    let location = nav::location();
    Effect::new(move |_| {
        location.path.track();
        open.set(false);
    });
    // Esc closes it too, and gives focus back to Menu.
    let escape = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && open.get_untracked() {
            open.set(false);
            dom::focus_now(&["#menu-toggle".to_owned()]);
        }
    };
    let skip = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        dom::focus_now(&["main .page-title".to_owned(), "main".to_owned()]);
    };
    view! {
        <a class="skip" href="#main" on:click=skip>"Skip to main content"</a>
        <header class="top" on:keydown=escape>
            <div class="brand"><a href=home>"Users"</a></div>
            <ConnectionState/>
            {move || state.session.with(|s| s.as_ref().map(|s| {
                let (name, role) = (s.user.username.clone(), s.user.role);
                view! { <span id="whoami" class="wrap" title=format!("{name}, {}", role_label(role))>{name.clone()}</span> }
            }))}
            <button id="menu-toggle" class="secondary menu-toggle" type="button"
                aria-expanded=move || if open.get() { "true" } else { "false" } aria-controls="header-menu"
                on:click=move |_| open.update(|o| *o = !*o)>"Menu"</button>
            <div id="header-menu" class=move || if open.get() { "menu open" } else { "menu" }>
                <Nav signed_in/>
                <div class="who">
                    <ThemeToggle/>
                    <SignedIn signed_in/>
                </div>
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
    let admin = Memo::new(move |_| state.is_admin());
    let item = move |NavLink { path, id, text }: NavLink| {
        let current = move || {
            let here = location.path.get();
            let under = here == path || here.strip_prefix(path).is_some_and(|r| r.starts_with('/'));
            under.then_some("page")
        };
        view! { <li><a href=path id=id aria-current=current>{text}</a></li> }
    };
    // None while a saved session is checked: neither the signed-out links
    // nor the signed-in ones may be the right ones yet.
    let links = move || {
        (!state.resuming.get()).then(|| {
            routes::nav_links(signed_in.get(), staff.get(), admin.get())
                .map(item)
                .collect_view()
        })
    };
    view! { <nav aria-label="Main"><ul>{links}</ul></nav> }
}

/// Whether the server can be reached: the WebSocket open and the service
/// answering behind it (`data-conn` says which: up, away or down).
#[component]
fn ConnectionState() -> impl IntoView {
    let state = expect_context::<AppState>();
    let label = move || match state.conn.get() {
        Conn::Up if state.service_up.get() => ("up", "Connected"),
        Conn::Up => ("away", "Service unavailable"),
        Conn::Connecting => ("down", "Connecting…"),
        Conn::Down => ("down", "Offline"),
    };
    view! {
        <span id="conn-state" class=move || format!("conn {}", label().0) data-conn=move || label().0>
            {move || label().1}
        </span>
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

/// Who is signed in, and Log out, which asks first while edits are unsaved.
/// Whatever the service answers, the session ends here.
#[component]
fn SignedIn(signed_in: Memo<bool>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let location = nav::location();
    let busy = RwSignal::new(false);
    let logout = move |()| {
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
        {move || signed_in.get().then(|| view! {
            <BusyButton id="logout" kind="button" class="secondary" busy on_press=Callback::new(logout)>
                {move || if busy.get() { "Logging out…" } else { "Log out" }}
            </BusyButton>
        })}
    }
}
