//! The browser UI: a client-side-rendered Leptos app that speaks the users
//! service's protocol over the bridge's WebSocket, with an address for every
//! screen.
//!
//! Each module imports only modules listed above it, never one below:
//!
//! - [`api`]: the WebSocket connection (requests matched to replies by
//!   `request_id`, reconnection with back-off, the service's availability) and
//!   the typed calls, split into [`api::UnauthorizedApi`] and
//!   [`api::AuthorizedApi`] so a call that needs a session cannot be made
//!   without one.
//! - [`routes`]: the addresses: each screen's path, title and place in the
//!   navigation, the user list's query string, `?next=`.
//! - [`storage`]: the session token and the theme kept by the browser; only
//!   the shell ([`app`], [`header`]) touches it.
//! - [`task`]: the one way to run a call: busy meanwhile, then its outcome.
//! - [`device`]: "Chrome on Linux" from a session's user agent.
//! - [`dom`]: title, focus, the theme attribute, the unsaved-changes guard.
//! - [`nav`]: the address as signals, following links, Back and Forward.
//! - [`state`]: [`state::AppState`], the session and the notices every page shares.
//! - [`forms`]: per-form state (field errors, notice, busy, focus), a form's
//!   calls, and saving one's own record.
//! - [`widgets`]: notices, labelled fields, buttons that stay focusable while
//!   busy, a failed load's Retry, labels and times for people.
//! - [`dialog`]: the modal confirmation.
//! - [`loaded`]: what a screen loads to show, loaded again when the server is back.
//! - [`webauthn`]: passkeys through `navigator.credentials`.
//! - [`pages`]: one module per screen.
//! - [`lazy`]: the signed-in screens, downloaded when first shown.
//! - [`header`]: the header: navigation, connection, theme, the user, Log out.
//! - [`app`]: the shell: header, banner, routes and their guards, the session
//!   kept across reloads.

mod api;
mod app;
mod device;
mod dialog;
mod dom;
mod forms;
mod header;
mod lazy;
mod loaded;
mod nav;
mod pages;
mod routes;
mod state;
mod storage;
mod task;
mod webauthn;
mod widgets;

fn main() {
    // Release builds made with std from source abort on a panic at once
    // (scripts/wasm-env): the hook only serves debug builds.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
