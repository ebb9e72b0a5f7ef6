//! The browser UI: a client-side-rendered Leptos app that speaks the users
//! service's protocol over the bridge's WebSocket.
//!
//! - [`api`]: the WebSocket connection (requests matched to replies by
//!   `request_id`, automatic reconnection) and the typed calls, split into
//!   [`api::UnauthorizedApi`] and [`api::AuthorizedApi`] so a call that needs a
//!   session cannot be made without one.
//! - [`storage`]: the session token in sessionStorage; only [`app`] touches it.
//! - [`app`]: the shell: header, connection state, which page shows.
//! - [`forms`]: labelled fields with their errors, and per-form state.
//! - [`pages`]: login and register, the dashboard tabs, the admin panel.

mod api;
mod app;
mod forms;
mod pages;
mod storage;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
