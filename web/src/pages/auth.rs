//! The screens before sign-in: `/login` and `/register`.

use crate::api::{LoggedIn, SecondFactor, UnauthorizedApi};
use crate::dom;
use crate::forms::FormState;
use crate::nav;
use crate::routes;
use crate::state::{AppState, Notice, Session};
use crate::widgets::{Field, NoticeView, StrengthHint};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use users_protocol::{validate, ErrorCode, NewUser, ProfileField, Secret};

/// `/login`. Once signed in (by this form, or a session resumed after a
/// reload), goes on to `?next=` when it is a path inside the app.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn LoginPage() -> impl IntoView {
    dom::set_title("Log in");
    let state = expect_context::<AppState>();
    let location = nav::location();
    let logged_in = Memo::new(move |_| state.session.with(Option::is_some));
    Effect::new(move |_| {
        if logged_in.get() {
            let next = untrack(|| location.query("next"));
            location.navigate(&routes::safe_next(next.as_deref()), true);
        }
    });
    // A new account's name is filled in.
    let username = RwSignal::new(state.new_username.get_untracked());
    view! {
        <section class="card narrow">
            <h2 class="page-title" tabindex="-1">"Log in"</h2>
            <LoginForm username/>
            <p class="aside">"No account yet? " <a href=routes::REGISTER>"Register"</a></p>
        </section>
    }
}

/// `/register`.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn RegisterPage() -> impl IntoView {
    dom::set_title("Register");
    view! {
        <section class="card narrow">
            <h2 class="page-title" tabindex="-1">"Create an account"</h2>
            <RegisterForm/>
            <p class="aside">"Have an account? " <a href=routes::LOGIN>"Log in"</a></p>
        </section>
    }
}

/// Which second factor the sign-in form asks for, once the service said
/// the account has one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Asking {
    Password,
    Code,
    Recovery,
}

#[component]
fn LoginForm(username: RwSignal<String>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let asking = RwSignal::new(Asking::Password);
    let form = FormState::new("login-form");
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        form.start();
        let (u, p) = (
            username.get_untracked().trim().to_owned(),
            password.get_untracked(),
        );
        let mut ok = true;
        if u.is_empty() {
            form.field_error("username", "Enter your username or email");
            ok = false;
        }
        if p.is_empty() {
            form.field_error("password", "Enter your password");
            ok = false;
        }
        let c = code.get_untracked().trim().to_owned();
        let second = match asking.get_untracked() {
            Asking::Password => None,
            Asking::Code => Some(SecondFactor::Code(Secret::new(c.clone()))),
            Asking::Recovery => Some(SecondFactor::Recovery(Secret::new(c.clone()))),
        };
        if second.is_some() && c.is_empty() {
            form.field_error(code_field(asking.get_untracked()), "Enter the code");
            ok = false;
        }
        if !ok {
            return;
        }
        form.busy.set(true);
        spawn_local(async move {
            match UnauthorizedApi.login(u, Secret::new(p), second).await {
                Ok(LoggedIn {
                    api,
                    user,
                    must_change_password,
                }) => {
                    state.flash.set(None);
                    state.new_username.set(String::new());
                    state.session.set(Some(Session {
                        api,
                        user,
                        must_change_password,
                    }));
                }
                Err(e) if e.code() == Some(ErrorCode::TotpRequired) => {
                    code.set(String::new());
                    asking.set(Asking::Code);
                    dom::focus_later(vec!["#login-code".to_owned()]);
                }
                Err(e) => form.fail(
                    state,
                    &e,
                    &["username", "password", "totp_code", "recovery_code"],
                ),
            }
            form.busy.set(false);
        });
    };
    let switch = move |_| {
        form.start();
        code.set(String::new());
        let next = match asking.get_untracked() {
            Asking::Recovery => Asking::Code,
            _ => Asking::Recovery,
        };
        asking.set(next);
        dom::focus_later(vec![format!("#{}", code_id(next))]);
    };
    view! {
        <form id="login-form" on:submit=submit novalidate>
            <NoticeView notice=form.notice/>
            <Field id="login-username" name="username" label="Username or email" value=username form autocomplete="username"/>
            <Field id="login-password" name="password" label="Password" value=password form kind="password" autocomplete="current-password"/>
            {move || match asking.get() {
                Asking::Password => ().into_any(),
                Asking::Code => view! {
                    <p id="login-second" class="muted">"Two-factor login is on for this account."</p>
                    <Field id="login-code" name="totp_code" label="Code from your authenticator app" value=code form autocomplete="one-time-code"/>
                    <p><button id="login-use-recovery" class="link" type="button" on:click=switch>"Use a recovery code instead"</button></p>
                }.into_any(),
                Asking::Recovery => view! {
                    <p id="login-second" class="muted">"Two-factor login is on for this account. Each recovery code works once."</p>
                    <Field id="login-recovery" name="recovery_code" label="Recovery code" value=code form autocomplete="off"/>
                    <p><button id="login-use-code" class="link" type="button" on:click=switch>"Use the code from your app instead"</button></p>
                }.into_any(),
            }}
            <button id="login-submit" class="primary" type="submit" disabled=move || form.busy.get()>
                {move || if form.busy.get() { "Logging in…" } else { "Log in" }}
            </button>
        </form>
    }
}

fn code_id(asking: Asking) -> &'static str {
    match asking {
        Asking::Recovery => "login-recovery",
        _ => "login-code",
    }
}

fn code_field(asking: Asking) -> &'static str {
    match asking {
        Asking::Recovery => "recovery_code",
        _ => "totp_code",
    }
}

#[component]
fn RegisterForm() -> impl IntoView {
    let state = expect_context::<AppState>();
    let location = nav::location();
    let (username, email, password, confirm, full_name) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let form = FormState::new("register-form");
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        form.start();
        let u = username.get_untracked().trim().to_owned();
        let e = email.get_untracked().trim().to_owned();
        let p = password.get_untracked();
        let name = full_name.get_untracked().trim().to_owned();
        let mut ok = form.check([
            validate::username(&u),
            validate::email(&e),
            validate::password("password", &p, validate::PASSWORD_MIN_DEFAULT),
            validate::profile_field(ProfileField::FullName, &name),
        ]);
        if p != confirm.get_untracked() {
            form.field_error("confirm", "Passwords do not match");
            ok = false;
        }
        if !ok {
            return;
        }
        form.busy.set(true);
        let user = NewUser {
            username: u,
            email: e,
            password: Secret::new(p),
            profile: [(ProfileField::FullName, name)]
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .collect(),
        };
        spawn_local(async move {
            match UnauthorizedApi.register(user).await {
                Ok(created) => {
                    state.flash_on(
                        routes::LOGIN,
                        Notice::ok(format!("Account {created} created. You can log in now.")),
                    );
                    state.new_username.set(created);
                    // Unless the visitor has moved on meanwhile.
                    if form.busy.try_get_untracked().is_some() {
                        location.navigate(routes::LOGIN, false);
                    }
                    dom::focus_later(vec!["#login-password".to_owned()]);
                }
                Err(e) => form.fail(
                    state,
                    &e,
                    &[
                        "username",
                        "email",
                        "password",
                        ProfileField::FullName.as_str(),
                    ],
                ),
            }
            form.busy.set(false);
        });
    };
    view! {
        <form id="register-form" on:submit=submit novalidate>
            <NoticeView notice=form.notice/>
            <Field id="reg-username" name="username" label="Username" value=username form autocomplete="username"/>
            <Field id="reg-email" name="email" label="Email" value=email form kind="email" autocomplete="email"/>
            <Field id="reg-password" name="password" label="Password" value=password form kind="password" autocomplete="new-password" hint="reg-strength"/>
            <StrengthHint id="reg-strength" password=password names=Signal::derive(move || vec![username.get(), email.get()])/>
            <Field id="reg-confirm" name="confirm" label="Confirm password" value=confirm form kind="password" autocomplete="new-password"/>
            <Field id="reg-fullname" name=ProfileField::FullName.as_str() label=ProfileField::FullName.label() value=full_name form autocomplete="name"/>
            <button id="register-submit" class="primary" type="submit" disabled=move || form.busy.get()>
                {move || if form.busy.get() { "Creating account…" } else { "Create account" }}
            </button>
        </form>
    }
}
