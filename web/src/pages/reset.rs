//! `/reset/<token>`: a recovery link an admin gave. Its user chooses a new
//! password; every session of the account ends, and sign-in follows, where
//! a passkey can be added afterwards.

use crate::api::UnauthorizedApi;
use crate::forms::FormState;
use crate::nav;
use crate::routes::{self, Screen};
use crate::state::{AppState, Notice};
use crate::widgets::{password_help, BusyButton, Field, NoticeView, StrengthHint};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use users_protocol::{validate, Secret};

#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn ResetPage(token: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let location = nav::location();
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let form = FormState::new("reset-form");
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        form.start();
        let p = password.get_untracked();
        if !form.check([validate::password(
            "password",
            &p,
            validate::PASSWORD_MIN_DEFAULT,
        )]) {
            return;
        }
        if p != confirm.get_untracked() {
            form.field_error("confirm", "Passwords do not match");
            return;
        }
        let call = UnauthorizedApi.reset_redeem(Secret::new(token.clone()), Secret::new(p));
        form.run(&["password"], call, move |()| {
            state.flash_on(
                Screen::Login,
                Notice::ok(
                    "Your new password is set, and every session of your account has ended. \
                     Log in with it, and add a passkey: then you will not need the password \
                     to sign in.",
                ),
            );
            if form.busy.try_get_untracked().is_some() {
                location.navigate(&routes::login_then_add_passkey(), true);
            }
        });
    };
    view! {
        <section class="card narrow">
            <h1 class="page-title" tabindex="-1">"Choose a new password"</h1>
            <form id="reset-form" on:submit=submit novalidate>
                <NoticeView notice=form.notice/>
                <p class="aside">"An admin gave you this link. It works once, for a short while."</p>
                <Field id="reset-password" name="password" label="New password" value=password form kind="password" autocomplete="new-password"
                    hint="reset-strength" help=password_help()>
                    <StrengthHint id="reset-strength" password=password names=Signal::derive(Vec::new) form field="password"/>
                </Field>
                <Field id="reset-confirm" name="confirm" label="Confirm password" value=confirm form kind="password" autocomplete="new-password"/>
                <BusyButton id="reset-submit" busy=form.busy>
                    {move || if form.busy.get() { "Saving…" } else { "Set password" }}
                </BusyButton>
            </form>
            <p class="aside">"Remember it after all? " <a href=Screen::Login.path()>"Log in"</a></p>
        </section>
    }
}
