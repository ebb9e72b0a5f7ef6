//! Role and status on a user's page: picked, then applied after a
//! confirmation that names the change and asks for the admin's own password.
//! A mistyped password keeps the dialog and the picks.

use crate::dialog::ConfirmDialog;
use crate::forms::FormState;
use crate::state::{AppState, Notice};
use crate::task;
use crate::widgets::{
    confirm_ready, role_label, status_label, BusyButton, ConfirmField, NoticeView,
};
use leptos::prelude::*;
use users_protocol::{Role, UserStatus, UserUpdate, UserView};

/// The question that confirms a change of role and status, and the confirm
/// button's text; none when nothing changes.
fn describe(
    name: &str,
    (old_role, role): (Role, Role),
    (old_status, status): (UserStatus, UserStatus),
) -> Option<(String, String)> {
    let article = |r: Role| if r == Role::Admin { "an" } else { "a" };
    match (old_role != role, old_status != status) {
        (false, false) => None,
        (true, false) => Some((
            format!("Make {name} {} {role}?", article(role)),
            format!("Make {role}"),
        )),
        (false, true) => {
            let verb = match status {
                UserStatus::Suspended => "Suspend",
                UserStatus::Inactive => "Deactivate",
                UserStatus::Active => "Reactivate",
            };
            Some((format!("{verb} {name}?"), verb.to_owned()))
        }
        (true, true) => Some((
            format!("Make {name} {} {role}, {status}?", article(role)),
            "Apply both".to_owned(),
        )),
    }
}

/// The role and status an admin has picked, and those the service has.
/// Picking changes nothing by itself: only a confirmed Apply does.
#[derive(Clone, Copy)]
struct Picks {
    current: RwSignal<(Role, UserStatus)>,
    role: RwSignal<Role>,
    status: RwSignal<UserStatus>,
}

impl Picks {
    fn new(user: &UserView) -> Self {
        Picks {
            current: RwSignal::new((user.role, user.status)),
            role: RwSignal::new(user.role),
            status: RwSignal::new(user.status),
        }
    }

    /// Puts the picks back to what the service has.
    fn reset(&self) {
        let (r, s) = self.current.get_untracked();
        self.role.set(r);
        self.status.set(s);
    }

    /// The question and the confirm button's text for the picks (see
    /// [`describe`]); none when nothing would change. Tracked.
    fn question(&self, name: &str) -> Option<(String, String)> {
        let (r0, s0) = self.current.get();
        describe(name, (r0, self.role.get()), (s0, self.status.get()))
    }

    /// What would change, for the dialog: `Role: user → admin.` Tracked.
    fn changes(&self) -> String {
        let (r0, s0) = self.current.get();
        let (r, s) = (self.role.get(), self.status.get());
        let mut changes = Vec::new();
        if r != r0 {
            changes.push(format!("Role: {} → {}.", role_label(r0), role_label(r)));
        }
        if s != s0 {
            changes.push(format!(
                "Status: {} → {}.",
                status_label(s0),
                status_label(s)
            ));
        }
        changes.join(" ")
    }

    /// The update that makes the picks the service's.
    fn update(&self) -> UserUpdate {
        let (r0, s0) = self.current.get_untracked();
        let (r, s) = (self.role.get_untracked(), self.status.get_untracked());
        UserUpdate {
            role: (r != r0).then_some(r),
            status: (s != s0).then_some(s),
            ..Default::default()
        }
    }
}

/// Role and status: picked, then applied after a confirmation.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(super) fn Access(user: UserView, on_saved: Callback<UserView>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let name = user.username.clone();
    let picks = Picks::new(&user);
    let asking = RwSignal::new(false);
    // A role or a status changes only with the admin's own password.
    let password = RwSignal::new(String::new());
    let form = FormState::new("access-form");
    // The dialog's own: its errors show in it, on its password field.
    let dform = FormState::new("access-dialog");
    let ready = confirm_ready(password);
    // A closed question leaves the picks as the service has them: Cancel
    // (and Esc) change nothing, and a confirmed change is the service's now.
    Effect::new(move |_| {
        if !asking.get() {
            picks.reset();
        }
    });
    let question = {
        let name = name.clone();
        Memo::new(move |_| picks.question(&name))
    };
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.start();
        if question.get_untracked().is_none() {
            form.notice
                .set(Some(Notice::info("Pick a new role or status first.")));
            form.focus_outcome();
            return;
        }
        password.set(String::new());
        dform.start();
        asking.set(true);
    };
    let confirm = Callback::new(move |()| {
        dform.start();
        let (Some(api), Some(proof)) = (state.api(), dform.proof("current_password", password))
        else {
            return;
        };
        let target = name.clone();
        let call = api.update_confirmed(picks.update(), proof, Some(target.clone()));
        task::run(Some(dform.busy), call, move |outcome| match outcome {
            Ok(u) => {
                asking.set(false);
                picks.current.set((u.role, u.status));
                on_saved.try_run(u);
                form.start();
                form.succeed(format!("Updated {target}."));
            }
            // The dialog stays, with the picks: a mistyped password is
            // typed again, not the whole choice made again.
            Err(e) => {
                password.set(String::new());
                dform.fail_unchanged(&e, &["current_password"]);
            }
        });
    });
    let Picks { role, status, .. } = picks;
    // Taking something away is red; giving, or changing a role, is not.
    let danger = Memo::new(move |_| {
        let (r0, _) = picks.current.get();
        status.get() != UserStatus::Active || role.get() < r0
    });
    view! {
        <section class="section">
            <h2>"Access"</h2>
            <form id="access-form" on:submit=apply novalidate>
                <NoticeView notice=form.notice/>
                <div class="grid2">
                    <Pick id="user-role" label="Role" options=Role::ALL.iter().map(|&r| (r.as_str(), role_label(r))).collect()
                        value=Signal::derive(move || role.get().as_str())
                        on_pick=Callback::new(move |v: String| if let Some(r) = Role::from_name(&v) { role.set(r) })/>
                    <Pick id="user-status" label="Status" options=UserStatus::ALL.iter().map(|&s| (s.as_str(), status_label(s))).collect()
                        value=Signal::derive(move || status.get().as_str())
                        on_pick=Callback::new(move |v: String| if let Some(s) = UserStatus::from_name(&v) { status.set(s) })/>
                </div>
                <div><BusyButton id="access-apply" class="secondary" busy=dform.busy>"Apply…"</BusyButton></div>
            </form>
        </section>
        <ConfirmDialog id="access-dialog" opener="access-apply" open=asking
            title=Signal::derive(move || question.get().map(|q| q.0).unwrap_or_default())
            confirm_label=Signal::derive(move || question.get().map(|q| q.1).unwrap_or_default())
            ready busy=dform.busy danger
            on_confirm=confirm>
            <NoticeView notice=dform.notice/>
            <p>{move || picks.changes()}</p>
            <ConfirmField id="access-password" name="current_password" value=password form=dform/>
        </ConfirmDialog>
    }
}

/// A labelled select of (wire name, label) options; picking one only hands
/// its wire name to `on_pick`.
#[component]
fn Pick(
    id: &'static str,
    label: &'static str,
    options: Vec<(&'static str, &'static str)>,
    value: Signal<&'static str>,
    on_pick: Callback<String>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id prop:value=move || value.get() on:change=move |ev| on_pick.run(event_target_value(&ev))>
                {options.into_iter().map(|(v, l)| view! { <option value=v>{l}</option> }).collect_view()}
            </select>
        </div>
    }
}

#[cfg(test)]
#[path = "access_tests.rs"]
mod tests;
