//! The danger zone of a user's page, fenced off at its end: ending all of
//! the user's sessions, a recovery link (`recovery`), turning off their
//! two-factor login (for a user who lost their phone), and deletion (after
//! typing the username). Each asks for the admin's own password, except
//! ending sessions, which takes nothing away that a login does not give back.

use super::recovery::RecoveryLink;
use crate::api::Revoke;
use crate::dialog::ConfirmDialog;
use crate::forms::FormState;
use crate::nav;
use crate::routes::Screen;
use crate::state::{AppState, Notice};
use crate::task;
use crate::widgets::{confirm_ready, count, BusyButton, ConfirmField, Field, NoticeView};
use leptos::prelude::*;

#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(super) fn DangerZone(
    name: String,
    two_factor: RwSignal<bool>,
    sessions_ended: RwSignal<u64>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let form = FormState::new("danger-zone");
    let end_all = {
        let name = name.clone();
        Callback::new(move |()| {
            let Some(api) = state.api() else { return };
            let target = name.clone();
            form.start();
            form.run(&[], api.revoke(Revoke::AllOf(target.clone())), move |n| {
                form.succeed(match n {
                    0 => format!("{target} had no sessions to end."),
                    n => format!("Ended {} of {target}.", count(n, "session", "sessions")),
                });
                sessions_ended.update(|n| *n += 1);
            });
        })
    };
    let reset_name = name.clone();
    view! {
        <section class="section danger-zone" id="danger-zone">
            <h2>"Danger zone"</h2>
            <NoticeView notice=form.notice/>
            <div class="row">
                <p><strong>"End all sessions"</strong><br/>"Signs " {name.clone()} " out everywhere, at once."</p>
                <BusyButton id="end-sessions" kind="button" class="secondary" busy=form.busy on_press=end_all>"End all sessions"</BusyButton>
            </div>
            <RecoveryLink name=name.clone()/>
            {move || two_factor.get().then(|| view! { <ResetTwoFactor name=reset_name.clone() two_factor outcome=form/> })}
            <Delete name=name.clone()/>
        </section>
    }
}

/// Turning off the user's two-factor login, after a confirmation with the
/// admin's own password; the outcome shows in the zone's `outcome`.
#[component]
fn ResetTwoFactor(name: String, two_factor: RwSignal<bool>, outcome: FormState) -> impl IntoView {
    let state = expect_context::<AppState>();
    let form = FormState::new("reset-2fa-dialog");
    let asking = RwSignal::new(false);
    let password = RwSignal::new(String::new());
    let reset = {
        let name = name.clone();
        Callback::new(move |()| {
            form.start();
            let (Some(api), Some(proof)) = (state.api(), form.proof("password", password)) else {
                return;
            };
            let target = name.clone();
            let call = api.totp_disable(proof, None, Some(target.clone()));
            task::run(Some(form.busy), call, move |result| match result {
                Ok(()) => {
                    asking.set(false);
                    two_factor.set(false);
                    outcome.start();
                    outcome.succeed(format!("Two-factor login is off for {target}."));
                }
                Err(e) => {
                    password.set(String::new());
                    form.fail_unchanged(&e, &["password"]);
                }
            });
        })
    };
    let open = move |_| {
        password.set(String::new());
        form.start();
        asking.set(true);
    };
    view! {
        <div class="row">
            <p><strong>"Reset two-factor login"</strong><br/>"For a user who lost their phone: they log in without a code until they set it up again."</p>
            <button id="reset-2fa" class="danger" type="button" on:click=open>"Reset two-factor login…"</button>
        </div>
        <ConfirmDialog id="reset-2fa-dialog" opener="reset-2fa" open=asking
            title=format!("Turn off two-factor login for {name}?")
            confirm_label="Turn it off"
            ready=confirm_ready(password) busy=form.busy on_confirm=reset>
            <NoticeView notice=form.notice/>
            <p>"They will log in without a code until they set it up again."</p>
            <ConfirmField id="reset-2fa-password" name="password" value=password form/>
        </ConfirmDialog>
    }
}

/// Deletion, after typing the username and the admin's own password.
#[component]
fn Delete(name: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let location = nav::location();
    let asking = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let form = FormState::new("delete-user-dialog");
    let ready = {
        let (name, confirmed) = (name.clone(), confirm_ready(password));
        Signal::derive(move || typed.with(|t| t.trim() == name) && confirmed.get())
    };
    let confirm = {
        let name = name.clone();
        Callback::new(move |()| {
            form.start();
            let (Some(api), Some(proof)) = (state.api(), form.proof("password", password)) else {
                return;
            };
            let target = name.clone();
            let call = api.delete(proof, Some(target.clone()));
            form.run(&["password"], call, move |()| {
                // Only from this page: an admin who has moved on stays put.
                if asking.try_get_untracked().is_some() {
                    state.flash_on(Screen::Users, Notice::ok(format!("Deleted {target}.")));
                    asking.set(false);
                    location.navigate(&Screen::Users.path(), false);
                }
            });
        })
    };
    let open = move |_| {
        typed.set(String::new());
        password.set(String::new());
        form.start();
        asking.set(true);
    };
    view! {
        <div class="row">
            <p><strong>"Delete this user"</strong><br/>"Removes the account and all its data, and ends its sessions. It cannot be undone."</p>
            <button id="delete-user" class="danger" type="button" on:click=open>"Delete user…"</button>
        </div>
        <ConfirmDialog id="delete-user-dialog" opener="delete-user" open=asking
            title=format!("Delete {name}?")
            confirm_label=format!("Delete {name}")
            ready busy=form.busy on_confirm=confirm>
            <NoticeView notice=form.notice/>
            <p>{format!("{name}'s account, profile and sessions are removed at once. This cannot be undone.")}</p>
            <Field id="delete-user-name" name="confirm_name" label=format!("Type {name} to confirm") value=typed form/>
            <ConfirmField id="delete-user-password" name="password" value=password form/>
        </ConfirmDialog>
    }
}
