//! `/register`, and `/invite/<token>`: registration with an invitation,
//! where the invitee chooses a password (and goes on to sign in and add a
//! passkey) or, where the browser offers passkeys, a passkey alone.

use crate::api::UnauthorizedApi;
use crate::dom;
use crate::forms::FormState;
use crate::nav;
use crate::routes::{self, Screen};
use crate::state::{AppState, Notice};
use crate::webauthn;
use crate::widgets::{password_help, BusyButton, Field, NoticeView, StrengthHint};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use users_protocol::{validate, NewUser, ProfileField, Secret};

/// `/register`, and `/invite/<token>` with the invitation's token.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn RegisterPage(#[prop(optional)] invite: Option<String>) -> impl IntoView {
    let title = match invite {
        Some(_) => "You are invited: create your account",
        None => "Create an account",
    };
    view! {
        <section class="card narrow">
            <h1 class="page-title" tabindex="-1">{title}</h1>
            <RegisterForm invite/>
            <p class="aside">"Have an account? " <a href=Screen::Login.path()>"Log in"</a></p>
        </section>
    }
}

/// The fields a registration may name the service, for its errors.
const REGISTER_FIELDS: &[&str] = &[
    "username",
    "email",
    "password",
    ProfileField::FullName.as_str(),
];

/// What the registration form holds.
#[derive(Clone, Copy)]
struct NewAccount {
    username: RwSignal<String>,
    email: RwSignal<String>,
    password: RwSignal<String>,
    confirm: RwSignal<String>,
    full_name: RwSignal<String>,
    /// A passkey instead of a password (invitations only).
    passkey: RwSignal<bool>,
}

impl NewAccount {
    fn new() -> Self {
        let empty = || RwSignal::new(String::new());
        NewAccount {
            username: empty(),
            email: empty(),
            password: empty(),
            confirm: empty(),
            full_name: empty(),
            passkey: RwSignal::new(false),
        }
    }

    /// The account to create; none when a field breaks its rules or the
    /// passwords differ, each such field marked on `form`. With a passkey,
    /// it has no password.
    fn checked(&self, form: FormState) -> Option<NewUser> {
        let u = self.username.get_untracked().trim().to_owned();
        let e = self.email.get_untracked().trim().to_owned();
        let passkey = self.passkey.get_untracked();
        let p = match passkey {
            true => String::new(),
            false => self.password.get_untracked(),
        };
        let name = self.full_name.get_untracked().trim().to_owned();
        let mut ok = form.check([
            validate::username(&u),
            validate::email(&e),
            match passkey {
                true => Ok(()),
                false => validate::password("password", &p, validate::PASSWORD_MIN_DEFAULT),
            },
            validate::profile_field(ProfileField::FullName, &name),
        ]);
        if !passkey && p != self.confirm.get_untracked() {
            form.field_error("confirm", "Passwords do not match");
            ok = false;
        }
        ok.then(|| NewUser {
            username: u,
            email: e,
            password: Secret::new(p),
            profile: [(ProfileField::FullName, name)]
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .collect(),
        })
    }
}

/// Where a new account goes next, what its notice adds, and the control
/// that gets focus there: an invited account to add a passkey, or with one
/// to sign in with it.
fn next_step(passkey: bool, invited: bool) -> (String, &'static str, &'static str) {
    let login = Screen::Login.path().into_owned();
    match (passkey, invited) {
        (true, _) => (
            login,
            " Sign in with it: choose “Sign in with a passkey”.",
            "#login-passkey",
        ),
        (false, true) => (
            routes::login_then_add_passkey(),
            " Log in, and add a passkey: then you will not need the password to sign in.",
            "#login-password",
        ),
        (false, false) => (login, " You can log in now.", "#login-password"),
    }
}

#[component]
fn RegisterForm(invite: Option<String>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let location = nav::location();
    let account = NewAccount::new();
    let form = FormState::new("register-form");
    let invited = invite.is_some();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        form.start();
        let Some(user) = account.checked(form) else {
            return;
        };
        let passkey = account.passkey.get_untracked();
        let token = invite.clone().map(Secret::new);
        let call = async move {
            match (passkey, token) {
                (true, Some(token)) => UnauthorizedApi.register_with_passkey(user, token).await,
                (_, token) => UnauthorizedApi.register(user, token).await,
            }
        };
        form.run(REGISTER_FIELDS, call, move |created| {
            let (next, more, focus) = next_step(passkey, invited);
            state.flash_on(
                Screen::Login,
                Notice::ok(format!("Account {created} created.{more}")),
            );
            state.new_username.set(created);
            // Unless the visitor has moved on meanwhile.
            // An invitation's address is spent: Back does not lead to it.
            if form.busy.try_get_untracked().is_some() {
                location.navigate(&next, invited);
            }
            dom::focus_later(vec![focus.to_owned()]);
        });
    };
    let NewAccount {
        username,
        email,
        password,
        confirm,
        full_name,
        passkey,
    } = account;
    view! {
        <form id="register-form" on:submit=submit novalidate>
            <NoticeView notice=form.notice/>
            <Field id="reg-username" name="username" label="Username" value=username form autocomplete="username"/>
            <Field id="reg-email" name="email" label="Email" value=email form kind="email" autocomplete="email"/>
            {invited.then(|| view! { <SignInChoice passkey/> })}
            <Show when=move || !passkey.get()>
                <Field id="reg-password" name="password" label="Password" value=password form kind="password" autocomplete="new-password"
                    hint="reg-strength" help=password_help()>
                    <StrengthHint id="reg-strength" password=password names=Signal::derive(move || vec![username.get(), email.get()]) form field="password"/>
                </Field>
                <Field id="reg-confirm" name="confirm" label="Confirm password" value=confirm form kind="password" autocomplete="new-password"/>
            </Show>
            <Field id="reg-fullname" name=ProfileField::FullName.as_str() label=format!("{} (optional)", ProfileField::FullName.label()) value=full_name form autocomplete="name"/>
            <BusyButton id="register-submit" busy=form.busy>
                {move || match (form.busy.get(), passkey.get()) {
                    (true, true) => "Waiting for your device…",
                    (true, false) => "Creating account…",
                    (false, _) => "Create account",
                }}
            </BusyButton>
        </form>
    }
}

/// An invitee's choice: a password, or where the browser offers passkeys
/// a passkey alone; where it does not, why.
#[component]
fn SignInChoice(passkey: RwSignal<bool>) -> impl IntoView {
    if let Some(why) = webauthn::unavailable() {
        return view! { <p class="field-help" id="reg-passkey-unavailable">{why}</p> }.into_any();
    }
    view! {
        <fieldset class="choice" id="reg-way">
            <legend>"How you will sign in"</legend>
            <label><input type="radio" name="reg-way" id="reg-way-password" prop:checked=move || !passkey.get()
                on:change=move |_| passkey.set(false)/>" With a password"</label>
            <label><input type="radio" name="reg-way" id="reg-way-passkey" prop:checked=move || passkey.get()
                on:change=move |_| passkey.set(true)/>" With a passkey: this device's fingerprint, face or PIN, and no password"</label>
        </fieldset>
    }
    .into_any()
}
