//! The admin panel: the user list, searched, filtered, sorted and paged by the
//! service; admins also change roles and statuses and delete users.

use super::when;
use crate::app::AppState;
use crate::forms::{Notice, NoticeView};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::de::DeserializeOwned;
use users_protocol::{ListQuery, Role, Secret, UserStatus, UserUpdate, UserView};

/// Users per page.
const PAGE: usize = 20;

/// A role or status from its wire name; empty means "any".
fn parse<T: DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

/// The query for the panel's current filters.
fn query(search: &str, role: &str, status: &str, sort: &str, page: usize) -> ListQuery {
    let search = search.trim();
    ListQuery {
        limit: Some(PAGE),
        offset: Some(page * PAGE),
        search: (!search.is_empty()).then(|| search.to_owned()),
        role: parse(role),
        status: parse(status),
        sort: Some(sort.to_owned()),
    }
}

/// The admin panel.
#[component]
pub fn AdminPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let is_admin = Memo::new(move |_| {
        state
            .session
            .with(|s| s.as_ref().is_some_and(|s| s.user.role == Role::Admin))
    });
    let (search, role, status, sort) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new("username".to_owned()),
    );
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
            &role.get(),
            &status.get(),
            &sort.get(),
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

    let select = |id: &'static str,
                  label: &'static str,
                  value: RwSignal<String>,
                  options: Vec<(&'static str, &'static str)>| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <select id=id prop:value=move || value.get()
                    on:change=move |ev| { value.set(event_target_value(&ev)); page.set(0); }>
                    {options.into_iter().map(|(v, l)| view! { <option value=v>{l}</option> }).collect_view()}
                </select>
            </div>
        }
    };

    let row = move |u: UserView| {
        let name = u.username.clone();
        let (n1, n2, n3) = (name.clone(), name.clone(), name.clone());
        let actions = is_admin.get().then(|| view! {
            <td class="row-actions">
                <select id=format!("role-{name}") aria-label=format!("Role of {name}") prop:value=u.role.as_str()
                    on:change=move |ev| {
                        let role = parse::<Role>(&event_target_value(&ev));
                        change(n1.clone(), UserUpdate { role, ..Default::default() });
                    }>
                    <option value="user">"user"</option>
                    <option value="moderator">"moderator"</option>
                    <option value="admin">"admin"</option>
                </select>
                <select id=format!("status-{name}") aria-label=format!("Status of {name}") prop:value=u.status.as_str()
                    on:change=move |ev| {
                        let status = parse::<UserStatus>(&event_target_value(&ev));
                        change(n2.clone(), UserUpdate { status, ..Default::default() });
                    }>
                    <option value="active">"active"</option>
                    <option value="inactive">"inactive"</option>
                    <option value="suspended">"suspended"</option>
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
                <td>{u.profile.full_name.clone()}</td>
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
            {select("admin-role", "Role", role, vec![("", "any"), ("user", "user"), ("moderator", "moderator"), ("admin", "admin")])}
            {select("admin-status", "Status", status, vec![("", "any"), ("active", "active"), ("inactive", "inactive"), ("suspended", "suspended")])}
            {select("admin-sort", "Sort", sort, vec![
                ("username", "username A–Z"), ("-username", "username Z–A"), ("email", "email"),
                ("-created_at", "newest"), ("created_at", "oldest"), ("-last_login", "last login"), ("role", "role"),
            ])}
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
        let q = query("  ali ", "admin", "", "-created_at", 2);
        assert_eq!(q.limit, Some(PAGE));
        assert_eq!(q.offset, Some(2 * PAGE));
        assert_eq!(q.search.as_deref(), Some("ali"));
        assert_eq!(q.role, Some(Role::Admin));
        assert_eq!(q.status, None);
        assert_eq!(q.sort.as_deref(), Some("-created_at"));
        assert_eq!(
            query("", "", "suspended", "username", 0).status,
            Some(UserStatus::Suspended)
        );
    }
}
