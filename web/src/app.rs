//! The shell: header with the connection state and the user, and the page for the
//! current state (loading, logged out, logged in).

use crate::api::{self, Conn, UnauthorizedApi};
use crate::pages::{auth::AuthPage, dashboard::Dashboard};
use crate::state::{AppState, Notice, Session};
use crate::storage;
use crate::widgets::NoticeView;
use leptos::prelude::*;
use leptos::task::spawn_local;
use users_protocol::ErrorCode;

#[component]
pub fn App() -> impl IntoView {
    let state = AppState {
        session: RwSignal::new(None),
        flash: RwSignal::new(None),
        conn: RwSignal::new(Conn::Connecting),
        resuming: RwSignal::new(false),
    };
    provide_context(state);
    api::start(state.conn);

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
                Err(e) => {
                    if e.code() == Some(ErrorCode::SessionInvalid) {
                        storage::clear();
                        state.flash.set(Some(Notice::info(
                            "Your session has expired. Please log in again.",
                        )));
                    } else {
                        state.flash.set(Some(Notice::err(e.message())));
                    }
                }
            }
            state.resuming.set(false);
        });
    }

    // Memos, so that updating the user does not rebuild the page around it.
    let logged_in = Memo::new(move |_| state.session.with(Option::is_some));
    view! {
        <Header/>
        <main>
            <ConnectionBanner/>
            {move || {
                if state.resuming.get() {
                    view! { <p class="card narrow" role="status">"Restoring your session…"</p> }.into_any()
                } else if logged_in.get() {
                    view! { <Dashboard/> }.into_any()
                } else {
                    view! { <AuthPage/> }.into_any()
                }
            }}
        </main>
    }
}

#[component]
fn Header() -> impl IntoView {
    let state = expect_context::<AppState>();
    let busy = RwSignal::new(false);
    let logout = move |_| {
        let Some(api) = state.api() else { return };
        busy.set(true);
        spawn_local(async move {
            // Whatever the service says, the session ends here.
            let _ = api.logout().await;
            busy.set(false);
            state.end_session(Notice::ok("You have logged out."));
        });
    };
    let conn_label = move || match state.conn.get() {
        Conn::Up => ("conn up", "Connected"),
        Conn::Connecting => ("conn down", "Connecting…"),
        Conn::Down => ("conn down", "Offline"),
    };
    view! {
        <header class="top">
            <h1>"Users"</h1>
            <div class="who">
                <span id="conn-state" class=move || conn_label().0 role="status">{move || conn_label().1}</span>
                {move || state.session.get().map(|s| view! {
                    <span id="whoami">{s.user.username.clone()} " (" {s.user.role.as_str()} ")"</span>
                    <button id="logout" class="secondary" on:click=logout disabled=move || busy.get()>
                        {move || if busy.get() { "Logging out…" } else { "Log out" }}
                    </button>
                })}
            </div>
        </header>
    }
}

#[component]
fn ConnectionBanner() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lost = Signal::derive(move || {
        (state.conn.get() == Conn::Down)
            .then(|| Notice::err("Connection to the server lost. Reconnecting automatically…"))
    });
    view! { <div id="connection-banner"><NoticeView notice=lost/></div> }
}
