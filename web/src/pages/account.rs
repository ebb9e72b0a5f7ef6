//! The Account tab: deleting one's account, after the password and an explicit
//! confirmation.

use crate::forms::FormState;
use crate::state::{AppState, Notice};
use crate::widgets::{Field, NoticeView};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use users_protocol::Secret;

#[component]
pub fn AccountTab() -> impl IntoView {
    let state = expect_context::<AppState>();
    let password = RwSignal::new(String::new());
    let confirmed = RwSignal::new(false);
    let form = FormState::new();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        form.start();
        let p = password.get_untracked();
        if p.is_empty() {
            form.field_error("password", "Enter your password to confirm");
            return;
        }
        if !confirmed.get_untracked() {
            form.notice.set(Some(Notice::err(
                "Tick the box to confirm that you want to delete your account.",
            )));
            return;
        }
        let Some(api) = state.api() else { return };
        form.busy.set(true);
        spawn_local(async move {
            match api.delete(Secret::new(p), None).await {
                Ok(()) => state.end_session(Notice::ok("Your account has been deleted.")),
                Err(e) => {
                    form.fail(state, &e, &["password"]);
                    form.busy.set(false);
                }
            }
        });
    };
    view! {
        <div class="section">
            <h2>"Delete account"</h2>
            <p>"This removes your account and all its data, and logs you out everywhere. It cannot be undone."</p>
            <form id="delete-form" on:submit=submit novalidate>
                <NoticeView notice=form.notice/>
                <Field id="del-password" name="password" label="Your password" value=password form kind="password" autocomplete="current-password"/>
                <label class="check" for="del-confirm">
                    <input id="del-confirm" type="checkbox"
                        prop:checked=move || confirmed.get()
                        on:change=move |ev| confirmed.set(event_target_checked(&ev))/>
                    "I understand that this permanently deletes my account"
                </label>
                <div><button id="delete-submit" class="danger" type="submit"
                    disabled=move || form.busy.get() || !confirmed.get()>
                    {move || if form.busy.get() { "Deleting…" } else { "Delete my account" }}
                </button></div>
            </form>
        </div>
    }
}
