//! Login and Register.

use super::Tabs;
use crate::api::UnauthorizedApi;
use crate::app::{AppState, Session};
use crate::forms::{Field, FormState, Notice, NoticeView};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use users_protocol::{validate, NewUser, Secret};

/// The logged-out screen.
#[component]
pub fn AuthPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let tab = RwSignal::new("login");
    let login_name = RwSignal::new(String::new());
    let tabs = Signal::derive(|| vec![("login", "Log in"), ("register", "Register")]);
    view! {
        <section class="card narrow">
            <NoticeView notice=state.flash/>
            <Tabs tabs current=tab/>
            {move || if tab.get() == "login" {
                view! { <LoginForm username=login_name/> }.into_any()
            } else {
                view! { <RegisterForm tab login_name/> }.into_any()
            }}
        </section>
    }
}

#[component]
fn LoginForm(username: RwSignal<String>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let password = RwSignal::new(String::new());
    let form = FormState::new();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        form.start();
        state.flash.set(None);
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
        if !ok {
            return;
        }
        form.busy.set(true);
        spawn_local(async move {
            match UnauthorizedApi.login(u, Secret::new(p)).await {
                Ok((api, user)) => {
                    state.flash.set(None);
                    state.session.set(Some(Session { api, user }));
                }
                Err(e) => form.fail(state, &e, &["username", "password"]),
            }
            form.busy.set(false);
        });
    };
    view! {
        <form id="login-form" on:submit=submit novalidate>
            <NoticeView notice=form.notice/>
            <Field id="login-username" name="username" label="Username or email" value=username form autocomplete="username"/>
            <Field id="login-password" name="password" label="Password" value=password form kind="password" autocomplete="current-password"/>
            <button id="login-submit" class="primary" type="submit" disabled=move || form.busy.get()>
                {move || if form.busy.get() { "Logging in…" } else { "Log in" }}
            </button>
        </form>
    }
}

#[component]
fn RegisterForm(tab: RwSignal<&'static str>, login_name: RwSignal<String>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let (username, email, password, confirm, full_name) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let form = FormState::new();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        form.start();
        state.flash.set(None);
        let u = username.get_untracked().trim().to_owned();
        let e = email.get_untracked().trim().to_owned();
        let p = password.get_untracked();
        let name = full_name.get_untracked().trim().to_owned();
        let mut ok = form.check([
            validate::username(&u),
            validate::email(&e),
            validate::password("password", &p, validate::PASSWORD_MIN_DEFAULT),
            validate::profile_field("full_name", &name),
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
            full_name: (!name.is_empty()).then_some(name),
            ..Default::default()
        };
        spawn_local(async move {
            match UnauthorizedApi.register(user).await {
                Ok(created) => {
                    state.flash.set(Some(Notice::ok(format!(
                        "Account {created} created. You can log in now."
                    ))));
                    login_name.set(created);
                    tab.set("login");
                }
                Err(e) => form.fail(state, &e, &["username", "email", "password", "full_name"]),
            }
            form.busy.set(false);
        });
    };
    view! {
        <form id="register-form" on:submit=submit novalidate>
            <NoticeView notice=form.notice/>
            <Field id="reg-username" name="username" label="Username" value=username form autocomplete="username"/>
            <Field id="reg-email" name="email" label="Email" value=email form kind="email" autocomplete="email"/>
            <Field id="reg-password" name="password" label="Password" value=password form kind="password" autocomplete="new-password"/>
            <Field id="reg-confirm" name="confirm" label="Confirm password" value=confirm form kind="password" autocomplete="new-password"/>
            <Field id="reg-fullname" name="full_name" label="Full name" value=full_name form autocomplete="name"/>
            <button id="register-submit" class="primary" type="submit" disabled=move || form.busy.get()>
                {move || if form.busy.get() { "Creating account…" } else { "Create account" }}
            </button>
        </form>
    }
}
