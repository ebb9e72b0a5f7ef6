//! `/account/security`: two-factor login (set up with a QR code, recovery
//! codes shown once, turned off with a code), the sessions one has (each
//! can be signed out, or all but this one), and recent activity.

use crate::api::{Revoke, SecondFactor};
use crate::dom;
use crate::forms::FormState;
use crate::state::AppState;
use crate::task;
use crate::widgets::{when, Field, NoticeView};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use users_protocol::{AuditEvent, AuditQuery, Secret, SessionView, TotpSetup};

#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn SecurityPage() -> impl IntoView {
    view! {
        <h2 class="page-title" tabindex="-1">"Security"</h2>
        <TwoFactor/>
        <Sessions/>
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
    let start = move |_| {
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
            <h3>"Two-factor login"</h3>
            <NoticeView notice=form.notice/>
            {move || codes.get().map(|list| view! { <RecoveryCodes list/> })}
            {move || match (on.get(), setup.get()) {
                (true, _) => view! { <TurnOff/> }.into_any(),
                (false, None) => view! {
                    <p>"A code from an authenticator app on your phone, asked for at each login, keeps your account safe even if your password is found out."</p>
                    <button id="totp-start" class="primary" type="button" on:click=start disabled=move || form.busy.get()>"Set up two-factor login"</button>
                }.into_any(),
                (false, Some(s)) => view! { <TurnOn secret=s confirm/> }.into_any(),
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
        let (c, p) = (
            code.get_untracked().trim().to_owned(),
            password.get_untracked(),
        );
        let mut ok = true;
        if c.is_empty() {
            form.field_error("code", "Enter the code your app shows");
            ok = false;
        }
        if p.is_empty() {
            form.field_error("password", "Enter your password");
            ok = false;
        }
        let Some(api) = state.api().filter(|_| ok) else {
            return;
        };
        let turn_on = async move {
            let list = api.totp_enable(Secret::new(p), Secret::new(c)).await?;
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
            dom::focus_later(vec!["#recovery-codes h4".to_owned()]);
        });
    }
}

/// The QR code and the key of a new secret, and the form that confirms it
/// with a code from the app and the password.
#[component]
fn TurnOn(secret: TotpSetup, confirm: SetUp) -> impl IntoView {
    let state = expect_context::<AppState>();
    let SetUp {
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
    view! {
        <p>"Scan this QR code with your authenticator app, or type in the key below. Then enter the code it shows, and your password."</p>
        <img id="totp-qr" src=qr width="200" height="200" alt="QR code to scan with your authenticator app"/>
        <p>"Key: " <code id="totp-secret" class="wrap">{secret.secret.expose().to_owned()}</code></p>
        <form id="totp-form" on:submit=submit novalidate>
            <Field id="totp-code" name="code" label="Code from the app" value=code form autocomplete="one-time-code"/>
            <Field id="totp-password" name="password" label="Your password" value=password form kind="password" autocomplete="current-password"/>
            <div><button id="totp-enable" class="primary" type="submit" disabled=move || form.busy.get()>"Turn on two-factor login"</button></div>
        </form>
    }
}

/// The recovery codes, shown this once, to copy or download.
#[component]
fn RecoveryCodes(list: Vec<String>) -> impl IntoView {
    let text = list.join("\n") + "\n";
    let download = dom::data_url("text/plain", &text);
    let copied = RwSignal::new(false);
    let copy = move |_| copied.set(dom::copy_text(&text));
    view! {
        <div id="recovery-codes" class="notice ok">
            <h4 tabindex="-1">"Two-factor login is on. Save your recovery codes"</h4>
            <p>"Each code logs you in once if you lose your phone. They are shown only now: copy them or download them, and keep them somewhere safe."</p>
            <ol class="codes">{list.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}</ol>
            <button id="recovery-copy" class="secondary" type="button" on:click=copy>
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
            " "
            <a id="recovery-download" class="button secondary" href=download download="recovery-codes.txt">"Download"</a>
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
        let (c, p) = (
            code.get_untracked().trim().to_owned(),
            password.get_untracked(),
        );
        let Some(api) = state.api() else { return };
        // Six digits are a code from the app; anything else a recovery code.
        let second = if c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()) {
            SecondFactor::Code(Secret::new(c))
        } else {
            SecondFactor::Recovery(Secret::new(c))
        };
        // Off, one's own record is read again, which turns the screen to "off".
        let turn_off = async move {
            api.totp_disable(Secret::new(p), Some(second), None).await?;
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
        <p id="totp-on">"Two-factor login is on: each login asks for a code from your app."</p>
        <form id="totp-off-form" on:submit=submit novalidate>
            <NoticeView notice=form.notice/>
            <Field id="totp-off-code" name="code" label="Code from the app, or a recovery code" value=code form autocomplete="one-time-code"/>
            <Field id="totp-off-password" name="password" label="Your password" value=password form kind="password" autocomplete="current-password"/>
            <div><button id="totp-disable" class="danger" type="submit" disabled=move || form.busy.get()>"Turn off two-factor login"</button></div>
        </form>
    }
}

/// The sessions of this account: where and when, and a way to end each.
#[component]
fn Sessions() -> impl IntoView {
    let state = expect_context::<AppState>();
    let list = RwSignal::new(None::<Vec<SessionView>>);
    let form = FormState::new("sessions");
    let load = move || {
        let Some(api) = state.api() else { return };
        task::run(None, api.sessions(None), move |outcome| match outcome {
            Ok(l) => list.set(Some(l.sessions)),
            Err(e) => form.fail(&e, &[]),
        });
    };
    load();
    let revoke = move |which: Revoke, done: &'static str| {
        let Some(api) = state.api() else { return };
        form.start();
        form.run(&[], api.revoke(which), move |n| {
            form.succeed(format!("{done} ({n})."));
            load();
        });
    };
    let row = move |s: SessionView| {
        let id = s.id.clone();
        let action = if s.current {
            view! { <span class="badge">"This session"</span> }.into_any()
        } else {
            view! {
                <button id=format!("revoke-{id}") class="secondary" type="button" disabled=move || form.busy.get()
                    on:click=move |_| revoke(Revoke::One(id.clone()), "Signed out")>"Sign out"</button>
            }
            .into_any()
        };
        view! {
            <tr class=if s.current { "current" } else { "" }>
                <td class="wrap">{s.user_agent.unwrap_or_else(|| "A program (no browser)".into())}</td>
                <td>{s.client_address.unwrap_or_default()}</td>
                <td>{when(Some(&s.created_at))}</td>
                <td>{when(Some(&s.last_used_at))}</td>
                <td>{action}</td>
            </tr>
        }
    };
    view! {
        <section class="section" id="sessions">
            <h3>"Where you are signed in"</h3>
            <NoticeView notice=form.notice/>
            {move || list.get().map(|l| view! {
                <div class="table-wrap">
                    <table id="sessions-table">
                        <thead><tr><th>"Browser"</th><th>"Address"</th><th>"Signed in"</th><th>"Last used"</th><th><span class="visually-hidden">"Action"</span></th></tr></thead>
                        <tbody>{l.into_iter().map(row).collect_view()}</tbody>
                    </table>
                </div>
            })}
            <button id="revoke-others" class="secondary" type="button" disabled=move || form.busy.get()
                on:click=move |_| revoke(Revoke::AllOthers, "Signed out everywhere else")>"Sign out everywhere else"</button>
        </section>
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
            <h3>"Recent activity"</h3>
            {move || events.get().map(|list| if list.is_empty() {
                view! { <p class="muted">"Nothing yet."</p> }.into_any()
            } else {
                view! {
                    <ul id="activity-list">{list.into_iter().map(|e| view! {
                        <li class=(e.outcome == "failure").then_some("failure")>
                            {when(Some(&e.at))} ": " {e.kind.as_str().replace('_', " ")}
                            {e.client_address.map(|a| format!(" from {a}"))}
                            {(e.outcome == "failure").then_some(" (failed)")}
                        </li>
                    }).collect_view()}</ul>
                }.into_any()
            })}
        </section>
    }
}
