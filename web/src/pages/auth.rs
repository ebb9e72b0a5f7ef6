//! `/login`: the password (and a second factor when the account asks for
//! one), or a passkey, from its button or the username field's autofill.

use crate::api::{LoggedIn, SecondFactor, UnauthorizedApi};
use crate::dom;
use crate::forms::FormState;
use crate::nav;
use crate::routes::{self, Screen};
use crate::state::{AppState, Session};
use crate::task;
use crate::webauthn;
use crate::widgets::{BusyButton, Field, NoticeView};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use users_protocol::{ErrorCode, Secret};
use web_sys::AbortController;

/// `/login`. Once signed in (by this form, or a session resumed after a
/// reload), goes on to `?next=` when it is a path inside the app.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn LoginPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let location = nav::location();
    let logged_in = Memo::new(move |_| state.session.with(Option::is_some));
    Effect::new(move |_| {
        if !logged_in.get() {
            return;
        }
        let next = untrack(|| location.query("next"));
        let rd = untrack(|| location.query("rd"));
        let Some(api) = state.api() else { return };
        // The sign-in cookie for apps behind the same proxy; `?rd=` goes
        // back to one of them once it is set, if the bridge allows it.
        let cookie = api.set_sign_in_cookie(rd.clone());
        if rd.is_none() {
            leptos::task::spawn_local(async move {
                cookie.await;
            });
            location.navigate(&routes::safe_next(next.as_deref()), true);
            return;
        }
        leptos::task::spawn_local(async move {
            match cookie.await {
                Some(away) => dom::go_to(&away),
                None => location.navigate(&routes::safe_next(next.as_deref()), true),
            }
        });
    });
    // A new account's name is filled in.
    let username = RwSignal::new(state.new_username.get_untracked());
    view! {
        <section class="card narrow">
            <h1 class="page-title" tabindex="-1">"Log in"</h1>
            <LoginForm username/>
            <p class="aside">"No account yet? " <a href=Screen::Register.path()>"Register"</a></p>
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

impl Asking {
    /// The code field's element id.
    fn code_id(self) -> &'static str {
        match self {
            Asking::Recovery => "login-recovery",
            _ => "login-code",
        }
    }

    /// The code field's protocol name, for its errors.
    fn code_field(self) -> &'static str {
        match self {
            Asking::Recovery => "recovery_code",
            _ => "totp_code",
        }
    }
}

/// What the sign-in form holds.
#[derive(Clone, Copy)]
struct LoginFields {
    username: RwSignal<String>,
    password: RwSignal<String>,
    /// The code from the app, or a recovery code, as `asking` says.
    code: RwSignal<String>,
    asking: RwSignal<Asking>,
}

impl LoginFields {
    /// The login to send: username, password and the second factor asked
    /// for; none when a field is empty, each such field marked on `form`.
    fn login(&self, form: FormState) -> Option<(String, Secret, Option<SecondFactor>)> {
        let (u, p) = (
            self.username.get_untracked().trim().to_owned(),
            self.password.get_untracked(),
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
        let c = self.code.get_untracked().trim().to_owned();
        let asking = self.asking.get_untracked();
        let second = match asking {
            Asking::Password => None,
            Asking::Code => Some(SecondFactor::Code(Secret::new(c.clone()))),
            Asking::Recovery => Some(SecondFactor::Recovery(Secret::new(c.clone()))),
        };
        if second.is_some() && c.is_empty() {
            form.field_error(asking.code_field(), "Enter the code");
            ok = false;
        }
        ok.then(|| (u, Secret::new(p), second))
    }
}

#[component]
fn LoginForm(username: RwSignal<String>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let fields = LoginFields {
        username,
        password: RwSignal::new(String::new()),
        code: RwSignal::new(String::new()),
        asking: RwSignal::new(Asking::Password),
    };
    let form = FormState::new("login-form");
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        form.start();
        // "You have logged out." and the like belong to before this try.
        state.flash.set(None);
        let Some((u, p, second)) = fields.login(form) else {
            return;
        };
        let call = UnauthorizedApi.login(u, p, second);
        task::run(Some(form.busy), call, move |outcome| match outcome {
            Ok(logged_in) => sign_in(state, logged_in),
            Err(e) if e.code() == Some(ErrorCode::TotpRequired) => {
                fields.code.set(String::new());
                fields.asking.set(Asking::Code);
                dom::focus_later(vec!["#login-code".to_owned()]);
            }
            Err(e) => {
                // A refused password is typed again, not corrected.
                if e.code() == Some(ErrorCode::InvalidCredentials)
                    && fields.asking.get_untracked() == Asking::Password
                {
                    fields.password.set(String::new());
                }
                // Codes from the app locked: the way on is a recovery code,
                // where the service's error belongs.
                if e.field() == Some("recovery_code")
                    && fields.asking.get_untracked() == Asking::Code
                {
                    fields.code.set(String::new());
                    fields.asking.set(Asking::Recovery);
                }
                form.fail(&e, &["username", "password", "totp_code", "recovery_code"]);
            }
        });
    };
    let asking_password = move || fields.asking.get() == Asking::Password;
    view! {
        <form id="login-form" on:submit=submit novalidate>
            <NoticeView notice=form.notice/>
            // The second step keeps the name and password, out of sight.
            <div class="grid1" hidden=move || !asking_password()>
                <Field id="login-username" name="username" label="Username or email" value=username form autocomplete="username webauthn"/>
                <Field id="login-password" name="password" label="Password" value=fields.password form kind="password" autocomplete="current-password"/>
            </div>
            <SecondFactorField fields form/>
            <BusyButton id="login-submit" busy=form.busy>
                {move || match (form.busy.get(), asking_password()) {
                    (true, _) => "Logging in…",
                    (false, true) => "Log in",
                    (false, false) => "Verify",
                }}
            </BusyButton>
            <div class="alt-sign-in" hidden=move || !asking_password()><PasskeySignIn form/></div>
        </form>
    }
}

/// Signing in with a passkey, on the sign-in form; where passkeys cannot
/// work, the page says why instead of offering them.
#[component]
fn PasskeySignIn(form: FormState) -> impl IntoView {
    let state = expect_context::<AppState>();
    let autofill = StoredValue::new_local(Autofill::default());
    let stop_autofill = move || {
        autofill.try_update_value(Autofill::stop);
    };
    // A wait left behind would hold the browser's one ceremony at a time.
    on_cleanup(stop_autofill);
    let passkey = move |()| {
        stop_autofill();
        form.start();
        state.flash.set(None);
        let call = UnauthorizedApi.passkey_login(None);
        task::run(Some(form.busy), call, move |outcome| match outcome {
            Ok(logged_in) => sign_in(state, logged_in),
            Err(e) => form.fail(&e, &[]),
        });
    };
    match webauthn::unavailable() {
        None => {
            offer_in_autofill(state, form, autofill);
            view! {
            <BusyButton id="login-passkey" kind="button" class="secondary" busy=form.busy
                on_press=Callback::new(passkey)>"Sign in with a passkey"</BusyButton>
            }
            .into_any()
        }
        Some(why) => view! { <p class="field-help" id="passkey-unavailable">{why}</p> }.into_any(),
    }
}

/// The passkey sign-in waiting in the username field's autofill.
#[derive(Default)]
struct Autofill {
    /// Aborts the wait.
    wait: Option<AbortController>,
    /// The button was used, or the page has gone: no new wait.
    stopped: bool,
}

impl Autofill {
    fn stop(&mut self) {
        self.stopped = true;
        if let Some(wait) = self.wait.take() {
            wait.abort();
        }
    }
}

/// How long one autofill wait lasts: less than the 5 minutes the service
/// gives a ceremony, so that a passkey picked late is not refused.
const AUTOFILL_RENEW_MS: u32 = 4 * 60 * 1000;
/// The pause before waiting again after a failure.
const AUTOFILL_RETRY_MS: u32 = 3_000;

/// Offers passkeys in the username field's autofill, where the browser can
/// (`autocomplete="username webauthn"`): a sign-in that waits for the user
/// to pick one, begun again before its ceremony expires and after a
/// failure, until the button is used or the page goes.
fn offer_in_autofill(
    state: AppState,
    form: FormState,
    autofill: StoredValue<Autofill, LocalStorage>,
) {
    leptos::task::spawn_local(async move {
        if !webauthn::autofill_available().await {
            return;
        }
        loop {
            let Ok(wait) = AbortController::new() else {
                return;
            };
            let armed = autofill.try_update_value(|a| {
                if !a.stopped {
                    a.wait = Some(wait.clone());
                }
                !a.stopped
            });
            if armed != Some(true) {
                return;
            }
            let renew = gloo_timers::callback::Timeout::new(AUTOFILL_RENEW_MS, {
                let wait = wait.clone();
                move || wait.abort()
            });
            let outcome = UnauthorizedApi.passkey_login(Some(wait.signal())).await;
            drop(renew);
            match outcome {
                Ok(logged_in) => {
                    autofill.try_update_value(Autofill::stop);
                    return sign_in(state, logged_in);
                }
                // Renewed, or stopped (checked above, next time round).
                Err(_) if wait.signal().aborted() => {}
                // Not at once again: the service may be away, which the
                // page shows already.
                Err(e) => {
                    if !e.is_transient() {
                        form.fail(&e, &[]);
                    }
                    gloo_timers::future::TimeoutFuture::new(AUTOFILL_RETRY_MS).await;
                }
            }
        }
    });
}

/// The session a login made becomes the app's.
fn sign_in(state: AppState, logged_in: LoggedIn) {
    let LoggedIn {
        api,
        user,
        must_change_password,
    } = logged_in;
    state.flash.set(None);
    state.new_username.set(String::new());
    state.session.set(Some(Session {
        api,
        user,
        must_change_password,
    }));
}

/// Once the service asks for a second factor: the code from the app, or a
/// recovery code instead, with a link to switch between them.
#[component]
fn SecondFactorField(fields: LoginFields, form: FormState) -> impl IntoView {
    let LoginFields {
        code,
        asking,
        username,
        ..
    } = fields;
    let back = move |_| {
        form.start();
        code.set(String::new());
        asking.set(Asking::Password);
        dom::focus_later(vec!["#login-password".to_owned()]);
    };
    let who = move || username.get().trim().to_owned();
    let switch = move |_| {
        form.start();
        code.set(String::new());
        let next = match asking.get_untracked() {
            Asking::Recovery => Asking::Code,
            _ => Asking::Recovery,
        };
        asking.set(next);
        dom::focus_later(vec![format!("#{}", next.code_id())]);
    };
    move || {
        match asking.get() {
        Asking::Password => ().into_any(),
        Asking::Code => view! {
            <p id="login-second">"Enter the 6-digit code from your authenticator app for " <strong class="wrap">{who}</strong> "."</p>
            <Field id="login-code" name="totp_code" label="Code from your app" value=code form autocomplete="one-time-code" code=true/>
            <p><button id="login-use-recovery" class="link" type="button" on:click=switch>"Use a recovery code instead"</button></p>
            <p><button id="login-back" class="link" type="button" on:click=back>"Back"</button></p>
        }.into_any(),
        Asking::Recovery => view! {
            <p id="login-second">"Enter a recovery code for " <strong class="wrap">{who}</strong> ". Each one works once."</p>
            <Field id="login-recovery" name="recovery_code" label="Recovery code" value=code form autocomplete="off"/>
            <p><button id="login-use-code" class="link" type="button" on:click=switch>"Use the code from your app instead"</button></p>
            <p><button id="login-back" class="link" type="button" on:click=back>"Back"</button></p>
        }.into_any(),
    }
    }
}
