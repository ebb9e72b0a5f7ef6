//! The browser UI: a client-side-rendered Leptos app that speaks the users
//! service's protocol over the bridge's WebSocket.
//!
//! Each module imports only modules listed above it, never one below:
//!
//! - [`api`]: the WebSocket connection (requests matched to replies by
//!   `request_id`, automatic reconnection) and the typed calls, split into
//!   [`api::UnauthorizedApi`] and [`api::AuthorizedApi`] so a call that needs a
//!   session cannot be made without one.
//! - [`storage`]: the session token in sessionStorage; only [`app`] touches it.
//! - [`state`]: [`state::AppState`], the session and the notices every page shares.
//! - [`forms`]: per-form state (field errors, notice, busy) and saving one's own record.
//! - [`widgets`]: notices, labelled fields, the tab strip, times for people.
//! - [`pages`]: login and register, the dashboard tabs, the admin panel.
//! - [`app`]: the shell: header, connection state, which page shows.

mod api;
mod app;
mod forms;
mod pages;
mod state;
mod storage;
mod widgets;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
