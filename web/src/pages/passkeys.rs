//! The Passkeys section of `/account/security`: the account's passkeys by
//! name, when each was added and last used; add one (named, confirmed with
//! the password, or by an account without one with a passkey), rename one,
//! remove one (confirmed the same way; never an account's only way in). Where this
//! page cannot use passkeys, the section says why and how to get there.

use crate::api::Proof;
use crate::dialog::ConfirmDialog;
use crate::dom;
use crate::forms::FormState;
use crate::loaded::Loaded;
use crate::nav;
use crate::routes;
use crate::state::AppState;
use crate::task;
use crate::webauthn;
use crate::widgets::{
    confirm_ready, when, BusyButton, ConfirmField, Field, LoadFailed, NoticeView,
};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use users_protocol::{CeremonyStart, PasskeyView};

#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn Passkeys() -> impl IntoView {
    let Loaded {
        data: list,
        failed,
        reload: load,
    } = Loaded::new(|api| api.passkeys());
    let form = FormState::new("passkey-form");
    // Renaming and removing report here, apart from adding.
    let listed = FormState::new("passkeys-area");
    let removing = RwSignal::new(None::<PasskeyView>);
    let editing = RwSignal::new(None::<String>);
    let state = expect_context::<AppState>();
    let rows = move || {
        match (list.get(), failed.get()) {
            (_, Some(message)) => view! {
                <LoadFailed id="passkeys-retry" what="passkeys" message retry=load/>
            }
            .into_any(),
            (None, None) => view! { <p class="muted">"Loading…"</p> }.into_any(),
            (Some(l), None) if l.is_empty() => {
                view! { <p class="muted" id="passkeys-none">"No passkeys yet."</p> }.into_any()
            }
            (Some(l), None) => {
                // An account without a password keeps its last passkey.
                let last = l.len() == 1 && state.passwordless();
                view! {
            <ul class="passkeys" id="passkeys-list">
                {l.into_iter().map(|p| view! { <PasskeyRow p editing removing load form=listed last/> }).collect_view()}
            </ul>
            {last.then(|| view! { <p class="field-help" id="passkeys-last">"This passkey is your only way to sign in: add another, or set a password under Credentials, before you remove it."</p> })}
            }
            .into_any()
            }
        }
    };
    view! {
        <section class="section" id="passkeys">
            <h2 id="passkeys-title" tabindex="-1">"Passkeys"</h2>
            <p>"A passkey signs you in with your device's screen lock (a fingerprint, your face or a PIN) instead of your password, and counts as two factors."</p>
            {match webauthn::unavailable() {
                Some(why) => view! { <p class="notice info" id="passkeys-unavailable">{why}</p> }.into_any(),
                None => view! { <AddPasskey form load/> }.into_any(),
            }}
            <div id="passkeys-area"><NoticeView notice=listed.notice/>{rows}</div>
            <RemovePasskey removing load outcome=listed/>
        </section>
    }
}

/// One passkey: its name (or the field renaming it), its dates, its buttons.
#[component]
fn PasskeyRow(
    p: PasskeyView,
    editing: RwSignal<Option<String>>,
    removing: RwSignal<Option<PasskeyView>>,
    load: Callback<()>,
    form: FormState,
    /// The account's only way in: no Remove.
    last: bool,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let id = p.id.clone();
    let here = {
        let id = id.clone();
        move || editing.with(|e| e.as_deref() == Some(id.as_str()))
    };
    let name = RwSignal::new(p.name.clone());
    let save = {
        let id = id.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let Some(api) = state.api() else { return };
            form.start();
            let call = api.rename_passkey(id.clone(), name.get_untracked());
            form.run(&["name"], call, move |()| {
                editing.set(None);
                form.succeed("Passkey renamed.");
                load.run(());
            });
        }
    };
    let (shown, used) = (p.name.clone(), p.last_used_at.clone());
    let dates = format!(
        "Added {} · last used {}",
        when(Some(&p.created_at)),
        when(used.as_deref())
    );
    let edit_id = format!("passkey-name-{id}");
    let rename_id = format!("passkey-rename-{id}");
    let rename = {
        let (id, edit_id) = (id.clone(), edit_id.clone());
        move |_| {
            editing.set(Some(id.clone()));
            dom::focus_later(vec![format!("#{edit_id}")]);
        }
    };
    let cancel = {
        let rename_id = rename_id.clone();
        move |_| {
            editing.set(None);
            dom::focus_later(vec![format!("#{rename_id}")]);
        }
    };
    let named = format!(" {}", p.name);
    let save_id = format!("passkey-save-{id}");
    view! {
        <li class="passkey">
            <Show when=here.clone() fallback=move || view! {
                <span class="passkey-name">{shown.clone()}</span>
            }>
                <form class="input-row" on:submit=save.clone() novalidate>
                    <label class="visually-hidden" for=edit_id.clone()>"New name"</label>
                    <input id=edit_id.clone() maxlength="64" prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))/>
                    <BusyButton id=save_id.clone() class="secondary" busy=form.busy>"Save"</BusyButton>
                    <button type="button" class="secondary" on:click=cancel.clone()>"Cancel"</button>
                </form>
            </Show>
            <span class="muted">{dates}</span>
            <span class="actions">
                <button type="button" class="secondary" id=rename_id on:click=rename>
                    "Rename"<span class="visually-hidden">{named.clone()}</span></button>
                {(!last).then(|| view! {
                <button type="button" class="secondary" id=format!("passkey-remove-{id}")
                    on:click=move |_| removing.set(Some(p.clone()))>
                    "Remove"<span class="visually-hidden">{named.clone()}</span></button>
                })}
            </span>
        </li>
    }
}

/// Adding a passkey: its name and the password, then the browser asks for
/// the device's screen lock.
#[component]
fn AddPasskey(form: FormState, load: Callback<()>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    // Sent here to add one (a new or recovered account's first sign-in).
    let (key, value) = routes::ADD_PASSKEY;
    if nav::location().query(key).as_deref() == Some(value) {
        dom::focus_later(vec!["#passkey-name".to_owned()]);
    }
    // Confirmed with a passkey, the new one is made on a second press: a
    // browser may let each press ask the device once.
    let confirmed = RwSignal::new(None::<CeremonyStart>);
    let done = move |added: PasskeyView| {
        name.set(String::new());
        password.set(String::new());
        form.succeed(format!(
            "Passkey “{}” added: sign in with it next time.",
            added.name
        ));
        load.run(());
    };
    let add = move |ev: SubmitEvent| {
        ev.prevent_default();
        form.start();
        let n = name.get_untracked().trim().to_owned();
        let fields = &["name", "current_password"];
        if let (Some(api), Some(begun)) = (state.api(), confirmed.get_untracked()) {
            confirmed.set(None);
            form.run(fields, api.finish_passkey(n, begun), done);
            return;
        }
        let proof = form.proof("current_password", password);
        if n.is_empty() {
            form.field_error("name", "Name it, such as “Laptop” or “Phone”");
        }
        let (Some(api), Some(proof), false) = (state.api(), proof, n.is_empty()) else {
            return;
        };
        match proof {
            Proof::Passkey => form.run(fields, api.begin_passkey(n, proof), move |begun| {
                confirmed.set(Some(begun));
                form.succeed("Confirmed. Now make the new passkey: press “Make the passkey”.");
            }),
            proof => form.run(fields, api.add_passkey(n, proof), done),
        }
    };
    view! {
        <form id="passkey-form" on:submit=add novalidate>
            <NoticeView notice=form.notice/>
            <Field id="passkey-name" name="name" label="Name" value=name form help="Such as “Laptop” or “Phone”."/>
            <ConfirmField id="passkey-password" name="current_password" value=password form/>
            <div><BusyButton id="passkey-add" class="secondary" busy=form.busy>
                {move || match (form.busy.get(), confirmed.with(Option::is_some)) {
                    (true, _) => "Waiting for your device…",
                    (false, true) => "Make the passkey",
                    (false, false) => "Add a passkey",
                }}
            </BusyButton></div>
        </form>
    }
}

/// Removing a passkey, confirmed with the password.
#[component]
fn RemovePasskey(
    removing: RwSignal<Option<PasskeyView>>,
    load: Callback<()>,
    outcome: FormState,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let open = RwSignal::new(false);
    let form = FormState::new("passkey-remove");
    let password = RwSignal::new(String::new());
    // Each passkey's dialog starts afresh: no password or error of another's.
    // Each follows the other, and only on a change: a set always notifies,
    // so setting an unchanged value would bounce between them for ever.
    Effect::new(move |_| {
        let asked = removing.with(Option::is_some);
        if asked {
            password.set(String::new());
            form.start();
        }
        if open.get_untracked() != asked {
            open.set(asked);
        }
    });
    Effect::new(move |_| {
        if !open.get() && removing.with_untracked(Option::is_some) {
            removing.set(None);
        }
    });
    let confirm = Callback::new(move |()| {
        form.start();
        let proof = form.proof("current_password", password);
        let (Some(api), Some(p), Some(proof)) = (state.api(), removing.get_untracked(), proof)
        else {
            return;
        };
        let call = api.remove_passkey(p.id, proof);
        task::run(Some(form.busy), call, move |result| match result {
            Ok(()) => {
                password.set(String::new());
                open.set(false);
                outcome.start();
                outcome.succeed("Passkey removed.");
                load.run(());
            }
            Err(e) => {
                password.set(String::new());
                form.fail_unchanged(&e, &["current_password"]);
            }
        });
    });
    let title = Signal::derive(move || {
        removing.with(|p| {
            p.as_ref()
                .map(|p| format!("Remove the passkey “{}”?", p.name))
                .unwrap_or_default()
        })
    });
    view! {
        <ConfirmDialog id="passkey-remove" opener="passkeys-title" open title confirm_label="Remove passkey"
            ready=confirm_ready(password) busy=form.busy on_confirm=confirm>
            <NoticeView notice=form.notice/>
            <p>"It will no longer sign you in. The device may still list it: remove it there too."</p>
            <ConfirmField id="passkey-remove-password" name="current_password" value=password form/>
        </ConfirmDialog>
    }
}
