//! Small view pieces the pages share: notices, labelled fields, times for
//! people, and the password strength hint.

use crate::dom;
use crate::forms::FormState;
use crate::state::{AppState, Notice, Tone};
use leptos::prelude::*;
use users_protocol::{validate, Role, UserStatus};

/// Renders a notice, if any, in a live region that is always on the page (so
/// that screen readers announce what appears in it): errors in an `alert`, the
/// rest in a `status`.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn NoticeView(#[prop(into)] notice: Signal<Option<Notice>>) -> impl IntoView {
    let shown = move |err: bool| {
        notice
            .get()
            .filter(|n| (n.tone == Tone::Err) == err)
            .map(|n| {
                let class = match n.tone {
                    Tone::Ok => "notice ok",
                    Tone::Err => "notice err",
                    Tone::Info => "notice info",
                };
                // Focusable, so that focus can be moved to the outcome of an action.
                view! { <p class=class tabindex="-1">{n.text}</p> }
            })
    };
    view! {
        <div role="status" class="live">{move || shown(false)}</div>
        <div role="alert" class="live">{move || shown(true)}</div>
    }
}

/// Where a form asks the signed-in user to confirm a change: the password
/// field, or for an account without a password a line saying that the
/// passkey is asked for on submit (`FormState::proof`).
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn ConfirmField(
    /// The password field's id; the line's when it is shown instead.
    id: &'static str,
    /// The password's protocol field name.
    name: &'static str,
    #[prop(default = "Your password")] label: &'static str,
    value: RwSignal<String>,
    form: FormState,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    move || {
        match state.passwordless() {
        true => view! {
            <p class="field-help" id=id>"Your passkey confirms this: your device asks for it when you go on."</p>
        }
        .into_any(),
        false => view! {
            <Field id name label value form kind="password" autocomplete="current-password"/>
        }
        .into_any(),
    }
    }
}

/// Whether a dialog's confirmation is ready to send: the password typed,
/// or none needed (an account without one confirms with its passkey).
pub(crate) fn confirm_ready(password: RwSignal<String>) -> Signal<bool> {
    let state = expect_context::<AppState>();
    Signal::derive(move || state.passwordless() || password.with(|p| !p.is_empty()))
}

/// A labelled input whose error, when it has one, shows beneath it and is tied
/// to it (`aria-describedby`, `aria-invalid`). A password input gets a Show
/// toggle button (`aria-pressed`), which reveals it as text until pressed
/// again; its name starts with its visible text. `help` is a rule shown under
/// the label before anyone types; `children` (a strength hint) sit inside the
/// field, under the error, so they cost no gap of the form's own.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn Field(
    /// Element id (unique on the page).
    #[prop(into)]
    id: String,
    /// Protocol field name: the form's errors are keyed by it.
    name: &'static str,
    #[prop(into)] label: String,
    value: RwSignal<String>,
    form: FormState,
    /// The input's `type`.
    #[prop(default = "text")]
    kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    /// The id of a hint that describes the field too, such as a strength hint.
    #[prop(optional)]
    hint: Option<&'static str>,
    /// A rule to read before typing: "At least 6 characters."
    #[prop(optional, into)]
    help: Option<String>,
    /// A six-digit code: the phone's number pad, and a field as wide as a code.
    #[prop(optional)]
    code: bool,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let error = move || form.errors.with(|m| m.get(name).cloned());
    let err_id = format!("{id}-error");
    let help_id = format!("{id}-help");
    let described_by = [
        help.as_ref().map(|_| help_id.clone()),
        Some(err_id.clone()),
        hint.map(str::to_owned),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    // Names, addresses, codes and passwords are not prose: no capital
    // first letter, no spelling marks.
    let plain =
        kind != "text" || code || matches!(autocomplete, "username" | "email" | "one-time-code");
    let shown = RwSignal::new(false);
    let input_type = move || {
        if kind == "password" && shown.get() {
            "text"
        } else {
            kind
        }
    };
    let toggle = (kind == "password").then(|| {
        view! {
            <button type="button" class="secondary reveal" id=format!("{id}-show")
                aria-controls=id.clone()
                aria-pressed=move || if shown.get() { "true" } else { "false" }
                on:click=move |_| shown.update(|s| *s = !*s)>
                "Show"<span class="visually-hidden">{format!(" {}", label.to_lowercase())}</span>
            </button>
        }
    });
    view! {
        <div class="field">
            <label for=id.clone()>{label.clone()}</label>
            {help.map(|h| view! { <p class="field-help" id=help_id>{h}</p> })}
            <div class="input-row">
                <input
                    id=id.clone()
                    name=name
                    type=input_type
                    class=code.then_some("code")
                    inputmode=code.then_some("numeric")
                    maxlength=code.then_some("6")
                    autocomplete=autocomplete
                    autocapitalize=plain.then_some("none")
                    spellcheck=plain.then_some("false")
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                    aria-invalid=move || if error().is_some() { "true" } else { "false" }
                    aria-describedby=described_by
                />
                {toggle}
            </div>
            <p class="error" id=err_id>{error}</p>
            {children.map(|c| c())}
        </div>
    }
}

/// A button that stays focusable while its action runs: `aria-disabled`,
/// not `disabled`, which would drop focus to the page's body. A press while
/// busy does nothing (for a submit button, neither does Enter in a field).
/// `blocked` is for a button that may not be pressed yet, as disabled.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn BusyButton(
    #[prop(into)] id: String,
    // Plain types rather than `Signal`s: every call site would otherwise
    // compile a conversion of its own into the download.
    busy: RwSignal<bool>,
    #[prop(default = "submit")] kind: &'static str,
    #[prop(default = "primary")] class: &'static str,
    #[prop(optional)] blocked: Option<Signal<bool>>,
    /// Runs on a press that is not ignored (a submit button needs none: its
    /// form's submit runs).
    #[prop(optional)]
    on_press: Option<Callback<()>>,
    children: Children,
) -> impl IntoView {
    let click = move |ev: leptos::ev::MouseEvent| {
        if busy.get_untracked() {
            ev.prevent_default();
        } else if let Some(f) = on_press {
            f.run(());
        }
    };
    view! {
        <button id=id type=kind class=class disabled=move || blocked.is_some_and(|b| b.get())
            aria-disabled=move || busy.get().then_some("true") on:click=click>
            {children()}
        </button>
    }
}

/// What a screen shows in place of what it could not load: why, and Retry.
/// A screen that loads from the service also tries again by itself when the
/// service comes back (see
/// [`AppState::when_back`](crate::state::AppState::when_back)); a screen whose
/// code could not be downloaded ([`crate::lazy`]) waits for Retry.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn LoadFailed(
    /// The Retry button's id.
    id: &'static str,
    /// What was being loaded: "users".
    what: &'static str,
    message: String,
    retry: Callback<()>,
) -> impl IntoView {
    // Focus leaves Retry for the screen's title first: the button goes
    // once the load works.
    let again = move |_| {
        dom::focus_now(&["main .page-title".to_owned()]);
        retry.run(());
    };
    // Put in place as it fails, so an alert: no other change says so when
    // the banner does not.
    view! {
        <span class="load-failed" role="alert">
            {format!("Couldn't load {what}. {message} ")}
            <button id=id class="secondary" type="button" on:click=again>"Retry"</button>
        </span>
    }
}

/// A role as people read it: "Moderator".
pub(crate) fn role_label(role: Role) -> &'static str {
    match role {
        Role::User => "User",
        Role::Moderator => "Moderator",
        Role::Admin => "Admin",
    }
}

/// A status as people read it: "Suspended".
pub(crate) fn status_label(status: UserStatus) -> &'static str {
    match status {
        UserStatus::Active => "Active",
        UserStatus::Inactive => "Inactive",
        UserStatus::Suspended => "Suspended",
    }
}

/// `n` and a noun, in the singular for one: "1 session", "3 sessions".
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// An event's wire name for people: "login_failed" is "Login failed".
pub(crate) fn event_label(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A stored RFC 3339 time for people: `2026-11-24 12:54 UTC`; `never` for none.
pub(crate) fn when(t: Option<&str>) -> String {
    match t {
        Some(t) if t.len() >= 16 => format!("{} {} UTC", &t[..10], &t[11..16]),
        Some(t) => t.to_owned(),
        None => "never".into(),
    }
}

/// The day of a stored RFC 3339 time, for narrow columns: `2026-11-24`.
pub(crate) fn day(t: Option<&str>) -> String {
    match t {
        Some(t) if t.len() >= 10 => t[..10].to_owned(),
        other => when(other),
    }
}

/// The most common passwords, most common first (see `build.rs`).
const COMMON: &str = include_str!(concat!(env!("OUT_DIR"), "/common.txt"));

/// Whether `password` is one of the most common passwords, in any case, as
/// the service looks it up.
fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    COMMON.lines().any(|w| w == lower)
}

/// The strength hint under a new password, updated while typing. A hint
/// only: the service's rules decide. Nothing shows while the field has an
/// error, which says more.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn StrengthHint(
    id: &'static str,
    #[prop(into)] password: Signal<String>,
    /// The account's username and email: a password holding them is weak.
    #[prop(into)]
    names: Signal<Vec<String>>,
    /// The form, and the password's field name in it.
    form: FormState,
    field: &'static str,
) -> impl IntoView {
    let text = move || {
        let p = password.get();
        if p.is_empty() || form.errors.with(|e| e.contains_key(field)) {
            return String::new();
        }
        if is_common(&p) {
            return "Strength: Weak: a very common password".to_owned();
        }
        let names = names.get();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let s = users_protocol::strength::strength(&p, &names, validate::PASSWORD_MIN_DEFAULT);
        format!("Strength: {}", s.hint())
    };
    // Tied to its field by `aria-describedby` (the field's `hint`), not a
    // live region: it is read with the field, not at every keystroke.
    view! { <p id=id class="hint">{text}</p> }
}

/// The rule a new password's field states before anyone types.
pub(crate) fn password_help() -> String {
    format!(
        "At least {} characters. Avoid common passwords.",
        validate::PASSWORD_MIN_DEFAULT
    )
}

/// A link made for someone, shown once: to copy, or to scan from this
/// screen. Its elements are `{id}-made`, `{id}-link`, `{id}-copy`, `{id}-qr`.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn ShownLink(
    id: &'static str,
    intro: String,
    link: String,
    qr_svg: Option<String>,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = {
        let link = link.clone();
        move |_| copied.set(dom::copy_text(&link))
    };
    let qr = qr_svg.map(|svg| dom::data_url("image/svg+xml", &svg));
    view! {
        <div class="made-link" id=format!("{id}-made")>
            <p id=format!("{id}-intro")>{intro}</p>
            <div class="input-row">
                <input id=format!("{id}-link") readonly aria-label="Link"
                    aria-describedby=format!("{id}-intro") prop:value=link/>
                <button id=format!("{id}-copy") class="secondary" type="button" on:click=copy>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
            {qr.map(|src| view! { <img id=format!("{id}-qr") src=src width="200" height="200" alt="The link as a QR code, to scan with a phone"/> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_for_narrow_columns() {
        assert_eq!(super::day(Some("2026-11-24T12:54:27Z")), "2026-11-24");
        assert_eq!(super::day(None), "never");
    }

    #[test]
    fn the_most_common_passwords_are_known_in_any_case() {
        assert!(super::is_common("iloveyou"));
        assert!(super::is_common("ILoveYou"));
        assert!(!super::is_common("a long and unusual phrase 9"));
    }

    #[test]
    fn labels_for_people() {
        assert_eq!(super::event_label("login_failed"), "Login failed");
        assert_eq!(super::count(1, "session", "sessions"), "1 session");
        assert_eq!(super::count(0, "session", "sessions"), "0 sessions");
    }

    #[test]
    fn times_for_people() {
        assert_eq!(
            super::when(Some("2026-11-24T12:54:27Z")),
            "2026-11-24 12:54 UTC"
        );
        assert_eq!(super::when(None), "never");
    }
}
