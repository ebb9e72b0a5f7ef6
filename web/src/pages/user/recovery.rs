//! A recovery link for a user who forgot their password: made after the
//! admin's own password, shown once with its QR code, to give the user.
//! The user chooses their password with it (`/reset/<token>`); the admin
//! never knows it.

use crate::dialog::ConfirmDialog;
use crate::dom;
use crate::forms::FormState;
use crate::routes::RESET;
use crate::state::AppState;
use crate::task;
use crate::widgets::{confirm_ready, when, ConfirmField, NoticeView, ShownLink};
use leptos::prelude::*;
use users_protocol::ResetLinkCreated;

#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(super) fn RecoveryLink(name: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let form = FormState::new("recovery-dialog");
    let asking = RwSignal::new(false);
    let password = RwSignal::new(String::new());
    let made = RwSignal::new(None::<ResetLinkCreated>);
    let make = {
        let name = name.clone();
        Callback::new(move |()| {
            form.start();
            let (Some(api), Some(proof)) = (state.api(), form.proof("current_password", password))
            else {
                return;
            };
            let origin = web_sys::window()
                .and_then(|w| w.location().origin().ok())
                .unwrap_or_default();
            let call = api.reset_link(name.clone(), proof, format!("{origin}{RESET}"));
            task::run(Some(form.busy), call, move |result| {
                password.set(String::new());
                match result {
                    Ok(link) => {
                        asking.set(false);
                        made.set(Some(link));
                        dom::focus_later(vec!["#recovery-link".to_owned()]);
                    }
                    Err(e) => form.fail_unchanged(&e, &["current_password"]),
                }
            });
        })
    };
    let open = move |_| {
        password.set(String::new());
        form.start();
        asking.set(true);
    };
    view! {
        <div class="row">
            <p><strong>"Recovery link"</strong><br/>"For a user who forgot their password: a link, good once for an hour, with which they choose a new one. Their sessions end; two-factor login stays."</p>
            <button id="recovery-create" class="secondary" type="button" on:click=open>"Create a recovery link…"</button>
        </div>
        {move || made.get().map(|l| {
            let intro = format!(
                "Give this link to {} (it is shown only now). It works once, until {}.",
                l.username,
                when(Some(&l.expires_at))
            );
            view! { <ShownLink id="recovery" intro link=l.link.unwrap_or_default() qr_svg=l.qr_svg/> }
        })}
        <ConfirmDialog id="recovery-dialog" opener="recovery-create" open=asking
            title=format!("Create a recovery link for {name}?")
            confirm_label="Create the link" danger=false
            ready=confirm_ready(password) busy=form.busy on_confirm=make>
            <NoticeView notice=form.notice/>
            <p>"Any link made for them before stops working."</p>
            <ConfirmField id="recovery-password" name="current_password" value=password form/>
        </ConfirmDialog>
    }
}
