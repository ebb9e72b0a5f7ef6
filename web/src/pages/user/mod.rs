//! `/admin/users/<username>`: one user, for admins and moderators to look
//! at and for admins to change, in blocks: access (role and status, in
//! [`access`]), profile, sign-in (password, sessions, two-factor login), and
//! a danger zone (in [`danger`]) for what ends or removes, with a recovery
//! link (in [`recovery`]).

mod access;
mod danger;
mod recovery;

use crate::forms::FormState;
use crate::pages::profile::{Meta, ProfileForm};
use crate::pages::sessions::Sessions;
use crate::routes::Screen;
use crate::state::AppState;
use crate::task;
use crate::widgets::{password_help, BusyButton, ConfirmField, Field, LoadFailed, NoticeView};
use access::Access;
use danger::DangerZone;
use leptos::prelude::*;
use users_protocol::{validate, ErrorCode, Role, Secret, UserUpdate, UserView};

/// The page of the user named `name`.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn UserPage(name: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let user = RwSignal::new(None::<UserView>);
    let failed = RwSignal::new(None::<String>);
    let missing = RwSignal::new(false);
    let title = name.clone();
    // Each name is a screen of its own (see `Screens`): this loads once,
    // and again only after a failure (Retry, or the server back).
    let load = Callback::new(move |()| {
        let Some(api) = state.api() else { return };
        missing.set(false);
        task::run(None, api.user(name.clone()), move |outcome| match outcome {
            Ok(u) => {
                failed.set(None);
                user.set(Some(u));
            }
            Err(e) if e.code() == Some(ErrorCode::NotFound) => missing.set(true),
            Err(e) => failed.set(Some(state.fail(&e))),
        });
    });
    load.run(());
    state.when_back(Callback::new(move |()| {
        if failed.with_untracked(Option::is_some) {
            load.run(());
        }
    }));
    let is_admin = Memo::new(move |_| state.role() == Some(Role::Admin));
    // Built once per user shown, so that saving does not reset the forms.
    let shown = Memo::new(move |_| user.with(|u| u.as_ref().map(|u| u.username.clone())));
    view! {
        <p class="crumbs"><a href=Screen::Users.path()>"All users"</a></p>
        <h1 class="page-title wrap" tabindex="-1">{title}</h1>
        {move || failed.get().map(|message| view! {
            <p><LoadFailed id="user-retry" what="this user" message retry=load/></p>
        })}
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
    let name = user.username.clone();
    let saved = Callback::new(move |u: UserView| on_change.set(Some(u)));
    // Bumped when the danger zone ends sessions: the list follows.
    let sessions_ended = RwSignal::new(0u64);
    let two_factor = RwSignal::new(user.two_factor);
    view! {
        <Access user=user.clone() on_saved=saved/>
        <section class="section">
            <h2>"Profile"</h2>
            <ProfileForm user target=Some(name.clone()) on_saved=saved/>
        </section>
        <section class="section" id="user-sign-in">
            <h2>"Sign-in"</h2>
            <SetPassword name=name.clone()/>
            <Sessions target=Some(name.clone()) reload=sessions_ended/>
            <h3>"Two-factor login"</h3>
            <p id="user-two-factor">{move || if two_factor.get() { "On: each login asks for a code." } else { "Off." }}</p>
        </section>
        <DangerZone name two_factor sessions_ended/>
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
        let proof = form.proof("current_password", mine);
        let (Some(api), Some(proof), true) = (state.api(), proof, ok) else {
            return;
        };
        let update = UserUpdate {
            password: Some(Secret::new(p)),
            ..Default::default()
        };
        let target = name.clone();
        let call = api.update_confirmed(update, proof, Some(target.clone()));
        task::run(Some(form.busy), call, move |outcome| match outcome {
            Ok(_) => {
                new.set(String::new());
                again.set(String::new());
                mine.set(String::new());
                form.succeed(format!("Password set for {target}."));
            }
            Err(e) => {
                mine.set(String::new());
                form.fail_unchanged(&e, &["password", "current_password"]);
            }
        });
    };
    view! {
        <div>
            <h3>"Password"</h3>
            <form id="reset-form" on:submit=submit novalidate>
                <NoticeView notice=form.notice/>
                <div class="grid2">
                    <Field id="reset-password" name="password" label="New password" value=new form kind="password" autocomplete="new-password" help=password_help()/>
                    <Field id="reset-confirm" name="confirm" label="Confirm new password" value=again form kind="password" autocomplete="new-password"/>
                </div>
                <ConfirmField id="reset-own-password" name="current_password" value=mine form/>
                <div><BusyButton id="reset-save" class="secondary" busy=form.busy>"Set password"</BusyButton></div>
            </form>
        </div>
    }
}
