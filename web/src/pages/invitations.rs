//! `/admin/invitations`, for admins: invite someone with a role (a link,
//! shown once, with its QR code, for a few hours or days), and the open
//! invitations, each revocable. The invitee makes their own account at the
//! link (`/invite/<token>`, the registration form with the token).

use crate::api::{NewInvite, Proof};
use crate::forms::FormState;
use crate::loaded::Loaded;
use crate::routes::INVITE;
use crate::state::AppState;
use crate::widgets::{
    role_label, when, BusyButton, ConfirmField, Field, LoadFailed, NoticeView, ShownLink,
};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use users_protocol::{Invitation, InviteCreated, Role};

/// How long an invitation may stay open, as offered.
const LIFETIMES: [(&str, &str); 4] = [
    ("1h", "1 hour"),
    ("24h", "1 day"),
    ("72h", "3 days"),
    ("168h", "7 days"),
];

#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn InvitationsPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let Loaded {
        data: list,
        failed,
        reload: load,
    } = Loaded::new(|api| api.invitations());
    let form = FormState::new("invite-list");
    let revoke = Callback::new(move |id: String| {
        let Some(api) = state.api() else { return };
        form.start();
        form.run(&[], api.revoke_invite(id), move |()| {
            form.succeed("Invitation revoked: its link no longer works.");
            load.run(());
        });
    });
    let rows = move || match (list.get(), failed.get()) {
        (_, Some(message)) => {
            view! { <LoadFailed id="invites-retry" what="invitations" message retry=load/> }
                .into_any()
        }
        (None, None) => view! { <p class="muted">"Loading…"</p> }.into_any(),
        (Some(l), None) if l.is_empty() => {
            view! { <p class="muted" id="invites-none">"No open invitations."</p> }.into_any()
        }
        (Some(l), None) => view! {
            <div class="table-wrap">
                <table id="invites-table">
                    <thead><tr><th>"Role"</th><th>"For"</th><th>"By"</th><th>"Open until"</th>
                        <th><span class="visually-hidden">"Action"</span></th></tr></thead>
                    <tbody>{l.into_iter().map(|i| row(i, form.busy, revoke)).collect_view()}</tbody>
                </table>
            </div>
        }
        .into_any(),
    };
    view! {
        <h1 class="page-title" tabindex="-1">"Invitations"</h1>
        <NewInvitation load/>
        <section class="section" id="invite-list">
            <h2>"Open invitations"</h2>
            <NoticeView notice=form.notice/>
            {rows}
        </section>
    }
}

fn row(i: Invitation, busy: RwSignal<bool>, revoke: Callback<String>) -> impl IntoView {
    let whom = [i.email.as_deref(), i.note.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    let id = i.invite_id.clone();
    let named = match whom.as_str() {
        "" => format!(" the {} invitation", role_label(i.role).to_lowercase()),
        w => format!(" the invitation {w}"),
    };
    view! {
        <tr>
            <td>{role_label(i.role)}</td>
            <td class="wrap">{whom}</td>
            <td>{i.created_by}</td>
            <td>{when(Some(&i.expires_at))}</td>
            <td><BusyButton id=format!("invite-revoke-{}", i.invite_id) kind="button" class="secondary" busy
                on_press=Callback::new(move |()| revoke.run(id.clone()))>
                "Revoke"<span class="visually-hidden">{named}</span>
            </BusyButton></td>
        </tr>
    }
}

/// A select of `options` (value, label) bound to `value`.
fn select(
    id: &'static str,
    value: RwSignal<String>,
    options: Vec<(&'static str, &'static str)>,
) -> impl IntoView {
    view! {
        <select id=id prop:value=move || value.get() on:change=move |ev| value.set(event_target_value(&ev))>
            {options.into_iter().map(|(v, l)| {
                // Selected as made: the select's value is set before its options exist.
                let selected = value.with_untracked(|now| now == v);
                view! { <option value=v selected=selected>{l}</option> }
            }).collect_view()}
        </select>
    }
}

/// The invitation the form's fields (role, lifetime, email, note) ask
/// for, confirmed with `proof`, its link under this page's origin.
fn invite_of([role, lifetime, email, note]: [RwSignal<String>; 4], proof: Proof) -> NewInvite {
    let given =
        |s: RwSignal<String>| Some(s.get_untracked().trim().to_owned()).filter(|s| !s.is_empty());
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    NewInvite {
        role: match role.get_untracked().as_str() {
            "admin" => Role::Admin,
            "moderator" => Role::Moderator,
            _ => Role::User,
        },
        email: given(email),
        expires_in: lifetime.get_untracked(),
        note: given(note),
        proof,
        link_prefix: format!("{origin}{INVITE}"),
    }
}

/// The form that makes an invitation, and the link it made.
#[component]
fn NewInvitation(load: Callback<()>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let form = FormState::new("invite-form");
    let role = RwSignal::new("user".to_owned());
    let lifetime = RwSignal::new("72h".to_owned());
    let email = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let made = RwSignal::new(None::<InviteCreated>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        form.start();
        made.set(None);
        let (Some(api), Some(proof)) = (state.api(), form.proof("current_password", password))
        else {
            return;
        };
        let invite = invite_of([role, lifetime, email, note], proof);
        form.run(
            &["email", "note", "current_password"],
            api.invite(invite),
            move |i| {
                password.set(String::new());
                email.set(String::new());
                note.set(String::new());
                made.set(Some(i));
                load.run(());
                crate::dom::focus_later(vec!["#invite-link".to_owned()]);
            },
        );
    };

    let roles = [Role::User, Role::Moderator, Role::Admin]
        .map(|r| (r.as_str(), role_label(r)))
        .to_vec();
    view! {
        <section class="section">
            <h2>"Invite someone"</h2>
            <form id="invite-form" on:submit=submit novalidate>
                <NoticeView notice=form.notice/>
                <div class="field"><label for="invite-role">"Role"</label>{select("invite-role", role, roles)}</div>
                <div class="field"><label for="invite-lifetime">"Open for"</label>{select("invite-lifetime", lifetime, LIFETIMES.to_vec())}</div>
                <Field id="invite-email" name="email" label="Their email (optional)" value=email form kind="email" autocomplete="off"
                    help="Then the account must have this address."/>
                <Field id="invite-note" name="note" label="Note (optional)" value=note form help="Whom it is for, shown in the list."/>
                <ConfirmField id="invite-password" name="current_password" value=password form/>
                <div><BusyButton id="invite-create" busy=form.busy>
                    {move || if form.busy.get() { "Creating…" } else { "Create invitation" }}
                </BusyButton></div>
            </form>
            {move || made.get().map(|i| {
                let intro = format!("Send this link to the person you invite (it is shown only now). It works once, until {}.", when(Some(&i.expires_at)));
                view! { <ShownLink id="invite" intro link=i.link.unwrap_or_default() qr_svg=i.qr_svg/> }
            })}
        </section>
    }
}
