//! `/admin/users`: the user list, searched, filtered, sorted and paged by the
//! service. Everything it shows comes from its address (see
//! [`routes::ListFilters`]), so a reload keeps it, Back returns to the last
//! filters, and it can be linked. It only looks: changes are made on each
//! user's own page.

use crate::nav::{self, Location};
use crate::routes::{self, ListFilters, Screen, PAGE};
use crate::state::AppState;
use crate::task;
use crate::widgets::{day, role_label, status_label, when, LoadFailed};
use leptos::prelude::*;
use std::fmt::Display;
use users_protocol::{ProfileField, Role, SortKey, UserStatus, UserView};

/// A filter's options: "Any role" (no filter), then every value, labelled
/// for people by `label`.
fn filter_options<T: Copy>(
    all: &[T],
    any: &str,
    label: fn(T) -> &'static str,
) -> Vec<(Option<T>, String)> {
    std::iter::once((None, any.to_owned()))
        .chain(all.iter().map(|&v| (Some(v), label(v).to_owned())))
        .collect()
}

/// The wire name of a filter's value, the empty string for "any".
fn filter_value<T: Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// A filter's select options: (value, text).
fn select_options<T: Copy + Display>(
    all: &[T],
    any: &str,
    label: fn(T) -> &'static str,
) -> Vec<(String, String)> {
    filter_options(all, any, label)
        .into_iter()
        .map(|(v, l)| (filter_value(v), l))
        .collect()
}

/// A table column: its heading, the key it sorts by if any, and its class.
type Column = (&'static str, Option<SortKey>, &'static str);

/// The table's columns; `opt` ones give way on narrow screens.
const COLUMNS: [Column; 7] = [
    ("Username", Some(SortKey::Username), ""),
    ("Email", Some(SortKey::Email), "opt"),
    ("Full name", Some(SortKey::FullName), "opt"),
    ("Role", Some(SortKey::Role), ""),
    ("Status", None, ""),
    ("Created", Some(SortKey::CreatedAt), "opt"),
    ("Last login", Some(SortKey::LastLogin), "opt"),
];

/// How long typing in the search box pauses before the list follows.
const SEARCH_PAUSE_MS: u32 = 300;

#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn UserListPage() -> impl IntoView {
    let filters = Filters::new();
    let listing = Listing::following(filters.address);
    let Listing {
        total,
        loading,
        failed,
        ..
    } = listing;
    // A memo: each answer sets the total again, and a pager built anew
    // would take focus from the link just used.
    let pager_shown = Memo::new(move |_| failed.with(Option::is_none) && total.get() != 0);
    view! {
        <div class="title-row">
            <h1 class="page-title" tabindex="-1">"Users"</h1>
            <span class="loading" role="status">{move || loading.get().then_some("Loading…")}</span>
        </div>
        <FilterBar filters/>
        <div class="table-wrap">
            <table id="user-table" aria-busy=move || if loading.get() { "true" } else { "false" }>
                <caption class="visually-hidden">"Users; column headers sort"</caption>
                <thead><tr>
                    {COLUMNS.into_iter().map(|column| view! { <SortHeader column filters/> }).collect_view()}
                </tr></thead>
                <tbody>{move || rows(listing, filters.address)}</tbody>
            </table>
        </div>
        {move || pager_shown.get().then(|| view! { <Pager filters=filters.address total/> })}
    }
}

/// The table's body: a row per user; or one line across the table when the
/// query failed (with Retry) or nothing matches (with a way out).
fn rows(listing: Listing, filters: Memo<ListFilters>) -> AnyView {
    let whole = |content: AnyView| {
        view! { <tr><td id="users-whole" class="whole" colspan=COLUMNS.len()>{content}</td></tr> }
            .into_any()
    };
    if let Some(message) = listing.failed.get() {
        let retry = Callback::new(move |()| listing.again.update(|n| *n += 1));
        return whole(
            view! { <LoadFailed id="users-retry" what="users" message retry/> }.into_any(),
        );
    }
    let users = listing.users.get();
    if users.is_empty() {
        if listing.loading.get() {
            return ().into_any();
        }
        let f = filters.get();
        let filtered = !f.search.trim().is_empty() || f.role.is_some() || f.status.is_some();
        let said = match f.search.trim() {
            "" => "No users match.".to_owned(),
            q => format!("No users match \u{201c}{q}\u{201d}."),
        };
        return whole(
            view! {
                {said} " "
                {filtered.then(|| view! { <a id="users-clear" href=Screen::Users.path()>"Clear search and filters"</a> })}
            }
            .into_any(),
        );
    }
    users
        .into_iter()
        .map(|user| view! { <UserRow user/> })
        .collect_view()
        .into_any()
}

/// The list's filters: as the address holds them, which the list follows,
/// and the search box's text, which runs ahead of the address while typing.
#[derive(Clone, Copy)]
struct Filters {
    address: Memo<ListFilters>,
    typed: RwSignal<String>,
    /// Counts searches typed: one waiting for its pause goes ahead only if
    /// none has come since.
    searches: StoredValue<u64>,
    location: Location,
}

impl Filters {
    fn new() -> Self {
        let location = nav::location();
        let address = Memo::new(move |_| {
            location
                .search
                .with(|s| ListFilters::from_query(|k| routes::query_value(s, k)))
        });
        let filters = Filters {
            address,
            typed: RwSignal::new(address.get_untracked().search),
            searches: StoredValue::new(0u64),
            location,
        };
        // Back and Forward change the search from outside: the box follows,
        // and a search still waiting for its pause is dropped.
        Effect::new(move |_| {
            let search = address.get().search;
            if filters.typed.get_untracked().trim() != search.trim() {
                filters.searches.update_value(|n| *n += 1);
                filters.typed.set(search);
            }
        });
        filters
    }

    /// The filters as shown: the search box's text, even before its pause.
    fn shown(&self) -> ListFilters {
        ListFilters {
            search: self.typed.get_untracked(),
            ..self.address.get_untracked()
        }
    }

    /// Shows the list for `next`. Each change of filters is a step in the
    /// history, or (`replace`) changes the current one. The path stays, and
    /// so does the scroll.
    fn go(&self, next: ListFilters, replace: bool) {
        self.location.navigate(&next.href(), replace);
    }

    /// Takes what is typed in the search box. The address (and the query)
    /// follow once typing pauses, so that neither the history nor the
    /// service sees every keystroke; continuing a search changes the step
    /// it started.
    fn type_search(self, text: String) {
        self.typed.set(text.clone());
        self.searches.update_value(|n| *n += 1);
        let mine = self.searches.get_value();
        let pause = gloo_timers::future::TimeoutFuture::new(SEARCH_PAUSE_MS);
        task::run(None, pause, move |()| {
            if self.searches.try_get_value() != Some(mine) {
                return;
            }
            let Some(now) = self.address.try_get_untracked() else {
                return;
            };
            let continuing = !now.search.trim().is_empty() && !text.trim().is_empty();
            let next = ListFilters {
                search: text,
                page: 0,
                ..now
            };
            self.go(next, continuing);
        });
    }
}

/// The page of users the service returned for the address's filters.
#[derive(Clone, Copy)]
struct Listing {
    users: RwSignal<Vec<UserView>>,
    /// How many match, on every page.
    total: RwSignal<usize>,
    /// A query is under way.
    loading: RwSignal<bool>,
    /// Why the last query failed: its rows are not shown as if current.
    failed: RwSignal<Option<String>>,
    /// Bumped to ask again: Retry, or the server back after a failure.
    again: RwSignal<u64>,
}

impl Listing {
    /// Asks the service again whenever `filters` change.
    fn following(filters: Memo<ListFilters>) -> Self {
        let state = expect_context::<AppState>();
        let listing = Listing {
            users: RwSignal::new(Vec::new()),
            total: RwSignal::new(0),
            loading: RwSignal::new(false),
            failed: RwSignal::new(None),
            again: RwSignal::new(0),
        };
        state.when_back(Callback::new(move |()| {
            if listing.failed.with_untracked(Option::is_some) {
                listing.again.update(|n| *n += 1);
            }
        }));
        let latest = StoredValue::new(0u64);
        Effect::new(move |_| {
            listing.again.track();
            let q = filters.get().query();
            let Some(api) = state.api() else { return };
            latest.update_value(|n| *n += 1);
            let mine = latest.get_value();
            listing.loading.set(true);
            task::run(None, api.list(q), move |result| {
                // Only the newest query's answer counts, and none once the
                // screen has gone (its signals with it).
                if latest.try_get_value() != Some(mine) {
                    return;
                }
                match result {
                    Ok(list) => {
                        listing.users.set(list.users);
                        listing.total.set(list.total);
                        listing.failed.set(None);
                    }
                    Err(e) => {
                        listing.failed.set(Some(state.fail(&e)));
                        listing.users.set(Vec::new());
                        listing.total.set(0);
                    }
                }
                listing.loading.set(false);
            });
        });
        listing
    }
}

/// The search box and the role and status filters.
#[component]
fn FilterBar(filters: Filters) -> impl IntoView {
    let address = filters.address;
    view! {
        <div class="filters">
            <div class="field">
                <label for="admin-search">"Search"</label>
                <input id="admin-search" type="search" placeholder="username, name or email" autocomplete="off"
                    prop:value=move || filters.typed.get()
                    on:input=move |ev| filters.type_search(event_target_value(&ev))/>
            </div>
            <FilterSelect id="admin-role" label="Role" filters
                options=select_options(Role::ALL, "Any role", role_label)
                current=Signal::derive(move || filter_value(address.get().role))
                set=|f, v| f.role = Role::from_name(v)/>
            <FilterSelect id="admin-status" label="Status" filters
                options=select_options(UserStatus::ALL, "Any status", status_label)
                current=Signal::derive(move || filter_value(address.get().status))
                set=|f, v| f.status = UserStatus::from_name(v)/>
        </div>
    }
}

/// A filter's select: a pick shows the first page of the list it filters.
#[component]
fn FilterSelect(
    id: &'static str,
    label: &'static str,
    filters: Filters,
    /// (value, text), the value by its wire name.
    options: Vec<(String, String)>,
    current: Signal<String>,
    /// Puts a picked value into the filters.
    set: fn(&mut ListFilters, &str),
) -> impl IntoView {
    let change = move |ev| {
        let mut next = filters.shown();
        set(&mut next, &event_target_value(&ev));
        next.page = 0;
        filters.go(next, false);
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id prop:value=move || current.get() on:change=change>
                {options.into_iter().map(|(v, l)| view! { <option value=v>{l}</option> }).collect_view()}
            </select>
        </div>
    }
}

/// A column's heading; a sortable one is a button that sorts by it, or
/// turns the order around (`aria-sort` says which way).
#[component]
fn SortHeader(column: Column, filters: Filters) -> impl IntoView {
    let (label, key, class) = column;
    let aria_sort = move || {
        let s = filters.address.get().sort;
        key.filter(|&k| k == s.key).map(|_| {
            if s.descending {
                "descending"
            } else {
                "ascending"
            }
        })
    };
    let inner = match key {
        Some(k) => view! {
            <button type="button" class="sort" id=format!("sort-{k}")
                on:click=move |_| filters.go(filters.shown().sorted_by(k), false)>
                {label}
                <span aria-hidden="true" class="sort-mark">{move || match aria_sort() {
                    Some("ascending") => "▲",
                    Some(_) => "▼",
                    None => "",
                }}</span>
            </button>
        }
        .into_any(),
        None => label.into_any(),
    };
    view! { <th scope="col" class=class aria-sort=aria_sort>{inner}</th> }
}

/// One user, in one compact row: long values cut, the whole in the tooltip,
/// and a link to their page.
#[component]
fn UserRow(user: UserView) -> impl IntoView {
    let u = user;
    let name = u.username.clone();
    let (row_id, href, title) = (
        format!("row-{name}"),
        routes::user_path(&name),
        name.clone(),
    );
    view! {
        <tr id=row_id>
            <td class="cell-name"><a href=href title=title>{name}</a></td>
            <td class="cell-email opt" title=u.email.clone()>{u.email.clone()}</td>
            <td class="opt">{u.profile.get(ProfileField::FullName).to_owned()}</td>
            <td class="cell-role">{role_label(u.role)}</td>
            <td class="cell-status"><span class=format!("badge {}", u.status.as_str())>{status_label(u.status)}</span></td>
            <td class="opt" title=when(Some(&u.created_at))>{day(Some(&u.created_at))}</td>
            <td class="opt" title=when(u.last_login.as_deref())>{day(u.last_login.as_deref())}</td>
        </tr>
    }
}

/// Which users of how many show, and links to the pages before and after.
#[component]
fn Pager(filters: Memo<ListFilters>, total: RwSignal<usize>) -> impl IntoView {
    let range = move || {
        let (t, p) = (total.get(), filters.get().page);
        format!(
            "Showing {}–{} of {t}",
            p * PAGE + 1,
            (p * PAGE + PAGE).min(t)
        )
    };
    let to_page = move |page: usize| {
        let f = filters.get();
        ListFilters { page, ..f }.href()
    };
    view! {
        <nav class="pager" aria-label="Pages">
            <span id="admin-range" role="status">{range}</span>
            {page_link("page-prev", "Previous", Signal::derive(move || {
                let p = filters.get().page;
                (p > 0).then(|| to_page(p - 1))
            }))}
            {page_link("page-next", "Next", Signal::derive(move || {
                let p = filters.get().page;
                ((p + 1) * PAGE < total.get()).then(|| to_page(p + 1))
            }))}
        </nav>
    }
}

/// A link to another page of the list; without one (on the first or last
/// page) it stays on the page, disabled, so focus is not lost when it is used.
fn page_link(id: &'static str, label: &'static str, href: Signal<Option<String>>) -> impl IntoView {
    view! {
        <a id=id class="button secondary" href=move || href.get()
            role=move || href.with(Option::is_none).then_some("link")
            aria-disabled=move || if href.with(Option::is_none) { "true" } else { "false" }
            tabindex=move || if href.with(Option::is_none) { "-1" } else { "0" }>
            {label}
        </a>
    }
}

#[cfg(test)]
#[path = "users_tests.rs"]
mod tests;
