//! `/account/security`: two-factor login (set up with a QR code, recovery
//! codes shown once, turned off with a code), passkeys (`pages::passkeys`),
//! the sessions one has (each can be signed out, or all but this one), and
//! recent activity.

use crate::api::SecondFactor;
use crate::dom;
use crate::forms::FormState;
use crate::pages::passkeys::Passkeys;
use crate::pages::sessions::Sessions;
use crate::state::AppState;
use crate::task;
use crate::widgets::{event_label, when, BusyButton, ConfirmField, Field, NoticeView};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use users_protocol::{AuditEvent, AuditQuery, Secret, TotpSetup};

#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn SecurityPage() -> impl IntoView {
    view! {
        <h1 class="page-title" tabindex="-1">"Security"</h1>
        <TwoFactor/>
        <Passkeys/>
        <Sessions target=None/>
        <Activity/>
    }
}

/// Two-factor login: set up, confirmed with a code, or turned off.
#[component]
fn TwoFactor() -> impl IntoView {
    let state = expect_context::<AppState>();
    let on = Memo::new(move |_| {
        state
            .session
            .with(|s| s.as_ref().is_some_and(|s| s.user.two_factor))
    });
    let setup = RwSignal::new(None::<TotpSetup>);
    let codes = RwSignal::new(None::<Vec<String>>);
    let form = FormState::new("totp-form");
    let start = move |()| {
        let Some(api) = state.api() else { return };
        form.start();
        form.run(&[], api.totp_setup(), move |s| {
            setup.set(Some(s));
            dom::focus_later(vec!["#totp-code".to_owned()]);
        });
    };
    let confirm = SetUp {
        setup,
        codes,
        code: RwSignal::new(String::new()),
        password: RwSignal::new(String::new()),
        form,
    };
    view! {
        <section class="section" id="two-factor">
            <h2>"Two-factor login"</h2>
            <NoticeView notice=form.notice/>
            // One step at a time: the codes just made, until saved; then on
            // or off; off, a setup under way.
            {move || match (codes.get(), on.get(), setup.get()) {
                (Some(list), _, _) => view! { <RecoveryCodes list done=Callback::new(move |()| {
                    codes.set(None);
                    dom::focus_later(vec!["#totp-on".to_owned()]);
                })/> }.into_any(),
                (None, true, _) => view! { <TurnOff/> }.into_any(),
                // No password to add a code to: every sign-in is a passkey's.
                (None, false, None) if state.passwordless() => view! {
                    <p id="totp-passkeys-only">"Your account has no password: it signs in with passkeys only, and each passkey is two factors already (your device, and its screen lock). A code would add nothing."</p>
                }.into_any(),
                (None, false, None) => view! {
                    <p>"A code from an authenticator app on your phone, asked for at each login, keeps your account safe even if your password is found out."</p>
                    <BusyButton id="totp-start" kind="button" busy=form.busy on_press=Callback::new(start)>"Set up two-factor login"</BusyButton>
                }.into_any(),
                (None, false, Some(s)) => view! { <TurnOn secret=s confirm/> }.into_any(),
            }}
        </section>
    }
}

/// A setup under way: the secret to confirm, the code and password that
/// confirm it, and where the recovery codes go once it is on.
#[derive(Clone, Copy)]
struct SetUp {
    setup: RwSignal<Option<TotpSetup>>,
    codes: RwSignal<Option<Vec<String>>>,
    code: RwSignal<String>,
    password: RwSignal<String>,
    form: FormState,
}

impl SetUp {
    /// Confirms the setup: on, the recovery codes show at once; one's own
    /// record, read again, then turns the screen to "on".
    fn confirm(self, state: AppState) {
        let SetUp {
            setup,
            codes,
            code,
            password,
            form,
        } = self;
        form.start();
        let c = code.get_untracked().trim().to_owned();
        let mut ok = true;
        if c.is_empty() {
            form.field_error("code", "Enter the code your app shows");
            ok = false;
        }
        let proof = form.proof("password", password);
        let (Some(api), Some(proof), true) = (state.api(), proof, ok) else {
            return;
        };
        let turn_on = async move {
            let list = api.totp_enable(proof, Secret::new(c)).await?;
            setup.set(None);
            code.set(String::new());
            password.set(String::new());
            codes.set(Some(list.iter().map(|c| c.expose().to_owned()).collect()));
            Ok(api.me().await.ok())
        };
        form.run(&["code", "password"], turn_on, move |me| {
            if let Some(me) = me {
                state.set_user(me);
            }
            dom::focus_later(vec!["#recovery-codes h3".to_owned()]);
        });
    }
}

/// The QR code and the key of a new secret, and the form that confirms it
/// with a code from the app and the password.
#[component]
fn TurnOn(secret: TotpSetup, confirm: SetUp) -> impl IntoView {
    let state = expect_context::<AppState>();
    let SetUp {
        setup,
        code,
        password,
        form,
        ..
    } = confirm;
    let qr = dom::data_url("image/svg+xml", &secret.qr_svg);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        confirm.confirm(state);
    };
    let key = secret.secret.expose().to_owned();
    let grouped = group_key(&key);
    let copied = RwSignal::new(false);
    let copy = move |_| copied.set(dom::copy_text(&key));
    let cancel = move |_| {
        form.start();
        setup.set(None);
        code.set(String::new());
        password.set(String::new());
        dom::focus_later(vec!["#totp-start".to_owned()]);
    };
    view! {
        <p class="steps">"Step 1 of 2: scan the code, or type in the key."</p>
        <p>"Scan this QR code with your authenticator app, or type in the key below. Then enter the code it shows, and your password."</p>
        <img id="totp-qr" src=qr width="200" height="200" alt="QR code to scan with your authenticator app"/>
        <p>"Key: " <code id="totp-secret" class="key wrap" aria-label=key_spoken(&grouped)>{grouped.clone()}</code> " "
            <button id="totp-copy" class="secondary" type="button" on:click=copy>
                {move || if copied.get() { "Copied" } else { "Copy key" }}
            </button>
        </p>
        <form id="totp-form" on:submit=submit novalidate>
            <p class="steps">"Step 2 of 2: confirm with a code."</p>
            <Field id="totp-code" name="code" label="Code from the app" value=code form autocomplete="one-time-code" code=true/>
            <ConfirmField id="totp-password" name="password" value=password form/>
            <div class="form-actions">
                <BusyButton id="totp-enable" busy=form.busy>"Turn on two-factor login"</BusyButton>
                <button id="totp-cancel" class="secondary" type="button" on:click=cancel>"Cancel"</button>
            </div>
        </form>
    }
}

/// A key in groups of four, to read and type: `ABCD EFGH …`.
fn group_key(key: &str) -> String {
    key.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The grouped key as a screen reader should read it: each group spelled.
fn key_spoken(grouped: &str) -> String {
    grouped
        .split(' ')
        .map(|g| g.chars().map(String::from).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The recovery codes, shown this once, to copy or download; `done` once
/// they are saved.
#[component]
fn RecoveryCodes(list: Vec<String>, done: Callback<()>) -> impl IntoView {
    let text = list.join("\n") + "\n";
    let download = dom::data_url("text/plain", &text);
    let copied = RwSignal::new(false);
    let copy = move |_| copied.set(dom::copy_text(&text));
    view! {
        <div id="recovery-codes" class="notice ok">
            <h3 tabindex="-1">"Two-factor login is on. Save your recovery codes"</h3>
            <p>"Each code logs you in once if you lose your phone. They are shown only now: copy them or download them, and keep them somewhere safe."</p>
            <ol class="codes">{list.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}</ol>
            <button id="recovery-copy" class="secondary" type="button" on:click=copy>
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
            " "
            <a id="recovery-download" class="button secondary" href=download download="recovery-codes.txt">"Download"</a>
            " "
            <button id="recovery-done" class="primary" type="button" on:click=move |_| done.run(())>"Done, I've saved them"</button>
        </div>
    }
}

/// Turning two-factor login off: the password, and a code or a recovery code.
#[component]
fn TurnOff() -> impl IntoView {
    let state = expect_context::<AppState>();
    let (code, password) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let form = FormState::new("totp-off-form");
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        form.start();
        let c = code.get_untracked().trim().to_owned();
        let (Some(api), Some(proof)) = (state.api(), form.proof("password", password)) else {
            return;
        };
        // Six digits are a code from the app; anything else a recovery code.
        let second = if c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()) {
            SecondFactor::Code(Secret::new(c))
        } else {
            SecondFactor::Recovery(Secret::new(c))
        };
        // Off, one's own record is read again, which turns the screen to "off".
        let turn_off = async move {
            api.totp_disable(proof, Some(second), None).await?;
            Ok(api.me().await.ok())
        };
        let fields = &["code", "recovery_code", "totp_code", "password"];
        form.run(fields, turn_off, move |me| {
            if let Some(me) = me {
                state.set_user(me);
            }
        });
    };
    view! {
        <p id="totp-on" tabindex="-1">"Two-factor login is on: each login asks for a code from your app."</p>
        <form id="totp-off-form" on:submit=submit novalidate>
            <NoticeView notice=form.notice/>
            <Field id="totp-off-code" name="code" label="Code from the app, or a recovery code" value=code form autocomplete="one-time-code"/>
            <ConfirmField id="totp-off-password" name="password" value=password form/>
            <div><BusyButton id="totp-disable" class="danger" busy=form.busy>"Turn off two-factor login"</BusyButton></div>
        </form>
    }
}

/// What happened to this account lately: sign-ins, failed ones, changes.
#[component]
fn Activity() -> impl IntoView {
    let state = expect_context::<AppState>();
    let events = RwSignal::new(None::<Vec<AuditEvent>>);
    if let Some(api) = state.api() {
        let q = AuditQuery {
            limit: Some(20),
            mine: true,
            ..Default::default()
        };
        task::run(None, api.audit(q), move |outcome| {
            if let Ok(page) = outcome {
                events.set(Some(page.events));
            }
        });
    }
    view! {
        <section class="section" id="activity">
            <h2>"Recent activity"</h2>
            {move || events.get().map(|list| if list.is_empty() {
                view! { <p class="muted">"Nothing yet."</p> }.into_any()
            } else {
                view! {
                    <ul id="activity-list">{list.into_iter().map(|e| view! {
                        <li class=(e.outcome == "failure").then_some("failure")>
                            {when(Some(&e.at))} ": " {event_label(e.kind.as_str())}
                            {e.client_address.map(|a| format!(" from {a}"))}
                            {(e.outcome == "failure" && !e.kind.as_str().contains("fail")).then_some(" (failed)")}
                        </li>
                    }).collect_view()}</ul>
                }.into_any()
            })}
        </section>
    }
}
