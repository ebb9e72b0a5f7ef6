//! `/admin/audit`: the audit log for admins and moderators, newest first,
//! filtered by username, event and days, a page at a time.

use crate::forms::FormState;
use crate::state::AppState;
use crate::widgets::{when, NoticeView};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use users_protocol::{AuditKind, AuditPage as Page, AuditQuery};

/// Events per page.
const PAGE: usize = 25;

/// A day picked in a date field (`YYYY-MM-DD`, UTC) as the RFC 3339 time
/// it starts at; `end` for the start of the day after, since `until` is
/// exclusive and the day itself is meant.
fn day_start(day: &str, end: bool) -> Option<String> {
    let mut parts = day.trim().splitn(3, '-').map(|p| p.parse::<u32>().ok());
    let (Some(Some(mut y)), Some(Some(mut m)), Some(Some(mut d))) =
        (parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if end {
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        let days = [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        d += 1;
        if d > *days.get(m.wrapping_sub(1) as usize)? {
            (d, m) = (1, m + 1);
        }
        if m > 12 {
            (m, y) = (1, y + 1);
        }
    }
    Some(format!("{y:04}-{m:02}-{d:02}T00:00:00Z"))
}

#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn AuditPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let filters = Filters::new();
    let page = RwSignal::new(None::<Page>);
    // The cursors of the pages before this one, to go back to.
    let before = RwSignal::new(Vec::<Option<u64>>::new());
    let cursor = RwSignal::new(None::<u64>);
    let form = FormState::new("audit-form");
    let load = move || {
        let Some(api) = state.api() else { return };
        let q = filters.query(cursor.get_untracked());
        form.run(&["username", "since", "until"], api.audit(q), move |p| {
            page.set(Some(p));
        });
    };
    load();
    let apply = Callback::new(move |()| {
        form.start();
        before.set(Vec::new());
        cursor.set(None);
        load();
    });
    let older = move |_| {
        let next = page.with_untracked(|p| p.as_ref().and_then(|p| p.next_cursor));
        if next.is_some() {
            before.update(|b| b.push(cursor.get_untracked()));
            cursor.set(next);
            load();
        }
    };
    let newer = move |_| {
        if let Some(prev) = before.try_update(|b| b.pop()).flatten() {
            cursor.set(prev);
            load();
        }
    };
    view! {
        <h2 class="page-title" tabindex="-1">"Audit log"</h2>
        <FilterForm filters form on_apply=apply/>
        {move || page.get().map(|p| view! { <Events page=p/> })}
        <div class="pager">
            <button id="audit-newer" class="secondary" type="button" on:click=newer
                disabled=move || before.with(Vec::is_empty) || form.busy.get()>"Newer"</button>
            <button id="audit-older" class="secondary" type="button" on:click=older
                disabled=move || page.with(|p| p.as_ref().is_none_or(|p| p.next_cursor.is_none())) || form.busy.get()>"Older"</button>
        </div>
    }
}

/// What the filter form holds: a username, an event's wire name and two
/// days, each empty for none.
#[derive(Clone, Copy)]
struct Filters {
    username: RwSignal<String>,
    event: RwSignal<String>,
    since: RwSignal<String>,
    until: RwSignal<String>,
}

impl Filters {
    fn new() -> Self {
        let empty = || RwSignal::new(String::new());
        Filters {
            username: empty(),
            event: empty(),
            since: empty(),
            until: empty(),
        }
    }

    /// The audit_log query for the page at `cursor` (none: the newest).
    fn query(&self, cursor: Option<u64>) -> AuditQuery {
        AuditQuery {
            username: Some(self.username.get_untracked().trim().to_owned())
                .filter(|u| !u.is_empty()),
            event: AuditKind::from_name(&self.event.get_untracked()),
            since: day_start(&self.since.get_untracked(), false),
            until: day_start(&self.until.get_untracked(), true),
            limit: Some(PAGE),
            offset: None,
            cursor,
            mine: false,
        }
    }
}

/// The filters; Show runs `on_apply`.
#[component]
fn FilterForm(filters: Filters, form: FormState, on_apply: Callback<()>) -> impl IntoView {
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        on_apply.run(());
    };
    let text_field =
        |id: &'static str, label: &'static str, kind: &'static str, value: RwSignal<String>| {
            view! {
                <div class="field">
                    <label for=id>{label}</label>
                    <input id=id type=kind prop:value=move || value.get()
                        on:input=move |ev| value.set(event_target_value(&ev))/>
                </div>
            }
        };
    let event = filters.event;
    view! {
        <form id="audit-form" on:submit=submit novalidate>
            <NoticeView notice=form.notice/>
            <div class="grid2">
                {text_field("audit-user", "Username", "text", filters.username)}
                <div class="field">
                    <label for="audit-event">"Event"</label>
                    <select id="audit-event" prop:value=move || event.get() on:change=move |ev| event.set(event_target_value(&ev))>
                        <option value="">"Any"</option>
                        {AuditKind::NAMES.iter().map(|n| view! { <option value=*n>{n.replace('_', " ")}</option> }).collect_view()}
                    </select>
                </div>
                {text_field("audit-since", "From (day, UTC)", "date", filters.since)}
                {text_field("audit-until", "To (day, UTC)", "date", filters.until)}
            </div>
            <div><button id="audit-apply" class="primary" type="submit" disabled=move || form.busy.get()>"Show"</button></div>
        </form>
    }
}

/// A page of events: how many match, and the table.
#[component]
fn Events(page: Page) -> impl IntoView {
    view! {
        <p id="audit-count" class="muted">{match (page.total, page.total_capped) {
            (n, true) => format!("More than {n} events match."),
            (1, false) => "1 event matches.".to_owned(),
            (n, false) => format!("{n} events match."),
        }}</p>
        <div class="table-wrap">
            <table id="audit-table">
                <thead><tr><th>"When"</th><th>"Event"</th><th>"By"</th><th>"Account"</th><th>"Address"</th><th>"Outcome"</th><th>"Detail"</th></tr></thead>
                <tbody>{page.events.into_iter().map(|e| view! {
                    <tr class=(e.outcome == "failure").then_some("failure")>
                        <td>{when(Some(&e.at))}</td>
                        <td class="cell-event">{e.kind.as_str().replace('_', " ")}</td>
                        <td class="wrap">{e.actor.unwrap_or_default()}</td>
                        <td class="wrap">{e.target.unwrap_or_default()}</td>
                        <td>{e.client_address.unwrap_or_default()}</td>
                        <td>{e.outcome.clone()}</td>
                        <td class="wrap">{e.detail}</td>
                    </tr>
                }).collect_view()}</tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_day_covers_the_whole_day() {
        assert_eq!(
            super::day_start("2026-11-25", false).as_deref(),
            Some("2026-11-25T00:00:00Z")
        );
        assert_eq!(
            super::day_start("2026-11-25", true).as_deref(),
            Some("2026-11-26T00:00:00Z")
        );
        assert_eq!(
            super::day_start("2024-02-29", true).as_deref(),
            Some("2024-03-01T00:00:00Z")
        );
        assert_eq!(
            super::day_start("2026-12-31", true).as_deref(),
            Some("2027-01-01T00:00:00Z")
        );
        assert_eq!(super::day_start(" ", false), None);
    }
}
