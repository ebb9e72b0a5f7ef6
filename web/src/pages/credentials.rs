//! `/account/credentials`: username, email and password, each its own form.

use crate::dom;
use crate::forms::{save_own, FormState};
use crate::state::{AppState, Notice};
use crate::widgets::{password_help, BusyButton, ConfirmField, Field, NoticeView, StrengthHint};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use users_protocol::{validate, Secret, UserUpdate};

#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn CredentialsPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let current = move || {
        state.session.with(|s| {
            s.as_ref()
                .map(|s| (s.user.username.clone(), s.user.email.clone()))
        })
    };
    let (name0, email0) = current().unwrap_or_default();

    let username = RwSignal::new(name0);
    let uform = FormState::new("username-form");
    let change_username = move |ev: SubmitEvent| {
        ev.prevent_default();
        uform.start();
        let u = username.get_untracked().trim().to_owned();
        if Some(&u) == current().map(|c| c.0).as_ref() {
            uform
                .notice
                .set(Some(Notice::info("That is your username already.")));
            uform.focus_outcome();
            return;
        }
        if uform.check([validate::username(&u)]) {
            let update = UserUpdate {
                username: Some(u),
                ..Default::default()
            };
            save_own(
                uform,
                (update, None),
                &["username"],
                "Username changed.",
                || {},
            );
        }
    };

    let email = RwSignal::new(email0);
    let eform = FormState::new("email-form");
    let change_email = move |ev: SubmitEvent| {
        ev.prevent_default();
        eform.start();
        let e = email.get_untracked().trim().to_owned();
        if current().is_some_and(|c| c.1.eq_ignore_ascii_case(&e)) {
            eform
                .notice
                .set(Some(Notice::info("That is your email already.")));
            eform.focus_outcome();
            return;
        }
        if eform.check([validate::email(&e)]) {
            let update = UserUpdate {
                email: Some(e),
                ..Default::default()
            };
            save_own(eform, (update, None), &["email"], "Email changed.", || {});
        }
    };

    view! {
        <h1 class="page-title" tabindex="-1">"Credentials"</h1>
        <div class="section">
            <h2>"Username"</h2>
            <form id="username-form" on:submit=change_username novalidate>
                <NoticeView notice=uform.notice/>
                <Field id="cred-username" name="username" label="New username" value=username form=uform autocomplete="username"/>
                <div><BusyButton id="username-save" class="secondary" busy=uform.busy>
                    {move || if uform.busy.get() { "Saving…" } else { "Change username" }}
                </BusyButton></div>
            </form>
        </div>
        <div class="section">
            <h2>"Email"</h2>
            <form id="email-form" on:submit=change_email novalidate>
                <NoticeView notice=eform.notice/>
                <Field id="cred-email" name="email" label="New email" value=email form=eform kind="email" autocomplete="email"/>
                <div><BusyButton id="email-save" class="secondary" busy=eform.busy>
                    {move || if eform.busy.get() { "Saving…" } else { "Change email" }}
                </BusyButton></div>
            </form>
        </div>
        <div class="section">
            <h2>"Password"</h2>
            <PasswordForm on_done=Callback::new(|()| {})/>
        </div>
    }
}

/// Changing one's own password: the current one, the new one twice, with
/// the strength hint. `on_done` runs once the service has taken it.
#[component]
fn PasswordForm(on_done: Callback<()>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let (cur, new, confirm) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let pform = FormState::new("password-form");
    let change_password = move |ev: SubmitEvent| {
        ev.prevent_default();
        pform.start();
        let n = new.get_untracked();
        let mut ok = pform.check([validate::password(
            "password",
            &n,
            validate::PASSWORD_MIN_DEFAULT,
        )]);
        let proof = pform.proof("current_password", cur);
        ok &= proof.is_some();
        if n != confirm.get_untracked() {
            pform.field_error("confirm", "Passwords do not match");
            ok = false;
        }
        if let (Some(proof), true) = (proof, ok) {
            let update = UserUpdate {
                password: Some(Secret::new(n)),
                ..Default::default()
            };
            save_own(
                pform,
                (update, Some(proof)),
                &["password", "current_password"],
                "Password changed. Your other sessions have been logged out.",
                move || {
                    cur.set(String::new());
                    new.set(String::new());
                    confirm.set(String::new());
                    on_done.run(());
                },
            );
        }
    };
    let names = Signal::derive(move || {
        state.session.with(|s| {
            s.as_ref()
                .map(|s| vec![s.user.username.clone(), s.user.email.clone()])
                .unwrap_or_default()
        })
    });
    view! {
        <form id="password-form" on:submit=change_password novalidate>
            <NoticeView notice=pform.notice/>
            <ConfirmField id="cred-current" name="current_password" label="Current password" value=cur form=pform/>
            <Field id="cred-new" name="password" label="New password" value=new form=pform kind="password" autocomplete="new-password"
                hint="cred-strength" help=password_help()>
                <StrengthHint id="cred-strength" password=new names form=pform field="password"/>
            </Field>
            <Field id="cred-confirm" name="confirm" label="Confirm new password" value=confirm form=pform kind="password" autocomplete="new-password"/>
            <div><BusyButton id="password-save" busy=pform.busy>
                {move || match (pform.busy.get(), state.passwordless()) {
                    (true, _) => "Saving…",
                    (false, true) => "Set a password",
                    (false, false) => "Change password",
                }}
            </BusyButton></div>
        </form>
    }
}

/// Shown instead of every screen while the account still has the
/// well-known first-admin password.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn FirstPasswordPage() -> impl IntoView {
    dom::set_title("Choose a new password");
    let state = expect_context::<AppState>();
    let done = Callback::new(move |()| {
        state.session.update(|s| {
            if let Some(s) = s {
                s.must_change_password = false;
            }
        });
    });
    view! {
        <h1 class="page-title" tabindex="-1">"Choose a new password"</h1>
        <p id="first-password-why">"This account's password was set for you, or is the default that anyone can look up. Choose your own to go on."</p>
        <PasswordForm on_done=done/>
    }
}
