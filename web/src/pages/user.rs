//! `/admin/users/<username>`: one user, for admins and moderators to look at
//! and for admins to change: profile, role and status (after a confirmation
//! that names the change), password, and deletion (after typing the username).

use crate::api::Revoke;
use crate::dialog::ConfirmDialog;
use crate::forms::FormState;
use crate::nav;
use crate::pages::profile::{Meta, ProfileForm};
use crate::routes::Screen;
use crate::state::{AppState, Notice};
use crate::task;
use crate::widgets::{Field, NoticeView};
use leptos::prelude::*;
use users_protocol::{validate, ErrorCode, Role, Secret, UserStatus, UserUpdate, UserView};

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

/// The page of the user named `name`.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn UserPage(name: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let user = RwSignal::new(None::<UserView>);
    let notice = RwSignal::new(None::<Notice>);
    let missing = RwSignal::new(false);
    // Each name is a screen of its own (see `Screens`): this loads once.
    let title = name.clone();
    Effect::new(move |_| {
        let Some(api) = state.api() else { return };
        user.set(None);
        missing.set(false);
        task::run(None, api.user(name.clone()), move |outcome| match outcome {
            Ok(u) => user.set(Some(u)),
            Err(e) if e.code() == Some(ErrorCode::NotFound) => missing.set(true),
            Err(e) => notice.set(Some(Notice::err(state.fail(&e)))),
        });
    });
    let is_admin = Memo::new(move |_| state.role() == Some(Role::Admin));
    // Built once per user shown, so that saving does not reset the forms.
    let shown = Memo::new(move |_| user.with(|u| u.as_ref().map(|u| u.username.clone())));
    view! {
        <p class="crumbs"><a href=Screen::Users.path()>"All users"</a></p>
        <h2 class="page-title wrap" tabindex="-1">{title}</h2>
        <NoticeView notice/>
        {move || missing.get().then(|| view! {
            <p id="user-missing">"There is no user by this name. They may have been renamed or deleted."</p>
        })}
        {move || user.get().map(|u| view! { <Meta user=u/> })}
        {move || shown.get().and_then(|_| user.get_untracked()).map(|u| if is_admin.get_untracked() {
            view! { <Controls user=u on_change=user/> }.into_any()
        } else {
            view! { <p class="muted">"Only admins can change users."</p> }.into_any()
        })}
    }
}

/// An admin's controls for `user`; `on_change` gets the user as the service
/// returns it after each change.
#[component]
fn Controls(user: UserView, on_change: RwSignal<Option<UserView>>) -> impl IntoView {
    let security_user = user.clone();
    let name = user.username.clone();
    let saved = Callback::new(move |u: UserView| on_change.set(Some(u)));
    view! {
        <Access user=user.clone() on_saved=saved/>
        <section class="section">
            <h3>"Profile"</h3>
            <ProfileForm user target=Some(name.clone()) on_saved=saved/>
        </section>
        <SetPassword name=name.clone()/>
        <Security user=security_user/>
        <Delete name/>
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
            changes.push(format!("Role: {r0} → {r}."));
        }
        if s != s0 {
            changes.push(format!("Status: {s0} → {s}."));
        }
        changes.join(" ")
    }

    /// The update that makes the picks the service's, with the admin's
    /// own password.
    fn update(&self, password: String) -> UserUpdate {
        let (r0, s0) = self.current.get_untracked();
        let (r, s) = (self.role.get_untracked(), self.status.get_untracked());
        UserUpdate {
            role: (r != r0).then_some(r),
            status: (s != s0).then_some(s),
            current_password: Some(Secret::new(password)),
            ..Default::default()
        }
    }
}

/// Role and status: picked, then applied after a confirmation.
#[component]
fn Access(user: UserView, on_saved: Callback<UserView>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let name = user.username.clone();
    let picks = Picks::new(&user);
    let asking = RwSignal::new(false);
    // A role or a status changes only with the admin's own password.
    let password = RwSignal::new(String::new());
    let form = FormState::new("access-form");
    let ready = Signal::derive(move || password.with(|p| !p.is_empty()));
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
        asking.set(true);
    };
    let confirm = Callback::new(move |()| {
        let Some(api) = state.api() else { return };
        let update = picks.update(password.get_untracked());
        let target = name.clone();
        let call = api.update(update, Some(target.clone()));
        task::run(Some(form.busy), call, move |outcome| {
            asking.set(false);
            match outcome {
                Ok(u) => {
                    picks.current.set((u.role, u.status));
                    on_saved.try_run(u);
                    form.succeed(format!("Updated {target}."));
                }
                // The dialog has closed: the error goes in the form's notice.
                Err(e) => form.fail(&e, &[]),
            }
        });
    });
    let Picks { role, status, .. } = picks;
    view! {
        <section class="section">
            <h3>"Role and status"</h3>
            <form id="access-form" on:submit=apply novalidate>
                <NoticeView notice=form.notice/>
                <div class="grid2">
                    <Pick id="user-role" label="Role" names=Role::NAMES value=Signal::derive(move || role.get().as_str())
                        on_pick=Callback::new(move |v: String| if let Some(r) = Role::from_name(&v) { role.set(r) })/>
                    <Pick id="user-status" label="Status" names=UserStatus::NAMES value=Signal::derive(move || status.get().as_str())
                        on_pick=Callback::new(move |v: String| if let Some(s) = UserStatus::from_name(&v) { status.set(s) })/>
                </div>
                <div><button id="access-apply" class="primary" type="submit" disabled=move || form.busy.get()>"Apply…"</button></div>
            </form>
        </section>
        <ConfirmDialog id="access-dialog" opener="access-apply" open=asking
            title=Signal::derive(move || question.get().map(|q| q.0).unwrap_or_default())
            confirm_label=Signal::derive(move || question.get().map(|q| q.1).unwrap_or_default())
            ready busy=form.busy
            on_confirm=confirm>
            <p>{move || picks.changes()}</p>
            <Field id="access-password" name="current_password" label="Your password" value=password form kind="password" autocomplete="current-password"/>
        </ConfirmDialog>
    }
}

/// A labelled select of wire names; picking one only hands it to `on_pick`.
#[component]
fn Pick(
    id: &'static str,
    label: &'static str,
    names: &'static [&'static str],
    value: Signal<&'static str>,
    on_pick: Callback<String>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id prop:value=move || value.get() on:change=move |ev| on_pick.run(event_target_value(&ev))>
                {names.iter().map(|n| view! { <option value=*n>{*n}</option> }).collect_view()}
            </select>
        </div>
    }
}

/// A new password, set by an admin with their own password.
#[component]
fn SetPassword(name: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let (new, again) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let mine = RwSignal::new(String::new());
    let form = FormState::new("reset-form");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.start();
        let p = new.get_untracked();
        let mut ok = form.check([validate::password(
            "password",
            &p,
            validate::PASSWORD_MIN_DEFAULT,
        )]);
        if p != again.get_untracked() {
            form.field_error("confirm", "Passwords do not match");
            ok = false;
        }
        if mine.with_untracked(String::is_empty) {
            form.field_error("current_password", "Enter your own password");
            ok = false;
        }
        let Some(api) = state.api().filter(|_| ok) else {
            return;
        };
        let update = UserUpdate {
            password: Some(Secret::new(p)),
            current_password: Some(Secret::new(mine.get_untracked())),
            ..Default::default()
        };
        let target = name.clone();
        let call = api.update(update, Some(target.clone()));
        form.run(&["password", "current_password"], call, move |_| {
            new.set(String::new());
            again.set(String::new());
            mine.set(String::new());
            form.succeed(format!("Password set for {target}."));
        });
    };
    view! {
        <section class="section">
            <h3>"Password"</h3>
            <form id="reset-form" on:submit=submit novalidate>
                <NoticeView notice=form.notice/>
                <div class="grid2">
                    <Field id="reset-password" name="password" label="New password" value=new form kind="password" autocomplete="new-password"/>
                    <Field id="reset-confirm" name="confirm" label="Confirm new password" value=again form kind="password" autocomplete="new-password"/>
                </div>
                <Field id="reset-own-password" name="current_password" label="Your password" value=mine form kind="password" autocomplete="current-password"/>
                <div><button id="reset-save" class="primary" type="submit" disabled=move || form.busy.get()>"Set password"</button></div>
            </form>
        </section>
    }
}

/// Ending all of the user's sessions, and turning off their two-factor
/// login (for a user who lost their phone), with the admin's own password.
#[component]
fn Security(user: UserView) -> impl IntoView {
    let state = expect_context::<AppState>();
    let name = user.username.clone();
    let two_factor = RwSignal::new(user.two_factor);
    let form = FormState::new("user-security");
    let asking = RwSignal::new(false);
    let password = RwSignal::new(String::new());
    let end_all = {
        let name = name.clone();
        move |_| {
            let Some(api) = state.api() else { return };
            let target = name.clone();
            form.start();
            form.run(&[], api.revoke(Revoke::AllOf(target.clone())), move |n| {
                form.succeed(format!("Ended {n} session(s) of {target}."));
            });
        }
    };
    let reset = {
        let name = name.clone();
        Callback::new(move |()| {
            let Some(api) = state.api() else { return };
            let (target, pw) = (name.clone(), password.get_untracked());
            form.start();
            let call = api.totp_disable(Secret::new(pw), None, Some(target.clone()));
            task::run(Some(form.busy), call, move |outcome| {
                asking.set(false);
                match outcome {
                    Ok(()) => {
                        two_factor.set(false);
                        form.succeed(format!("Two-factor login is off for {target}."));
                    }
                    Err(e) => form.fail(&e, &[]),
                }
            });
        })
    };
    let open = move |_| {
        password.set(String::new());
        asking.set(true);
    };
    view! {
        <section class="section" id="user-security">
            <h3>"Sessions and two-factor login"</h3>
            <NoticeView notice=form.notice/>
            <p>{move || if two_factor.get() { "Two-factor login is on." } else { "Two-factor login is off." }}</p>
            <button id="end-sessions" class="secondary" type="button" on:click=end_all disabled=move || form.busy.get()>"End all sessions"</button>
            " "
            <Show when=move || two_factor.get()>
                <button id="reset-2fa" class="danger" type="button" on:click=open disabled=move || form.busy.get()>"Reset two-factor login…"</button>
            </Show>
        </section>
        <ConfirmDialog id="reset-2fa-dialog" opener="reset-2fa" open=asking
            title=format!("Turn off two-factor login for {name}?")
            confirm_label="Turn it off"
            ready=Signal::derive(move || password.with(|p| !p.is_empty())) busy=form.busy on_confirm=reset>
            <p>"They will log in with their password alone until they set it up again."</p>
            <Field id="reset-2fa-password" name="password" label="Your password" value=password form kind="password" autocomplete="current-password"/>
        </ConfirmDialog>
    }
}

/// Deletion, after typing the username and the admin's own password.
#[component]
fn Delete(name: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let location = nav::location();
    let asking = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let form = FormState::new("delete-user-dialog");
    let ready = {
        let name = name.clone();
        Signal::derive(move || typed.with(|t| t.trim() == name) && password.with(|p| !p.is_empty()))
    };
    let confirm = {
        let name = name.clone();
        Callback::new(move |()| {
            let Some(api) = state.api() else { return };
            let (target, pw) = (name.clone(), password.get_untracked());
            form.start();
            let call = api.delete(Secret::new(pw), Some(target.clone()));
            form.run(&["password"], call, move |()| {
                // Only from this page: an admin who has moved on stays put.
                if asking.try_get_untracked().is_some() {
                    state.flash_on(Screen::Users, Notice::ok(format!("Deleted {target}.")));
                    asking.set(false);
                    location.navigate(&Screen::Users.path(), false);
                }
            });
        })
    };
    let open = move |_| {
        typed.set(String::new());
        password.set(String::new());
        form.start();
        asking.set(true);
    };
    view! {
        <section class="section">
            <h3>"Delete"</h3>
            <p>"Removes the account and all its data, and ends its sessions. It cannot be undone."</p>
            <button id="delete-user" class="danger" type="button" on:click=open>"Delete " {name.clone()} "…"</button>
        </section>
        <ConfirmDialog id="delete-user-dialog" opener="delete-user" open=asking
            title=format!("Delete {name}?")
            confirm_label=format!("Delete {name}")
            ready busy=form.busy on_confirm=confirm>
            <NoticeView notice=form.notice/>
            <Field id="delete-user-name" name="confirm_name" label=format!("Type {name} to confirm") value=typed form/>
            <Field id="delete-user-password" name="password" label="Your password" value=password form kind="password" autocomplete="current-password"/>
        </ConfirmDialog>
    }
}

#[cfg(test)]
#[path = "user_tests.rs"]
mod tests;
