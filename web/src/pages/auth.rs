//! Login and Register.

use crate::api::UnauthorizedApi;
use crate::forms::FormState;
use crate::state::{AppState, Notice, Session};
use crate::widgets::{Field, NoticeView, TabId, Tabs};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use users_protocol::{validate, NewUser, ProfileField, Secret};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthTab {
    Login,
    Register,
}

impl AuthTab {
    const ALL: [AuthTab; 2] = [AuthTab::Login, AuthTab::Register];
}

impl TabId for AuthTab {
    fn id(self) -> &'static str {
        match self {
            AuthTab::Login => "login",
            AuthTab::Register => "register",
        }
    }

    fn label(self) -> &'static str {
        match self {
            AuthTab::Login => "Log in",
            AuthTab::Register => "Register",
        }
    }
}

/// The logged-out screen.
#[component]
pub fn AuthPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let tab = RwSignal::new(AuthTab::Login);
    // Kept across the tabs, so a new account's name is filled in on Log in.
    let login_name = RwSignal::new(String::new());
    let tabs = Signal::derive(|| AuthTab::ALL.to_vec());
    view! {
        <section class="card narrow">
            <NoticeView notice=state.flash/>
            <Tabs tabs current=tab/>
            {move || match tab.get() {
                AuthTab::Login => view! { <LoginForm username=login_name/> }.into_any(),
                AuthTab::Register => view! { <RegisterForm tab login_name/> }.into_any(),
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
fn RegisterForm(tab: RwSignal<AuthTab>, login_name: RwSignal<String>) -> impl IntoView {
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
                    state.flash.set(Some(Notice::ok(format!(
                        "Account {created} created. You can log in now."
                    ))));
                    login_name.set(created);
                    tab.set(AuthTab::Login);
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
            <Field id="reg-password" name="password" label="Password" value=password form kind="password" autocomplete="new-password"/>
            <Field id="reg-confirm" name="confirm" label="Confirm password" value=confirm form kind="password" autocomplete="new-password"/>
            <Field id="reg-fullname" name=ProfileField::FullName.as_str() label=ProfileField::FullName.label() value=full_name form autocomplete="name"/>
            <button id="register-submit" class="primary" type="submit" disabled=move || form.busy.get()>
                {move || if form.busy.get() { "Creating account…" } else { "Create account" }}
            </button>
        </form>
    }
}
