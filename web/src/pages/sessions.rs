//! Where an account is signed in: each session's device, address and
//! times. One's own (on `/account/security`) can be signed out one by one
//! or all but this one; another user's (on their page, for admins) are
//! listed, and ended all at once from the page's danger zone.

use crate::api::Revoke;
use crate::device;
use crate::forms::FormState;
use crate::state::AppState;
use crate::task;
use crate::widgets::{count, when, BusyButton, LoadFailed, NoticeView};
use leptos::prelude::*;
use users_protocol::SessionView;

/// The sessions of `target` (none: one's own); `reload` (if any) changes
/// when they may have ended elsewhere on the page.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn Sessions(
    target: Option<String>,
    #[prop(optional)] reload: Option<RwSignal<u64>>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let list = RwSignal::new(None::<Vec<SessionView>>);
    let failed = RwSignal::new(None::<String>);
    let form = FormState::new("sessions");
    let own = target.is_none();
    let load = Callback::new(move |()| {
        let Some(api) = state.api() else { return };
        task::run(
            None,
            api.sessions(target.clone()),
            move |outcome| match outcome {
                Ok(l) => {
                    list.set(Some(l.sessions));
                    failed.set(None);
                }
                Err(e) => failed.set(Some(state.fail(&e))),
            },
        );
    });
    Effect::new(move |_| {
        if let Some(r) = reload {
            r.track();
        }
        load.run(());
    });
    state.when_back(Callback::new(move |()| {
        if failed.with_untracked(Option::is_some) {
            load.run(());
        }
    }));
    let revoke = Callback::new(move |which: Revoke| {
        let Some(api) = state.api() else { return };
        let all = matches!(which, Revoke::AllOthers);
        form.start();
        form.run(&[], api.revoke(which), move |n| {
            form.succeed(match (all, n) {
                (false, _) => "Signed out that session.".to_owned(),
                (true, 0) => "There were no other sessions to sign out.".to_owned(),
                (true, n) => format!("Signed out {} elsewhere.", count(n, "session", "sessions")),
            });
            load.run(());
        });
    });
    let row = move |s: SessionView| session_row(s, own, form.busy, revoke);
    let table = move |l: Vec<SessionView>| {
        if l.is_empty() {
            return view! { <p class="muted">"Not signed in anywhere."</p> }.into_any();
        }
        view! {
            <div class="table-wrap">
                <table id="sessions-table">
                    <thead><tr><th>"Device"</th><th>"Address"</th><th>"Signed in"</th><th>"Last used"</th>
                        {own.then(|| view! { <th><span class="visually-hidden">"Action"</span></th> })}</tr></thead>
                    <tbody>{l.into_iter().map(row).collect_view()}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="section" id=if own { "sessions" } else { "user-sessions" }>
            {if own { view! { <h2>"Where you are signed in"</h2> }.into_any() } else { view! { <h3>"Sessions"</h3> }.into_any() }}
            <NoticeView notice=form.notice/>
            {move || failed.get().map(|message| view! { <p><LoadFailed id="sessions-retry" what="sessions" message retry=load/></p> })}
            {move || list.get().map(table)}
            {own.then(|| view! {
                <BusyButton id="revoke-others" kind="button" class="secondary" busy=form.busy
                    on_press=Callback::new(move |()| revoke.run(Revoke::AllOthers))>"Sign out everywhere else"</BusyButton>
            })}
        </section>
    }
}

/// One session's row; one's own, but this one, can be signed out.
fn session_row(
    s: SessionView,
    own: bool,
    busy: RwSignal<bool>,
    revoke: Callback<Revoke>,
) -> impl IntoView {
    let id = s.id.clone();
    let action = match (own, s.current) {
        (false, _) => ().into_any(),
        (true, true) => view! { <td><span class="badge">"This session"</span></td> }.into_any(),
        (true, false) => view! {
            <td><BusyButton id=format!("revoke-{id}") kind="button" class="secondary" busy
                on_press=Callback::new(move |()| revoke.run(Revoke::One(id.clone())))>"Sign out"</BusyButton></td>
        }
        .into_any(),
    };
    view! {
        <tr class=if s.current { "current" } else { "" }>
            <td class="wrap" title=s.user_agent.clone()>{device::label(s.user_agent.as_deref())}</td>
            <td>{s.client_address.unwrap_or_default()}</td>
            <td>{when(Some(&s.created_at))}</td>
            <td>{when(Some(&s.last_used_at))}</td>
            {action}
        </tr>
    }
}
