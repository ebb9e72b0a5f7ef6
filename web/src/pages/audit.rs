//! `/admin/audit`: the audit log for admins and moderators, newest first,
//! filtered by username, event and days (kept in the address, as the user
//! list's are), a page at a time.

use crate::dom;
use crate::forms::FormState;
use crate::nav;
use crate::routes::{self, Screen};
use crate::state::AppState;
use crate::task;
use crate::widgets::{day, event_label, when, BusyButton, Field, LoadFailed, NoticeView};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use users_protocol::{AuditKind, AuditPage as Page, AuditQuery};

/// Events per page.
const PAGE: usize = 25;

/// The fields of the filter form, by the names the service gives them.
const FILTER_FIELDS: &[&str] = &["username", "since", "until"];

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
    let in_month = *days.get(m.wrapping_sub(1) as usize)?;
    if d == 0 || d > in_month || y > 9999 {
        return None;
    }
    if end {
        d += 1;
        if d > in_month {
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
    let location = nav::location();
    // What the address asks for: the filters live there, so a reload keeps
    // them and a filtered view can be linked.
    let address = Memo::new(move |_| {
        location
            .search
            .with(|s| Wanted::from_query(|k| routes::query_value(s, k)))
    });
    let filters = Filters::new(address.get_untracked());
    let paging = Paging::new();
    let Paging { page, failed, .. } = paging;
    let form = FormState::new("audit-form");
    // Only the newest read's answer counts: Back, Forward, paging and the
    // server coming back may overlap.
    let latest = StoredValue::new(0u64);
    // `moved`: a button asked for this page, so focus goes to what it shows.
    let load = Callback::new(move |moved: bool| {
        let Some(api) = state.api() else { return };
        let q = address.get_untracked().query(paging.cursor.get_untracked());
        latest.update_value(|n| *n += 1);
        let mine = latest.get_value();
        task::run(Some(form.busy), api.audit(q), move |outcome| {
            if latest.try_get_value() != Some(mine) {
                return;
            }
            match outcome {
                Ok(p) => {
                    page.set(Some(p));
                    failed.set(None);
                }
                // A filter the service refuses shows on its field.
                Err(e) if e.field().is_some_and(|f| FILTER_FIELDS.contains(&f)) => {
                    page.set(None);
                    form.fail(&e, FILTER_FIELDS);
                }
                Err(e) => {
                    page.set(None);
                    failed.set(Some(state.fail(&e)));
                }
            }
            if moved {
                dom::focus_later(vec!["#audit-count".to_owned(), "#audit-retry".to_owned()]);
            }
        });
    });
    // A new address (Show, Back, Forward) starts from the newest events.
    Effect::new(move |first: Option<()>| {
        let wanted = address.get();
        filters.show(&wanted);
        paging.before.set(Vec::new());
        paging.cursor.set(None);
        // An address typed or linked is checked as the form would be.
        form.start();
        if filters.checked(form).is_none() {
            page.set(None);
            return;
        }
        load.run(first.is_some());
    });
    state.when_back(Callback::new(move |()| {
        if failed.with_untracked(Option::is_some) {
            load.run(false);
        }
    }));
    let apply = Callback::new(move |()| {
        form.start();
        let Some(wanted) = filters.checked(form) else {
            return;
        };
        if wanted == address.get_untracked() {
            paging.before.set(Vec::new());
            paging.cursor.set(None);
            load.run(true);
        } else {
            location.navigate(&wanted.href(), false);
        }
    });
    let retry = Callback::new(move |()| load.run(true));
    view! {
        <div class="title-row">
            <h1 class="page-title" tabindex="-1">"Audit log"</h1>
            <span class="loading" role="status">{move || form.busy.get().then_some("Loading…")}</span>
        </div>
        <FilterForm filters form on_apply=apply/>
        {move || failed.get().map(|message| view! {
            <p id="audit-count" tabindex="-1"><LoadFailed id="audit-retry" what="events" message retry/></p>
        })}
        {move || page.get().map(|p| view! { <Events page=p filtered=address.get_untracked() != Wanted::default()/> })}
        <Pager paging busy=form.busy load/>
    }
}

/// The page of events on show, and the way back to newer ones.
#[derive(Clone, Copy)]
struct Paging {
    page: RwSignal<Option<Page>>,
    /// Why the last read failed; what it had shown is gone.
    failed: RwSignal<Option<String>>,
    /// The cursors of the pages before this one, to go back to.
    before: RwSignal<Vec<Option<u64>>>,
    cursor: RwSignal<Option<u64>>,
}

impl Paging {
    fn new() -> Self {
        Paging {
            page: RwSignal::new(None),
            failed: RwSignal::new(None),
            before: RwSignal::new(Vec::new()),
            cursor: RwSignal::new(None),
        }
    }
}

/// Newer and Older, under a page that has events; `load` reads the page at
/// the cursor.
#[component]
fn Pager(paging: Paging, busy: RwSignal<bool>, load: Callback<bool>) -> impl IntoView {
    let Paging {
        page,
        before,
        cursor,
        ..
    } = paging;
    let older = Callback::new(move |()| {
        let next = page.with_untracked(|p| p.as_ref().and_then(|p| p.next_cursor));
        if next.is_some() {
            before.update(|b| b.push(cursor.get_untracked()));
            cursor.set(next);
            load.run(true);
        }
    });
    let newer = Callback::new(move |()| {
        if let Some(prev) = before.try_update(|b| b.pop()).flatten() {
            cursor.set(prev);
            load.run(true);
        }
    });
    let no_newer = Signal::derive(move || before.with(Vec::is_empty));
    let no_older =
        Signal::derive(move || page.with(|p| p.as_ref().is_none_or(|p| p.next_cursor.is_none())));
    move || {
        page.with(|p| p.as_ref().is_some_and(|p| !p.events.is_empty()))
            .then(|| view! {
                <div class="pager">
                    <BusyButton id="audit-newer" kind="button" class="secondary" busy blocked=no_newer on_press=newer>"Newer"</BusyButton>
                    <BusyButton id="audit-older" kind="button" class="secondary" busy blocked=no_older on_press=older>"Older"</BusyButton>
                </div>
            })
    }
}

/// The filters an address asks for: a username, an event's wire name and
/// two days (`YYYY-MM-DD`), each empty for none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Wanted {
    username: String,
    event: String,
    since: String,
    until: String,
}

impl Wanted {
    /// The query-string keys, in the order of the fields.
    const KEYS: [&'static str; 4] = ["user", "event", "from", "to"];

    fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        let [username, event, since, until] = Self::KEYS.map(|k| get(k).unwrap_or_default());
        Wanted {
            username,
            event,
            since,
            until,
        }
    }

    /// `/admin/audit?user=…&event=…&from=…&to=…`, without the empty ones.
    fn href(&self) -> String {
        let values = [&self.username, &self.event, &self.since, &self.until];
        let parts: Vec<String> = Self::KEYS
            .iter()
            .zip(values)
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", routes::encode(v)))
            .collect();
        let path = Screen::Audit.path();
        if parts.is_empty() {
            path.into_owned()
        } else {
            format!("{path}?{}", parts.join("&"))
        }
    }

    /// The audit_log query for the page at `cursor` (none: the newest).
    fn query(&self, cursor: Option<u64>) -> AuditQuery {
        AuditQuery {
            username: Some(self.username.clone()).filter(|u| !u.is_empty()),
            event: AuditKind::from_name(&self.event),
            since: day_start(&self.since, false),
            until: day_start(&self.until, true),
            limit: Some(PAGE),
            offset: None,
            cursor,
            mine: false,
        }
    }
}

/// What the filter form holds, ahead of the address until Show.
#[derive(Clone, Copy)]
struct Filters {
    username: RwSignal<String>,
    event: RwSignal<String>,
    since: RwSignal<String>,
    until: RwSignal<String>,
}

impl Filters {
    fn new(wanted: Wanted) -> Self {
        Filters {
            username: RwSignal::new(wanted.username),
            event: RwSignal::new(wanted.event),
            since: RwSignal::new(wanted.since),
            until: RwSignal::new(wanted.until),
        }
    }

    /// Puts what the address asks for into the form (after Back, Forward).
    fn show(&self, wanted: &Wanted) {
        self.username.set(wanted.username.clone());
        self.event.set(wanted.event.clone());
        self.since.set(wanted.since.clone());
        self.until.set(wanted.until.clone());
    }

    /// The filters to show; none when a day is not one, or "To" comes
    /// before "From", each such field marked on `form`.
    fn checked(&self, form: FormState) -> Option<Wanted> {
        let wanted = Wanted {
            username: self.username.get_untracked().trim().to_owned(),
            event: self.event.get_untracked(),
            since: self.since.get_untracked().trim().to_owned(),
            until: self.until.get_untracked().trim().to_owned(),
        };
        let mut ok = true;
        for (field, day) in [("since", &wanted.since), ("until", &wanted.until)] {
            if !day.is_empty() && day_start(day, false).is_none() {
                form.field_error(field, "Enter a day as YYYY-MM-DD");
                ok = false;
            }
        }
        // Both are YYYY-MM-DD here, which sort as the days do.
        if ok && !wanted.since.is_empty() && !wanted.until.is_empty() && wanted.until < wanted.since
        {
            form.field_error("until", "\u{201c}To\u{201d} is before \u{201c}From\u{201d}");
            ok = false;
        }
        ok.then_some(wanted)
    }
}

/// The filters; Show runs `on_apply`.
#[component]
fn FilterForm(filters: Filters, form: FormState, on_apply: Callback<()>) -> impl IntoView {
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        on_apply.run(());
    };
    let event = filters.event;
    view! {
        <form id="audit-form" on:submit=submit novalidate>
            <NoticeView notice=form.notice/>
            <div class="filters4">
                <Field id="audit-user" name="username" label="Username" value=filters.username form autocomplete="username"/>
                <div class="field">
                    <label for="audit-event">"Event"</label>
                    <select id="audit-event" prop:value=move || event.get() on:change=move |ev| event.set(event_target_value(&ev))>
                        <option value="">"Any event"</option>
                        {AuditKind::NAMES.iter().map(|n| view! { <option value=*n>{event_label(n)}</option> }).collect_view()}
                    </select>
                </div>
                <Field id="audit-since" name="since" label="From (day, UTC)" value=filters.since form kind="date"/>
                <Field id="audit-until" name="until" label="To (day, UTC)" value=filters.until form kind="date"/>
            </div>
            <div><BusyButton id="audit-apply" busy=form.busy>"Show"</BusyButton></div>
        </form>
    }
}

/// A page of events: how many match, and the table; or, when none do, one
/// line that says so, with a way out of the filters.
#[component]
fn Events(page: Page, filtered: bool) -> impl IntoView {
    let count = match (page.total, page.total_capped) {
        (n, true) => format!("More than {n} events match."),
        (0, false) => "No events match.".to_owned(),
        (1, false) => "1 event matches.".to_owned(),
        (n, false) => format!("{n} events match."),
    };
    let empty = page.events.is_empty();
    view! {
        <p id="audit-count" class="muted" role="status" tabindex="-1">
            {count}
            {(empty && filtered).then(|| view! { " " <a id="audit-clear" href=Screen::Audit.path()>"Clear filters"</a> })}
        </p>
        {(!empty).then(|| view! {
            // Focusable and named, so that a keyboard can scroll it sideways.
            <div class="table-wrap" tabindex="0" role="region" aria-label="Audit events">
                <table id="audit-table">
                    <thead><tr><th>"When"</th><th>"Event"</th><th>"By"</th><th>"Account"</th><th class="opt">"Address"</th><th>"Outcome"</th><th>"Detail"</th></tr></thead>
                    <tbody>{page.events.clone().into_iter().map(|e| view! {
                        <tr class=(e.outcome == "failure").then_some("failure")>
                            <td title=when(Some(&e.at))>{day(Some(&e.at))}<br/><span class="muted">{clock(&e.at)}</span></td>
                            <td class="cell-event">{event_label(e.kind.as_str())}</td>
                            <td class="wrap">{e.actor.unwrap_or_default()}</td>
                            <td class="wrap">{e.target.unwrap_or_default()}</td>
                            <td class="opt">{e.client_address.unwrap_or_default()}</td>
                            <td>{if e.outcome == "failure" { "Failed" } else { "Done" }}</td>
                            <td class="wrap">{e.detail}</td>
                        </tr>
                    }).collect_view()}</tbody>
                </table>
            </div>
        })}
    }
}

/// The time of day of a stored RFC 3339 time: `12:54 UTC`.
fn clock(t: &str) -> String {
    t.get(11..16)
        .map(|hm| format!("{hm} UTC"))
        .unwrap_or_default()
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
        for bad in ["2026-13-01", "2026-02-30", "2026-00-10", "2026-01-00"] {
            assert_eq!(super::day_start(bad, false), None, "{bad}");
            assert_eq!(super::day_start(bad, true), None, "{bad}");
        }
    }

    #[test]
    fn filters_live_in_the_address() {
        let w = super::Wanted {
            username: "ann lee".into(),
            event: "login_failed".into(),
            since: String::new(),
            until: "2026-11-25".into(),
        };
        let href = w.href();
        assert_eq!(
            href,
            "/admin/audit?user=ann%20lee&event=login_failed&to=2026-11-25"
        );
        let query = href.split_once('?').unwrap().1;
        let back = super::Wanted::from_query(|k| crate::routes::query_value(query, k));
        assert_eq!(back, w);
        assert_eq!(super::Wanted::default().href(), "/admin/audit");
    }
}
