//! `/account/delete`: deleting one's account, with the password, after a
//! modal confirmation.

use crate::dialog::ConfirmDialog;
use crate::forms::FormState;
use crate::nav;
use crate::routes::Screen;
use crate::state::{AppState, Notice};
use crate::task;
use crate::widgets::{BusyButton, ConfirmField, NoticeView};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn DeleteAccountPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let location = nav::location();
    let password = RwSignal::new(String::new());
    let asking = RwSignal::new(false);
    let form = FormState::new("delete-form");
    let ask = move |ev: SubmitEvent| {
        ev.prevent_default();
        form.start();
        if form.proof("password", password).is_some() {
            asking.set(true);
        }
    };
    let confirm = Callback::new(move |()| {
        let (Some(api), Some(proof)) = (state.api(), form.proof("password", password)) else {
            return;
        };
        let call = api.delete(proof, None);
        task::run(Some(form.busy), call, move |outcome| match outcome {
            Ok(()) => {
                // To sign-in first, so that no `?next=` leads back here.
                location.navigate(&Screen::Login.path(), false);
                state.end_session(Notice::ok("Your account has been deleted."));
            }
            Err(e) => {
                asking.set(false);
                form.fail(&e, &["password"]);
            }
        });
    });
    view! {
        <h1 class="page-title" tabindex="-1">"Delete account"</h1>
        <p>"This removes your account and all its data, and logs you out everywhere. It cannot be undone."</p>
        <form id="delete-form" on:submit=ask novalidate>
            <NoticeView notice=form.notice/>
            <ConfirmField id="del-password" name="password" value=password form/>
            <div><BusyButton id="delete-submit" class="danger" busy=form.busy>"Delete my account…"</BusyButton></div>
        </form>
        <ConfirmDialog id="delete-self" opener="delete-submit" open=asking
            title="Delete your account?"
            confirm_label=Signal::derive(move || if form.busy.get() { "Deleting…".to_owned() } else { "Delete my account".to_owned() })
            busy=form.busy
            on_confirm=confirm>
            <p>"Your account and all its data will be removed at once. This cannot be undone."</p>
        </ConfirmDialog>
    }
}
