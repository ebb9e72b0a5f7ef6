//! The admin panel: the user list, searched, filtered, sorted and paged by the
//! service; admins also change roles and statuses and delete users.

use crate::state::{AppState, Notice};
use crate::widgets::{when, NoticeView};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::fmt::Display;
use users_protocol::{
    ListQuery, ProfileField, Role, Secret, Sort, SortKey, UserStatus, UserUpdate, UserView,
};

/// Users per page.
const PAGE: usize = 20;

/// The query for the panel's current filters.
fn query(
    search: &str,
    role: Option<Role>,
    status: Option<UserStatus>,
    sort: Sort,
    page: usize,
) -> ListQuery {
    let search = search.trim();
    ListQuery {
        limit: Some(PAGE),
        offset: Some(page * PAGE),
        search: (!search.is_empty()).then(|| search.to_owned()),
        role,
        status,
        sort: Some(sort),
    }
}

/// A filter's options: "any" (no filter), then every value by its wire name.
fn filter_options<T: Copy + Display>(all: &[T]) -> Vec<(Option<T>, String)> {
    std::iter::once((None, "any".to_owned()))
        .chain(all.iter().map(|&v| (Some(v), v.to_string())))
        .collect()
}

/// The wire name of a filter's value, the empty string for "any".
fn filter_value<T: Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Every order the service offers: each key ascending, then descending.
fn sort_options() -> Vec<(Sort, String)> {
    SortKey::ALL
        .iter()
        .flat_map(|&k| [Sort::asc(k), Sort::desc(k)])
        .map(|s| (s, sort_label(s)))
        .collect()
}

fn sort_label(sort: Sort) -> String {
    // Times read as "newest" or "oldest", not as letters.
    let name = sort.key.as_str().replace('_', " ");
    match (sort.key, sort.descending) {
        (SortKey::CreatedAt, false) => "oldest".to_owned(),
        (SortKey::CreatedAt, true) => "newest".to_owned(),
        (SortKey::LastLogin, false) => format!("{name}, earliest first"),
        (SortKey::LastLogin, true) => format!("{name}, latest first"),
        (_, false) => format!("{name} A–Z"),
        (_, true) => format!("{name} Z–A"),
    }
}

/// A `<select>` over typed values; each option's `value` is `wire(v)`.
fn select<T: Copy + Send + Sync + 'static>(
    id: &'static str,
    label: &'static str,
    value: RwSignal<T>,
    options: Vec<(T, String)>,
    wire: fn(T) -> String,
    page: RwSignal<usize>,
) -> impl IntoView {
    let values: Vec<T> = options.iter().map(|(v, _)| *v).collect();
    let pick = move |w: String| values.iter().copied().find(|&v| wire(v) == w);
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id prop:value=move || wire(value.get())
                on:change=move |ev| {
                    if let Some(v) = pick(event_target_value(&ev)) {
                        value.set(v);
                        page.set(0);
                    }
                }>
                {options.into_iter().map(|(v, l)| view! { <option value=wire(v)>{l}</option> }).collect_view()}
            </select>
        </div>
    }
}

#[component]
pub fn AdminPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let is_admin = Memo::new(move |_| {
        state
            .session
            .with(|s| s.as_ref().is_some_and(|s| s.user.role == Role::Admin))
    });
    let search = RwSignal::new(String::new());
    let role = RwSignal::new(None::<Role>);
    let status = RwSignal::new(None::<UserStatus>);
    let sort = RwSignal::new(Sort::asc(SortKey::Username));
    let page = RwSignal::new(0usize);
    let users = RwSignal::new(Vec::<UserView>::new());
    let total = RwSignal::new(0usize);
    let loading = RwSignal::new(false);
    let notice = RwSignal::new(None::<Notice>);
    let reload = RwSignal::new(0u32);
    let deleting = RwSignal::new(None::<String>);
    let admin_password = RwSignal::new(String::new());
    let latest = StoredValue::new(0u64);

    Effect::new(move |_| {
        let q = query(
            &search.get(),
            role.get(),
            status.get(),
            sort.get(),
            page.get(),
        );
        reload.track();
        let Some(api) = state.api() else { return };
        latest.update_value(|n| *n += 1);
        let mine = latest.get_value();
        loading.set(true);
        spawn_local(async move {
            let result = api.list(q).await;
            // Typing fast sends several queries; only the newest one's answer counts.
            if latest.get_value() != mine {
                return;
            }
            match result {
                Ok(list) => {
                    users.set(list.users);
                    total.set(list.total);
                }
                Err(e) => notice.set(Some(Notice::err(state.fail(&e)))),
            }
            loading.set(false);
        });
    });

    let change = move |username: String, update: UserUpdate| {
        let Some(api) = state.api() else { return };
        notice.set(Some(Notice::info(format!("Updating {username}…"))));
        spawn_local(async move {
            match api.update(update, Some(username.clone())).await {
                Ok(_) => notice.set(Some(Notice::ok(format!("Updated {username}.")))),
                Err(e) => notice.set(Some(Notice::err(state.fail(&e)))),
            }
            reload.update(|n| *n += 1);
        });
    };

    let confirm_delete = move |_| {
        let (Some(api), Some(victim)) = (state.api(), deleting.get_untracked()) else {
            return;
        };
        let pw = admin_password.get_untracked();
        if pw.is_empty() {
            notice.set(Some(Notice::err(
                "Enter your own password to confirm the deletion.",
            )));
            return;
        }
        notice.set(Some(Notice::info(format!("Deleting {victim}…"))));
        spawn_local(async move {
            match api.delete(Secret::new(pw), Some(victim.clone())).await {
                Ok(()) => {
                    notice.set(Some(Notice::ok(format!("Deleted {victim}."))));
                    deleting.set(None);
                    admin_password.set(String::new());
                }
                Err(e) => notice.set(Some(Notice::err(state.fail(&e)))),
            }
            reload.update(|n| *n += 1);
        });
    };

    let row = move |u: UserView| {
        let name = u.username.clone();
        let (n1, n2, n3) = (name.clone(), name.clone(), name.clone());
        let actions = is_admin.get().then(|| view! {
            <td class="row-actions">
                <select id=format!("role-{name}") aria-label=format!("Role of {name}") prop:value=u.role.as_str()
                    on:change=move |ev| {
                        let role = Role::from_name(&event_target_value(&ev));
                        change(n1.clone(), UserUpdate { role, ..Default::default() });
                    }>
                    {Role::ALL.iter().map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> }).collect_view()}
                </select>
                <select id=format!("status-{name}") aria-label=format!("Status of {name}") prop:value=u.status.as_str()
                    on:change=move |ev| {
                        let status = UserStatus::from_name(&event_target_value(&ev));
                        change(n2.clone(), UserUpdate { status, ..Default::default() });
                    }>
                    {UserStatus::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).collect_view()}
                </select>
                <button id=format!("delete-{name}") class="secondary" type="button"
                    on:click=move |_| { deleting.set(Some(n3.clone())); admin_password.set(String::new()); }>
                    "Delete…"
                </button>
            </td>
        });
        view! {
            <tr id=format!("row-{name}")>
                <td>{u.username.clone()}</td>
                <td>{u.email.clone()}</td>
                <td>{u.profile.get(ProfileField::FullName).to_owned()}</td>
                <td class="cell-role">{u.role.as_str()}</td>
                <td class="cell-status">{u.status.as_str()}</td>
                <td class="opt">{when(Some(&u.created_at))}</td>
                <td class="opt">{when(u.last_login.as_deref())}</td>
                {actions}
            </tr>
        }
    };

    let last_page = move || (page.get() + 1) * PAGE >= total.get();
    let range = move || {
        let (t, p) = (total.get(), page.get());
        if t == 0 {
            "No users match.".to_owned()
        } else {
            format!(
                "Showing {}–{} of {t}",
                p * PAGE + 1,
                (p * PAGE + PAGE).min(t)
            )
        }
    };

    view! {
        <NoticeView notice/>
        {move || deleting.get().map(|victim| view! {
            <div class="notice info" id="delete-confirm" role="dialog" aria-labelledby="delete-confirm-title">
                <p id="delete-confirm-title"><strong>"Delete " {victim.clone()} "?"</strong>
                    " This cannot be undone. Enter your own password to confirm."</p>
                <div class="field">
                    <label for="admin-password">"Your password"</label>
                    <input id="admin-password" type="password" autocomplete="current-password"
                        prop:value=move || admin_password.get()
                        on:input=move |ev| admin_password.set(event_target_value(&ev))/>
                </div>
                <div class="row-actions" style="margin-top:.6rem">
                    <button id="delete-confirm-button" class="danger" type="button" on:click=confirm_delete>"Delete " {victim.clone()}</button>
                    <button class="secondary" type="button" on:click=move |_| deleting.set(None)>"Cancel"</button>
                </div>
            </div>
        })}
        <div class="filters">
            <div class="field">
                <label for="admin-search">"Search"</label>
                <input id="admin-search" type="search" placeholder="username, name or email"
                    prop:value=move || search.get()
                    on:input=move |ev| { search.set(event_target_value(&ev)); page.set(0); }/>
            </div>
            {select("admin-role", "Role", role, filter_options(Role::ALL), filter_value, page)}
            {select("admin-status", "Status", status, filter_options(UserStatus::ALL), filter_value, page)}
            {select("admin-sort", "Sort", sort, sort_options(), |s: Sort| s.to_string(), page)}
        </div>
        <div class="table-wrap">
            <table id="user-table" aria-busy=move || if loading.get() { "true" } else { "false" }>
                <thead><tr>
                    <th scope="col">"Username"</th><th scope="col">"Email"</th><th scope="col">"Full name"</th>
                    <th scope="col">"Role"</th><th scope="col">"Status"</th><th scope="col" class="opt">"Created"</th>
                    <th scope="col" class="opt">"Last login"</th>
                    {move || is_admin.get().then(|| view! { <th scope="col">"Actions"</th> })}
                </tr></thead>
                <tbody>
                    {move || users.get().into_iter().map(row).collect_view()}
                </tbody>
            </table>
        </div>
        <div class="pager">
            <span id="admin-range" role="status">{move || if loading.get() { "Loading…".to_owned() } else { range() }}</span>
            <button id="page-prev" class="secondary" type="button" disabled=move || page.get() == 0
                on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"Previous"</button>
            <button id="page-next" class="secondary" type="button" disabled=last_page
                on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_a_paged_query() {
        let q = query(
            "  ali ",
            Some(Role::Admin),
            None,
            Sort::desc(SortKey::CreatedAt),
            2,
        );
        assert_eq!(q.limit, Some(PAGE));
        assert_eq!(q.offset, Some(2 * PAGE));
        assert_eq!(q.search.as_deref(), Some("ali"));
        assert_eq!(q.role, Some(Role::Admin));
        assert_eq!(q.status, None);
        assert_eq!(
            q.sort.map(|s| s.to_string()).as_deref(),
            Some("-created_at")
        );
        assert_eq!(query(" ", None, None, Sort::default(), 0).search, None);
    }

    #[test]
    fn filter_options_offer_any_then_every_value_by_wire_name() {
        let roles = filter_options(Role::ALL);
        assert_eq!(roles.len(), Role::ALL.len() + 1);
        let values: Vec<String> = roles.iter().map(|(v, _)| filter_value(*v)).collect();
        assert_eq!(values, ["", "user", "moderator", "admin"]);
        assert_eq!(roles[0].1, "any");
        let statuses: Vec<String> = filter_options(UserStatus::ALL)
            .into_iter()
            .map(|(v, _)| filter_value(v))
            .collect();
        assert_eq!(statuses, ["", "active", "inactive", "suspended"]);
    }

    #[test]
    fn sort_options_cover_every_key_both_ways() {
        let options = sort_options();
        assert_eq!(options.len(), 2 * SortKey::ALL.len());
        for &key in SortKey::ALL {
            for sort in [Sort::asc(key), Sort::desc(key)] {
                assert!(options.iter().any(|(s, _)| *s == sort), "{sort} missing");
            }
        }
        // The first option is the service's default order, which the panel starts with.
        assert_eq!(options[0].0, Sort::asc(SortKey::Username));
        let labels: std::collections::HashSet<&str> =
            options.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels.len(),
            options.len(),
            "labels must tell options apart"
        );
        let wire: Vec<String> = options.iter().map(|(s, _)| s.to_string()).collect();
        assert!(wire.iter().any(|w| w == "-created_at"), "{wire:?}");
        assert_eq!(sort_label(Sort::desc(SortKey::CreatedAt)), "newest");
        assert_eq!(sort_label(Sort::asc(SortKey::Username)), "username A–Z");
    }
}
