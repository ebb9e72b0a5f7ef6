//! The Profile tab: the free-text fields, and the record's dates, role and status.

use super::when;
use crate::app::AppState;
use crate::forms::{save_own, Field, FormState, NoticeView};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use users_protocol::user::PROFILE_FIELDS;
use users_protocol::{validate, UserUpdate, UserView};

/// The Profile tab.
#[component]
pub fn ProfileTab() -> impl IntoView {
    let state = expect_context::<AppState>();
    let user = move || state.session.with(|s| s.as_ref().map(|s| s.user.clone()));
    let initial = user().map(|u| u.profile).unwrap_or_default();
    let full_name = RwSignal::new(initial.full_name);
    let phone = RwSignal::new(initial.phone);
    let address = RwSignal::new(initial.address);
    let city = RwSignal::new(initial.city);
    let country = RwSignal::new(initial.country);
    let postal_code = RwSignal::new(initial.postal_code);
    let date_of_birth = RwSignal::new(initial.date_of_birth);
    let notes = RwSignal::new(initial.notes);
    let form = FormState::new();

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        form.start();
        let values = [
            ("full_name", full_name),
            ("phone", phone),
            ("address", address),
            ("city", city),
            ("country", country),
            ("postal_code", postal_code),
            ("date_of_birth", date_of_birth),
            ("notes", notes),
        ]
        .map(|(k, s)| (k, s.get_untracked().trim().to_owned()));
        if !form.check(values.iter().map(|(k, v)| validate::profile_field(k, v))) {
            return;
        }
        let [full_name, phone, address, city, country, postal_code, date_of_birth, notes] =
            values.map(|(_, v)| Some(v));
        let update = UserUpdate {
            full_name,
            phone,
            address,
            city,
            country,
            postal_code,
            date_of_birth,
            notes,
            ..Default::default()
        };
        let fields = PROFILE_FIELDS.iter().map(|(f, _)| *f).collect();
        save_own(state, form, update, fields, "Profile saved.", || {});
    };

    let meta = move || {
        user().map(|u: UserView| view! {
            <dl class="meta" id="profile-meta">
                <div><dt>"Username"</dt><dd>{u.username.clone()}</dd></div>
                <div><dt>"Email"</dt><dd>{u.email.clone()}</dd></div>
                <div><dt>"Role"</dt><dd id="meta-role">{u.role.as_str()}</dd></div>
                <div><dt>"Status"</dt><dd id="meta-status">{u.status.as_str()}</dd></div>
                <div><dt>"Created"</dt><dd>{when(Some(&u.created_at))}</dd></div>
                <div><dt>"Updated"</dt><dd id="meta-updated">{when(Some(&u.updated_at))}</dd></div>
                <div><dt>"Last login"</dt><dd>{when(u.last_login.as_deref())}</dd></div>
            </dl>
        })
    };
    view! {
        {meta}
        <form id="profile-form" on:submit=submit novalidate>
            <NoticeView notice=form.notice/>
            <div class="grid2">
                <Field id="p-full_name" name="full_name" label="Full name" value=full_name form autocomplete="name"/>
                <Field id="p-phone" name="phone" label="Phone" value=phone form kind="tel" autocomplete="tel"/>
                <Field id="p-address" name="address" label="Address" value=address form autocomplete="street-address"/>
                <Field id="p-city" name="city" label="City" value=city form autocomplete="address-level2"/>
                <Field id="p-country" name="country" label="Country" value=country form autocomplete="country-name"/>
                <Field id="p-postal_code" name="postal_code" label="Postal code" value=postal_code form autocomplete="postal-code"/>
                <Field id="p-date_of_birth" name="date_of_birth" label="Date of birth (YYYY-MM-DD)" value=date_of_birth form autocomplete="bday"/>
            </div>
            <div class="field">
                <label for="p-notes">"Notes"</label>
                <textarea id="p-notes" name="notes"
                    prop:value=move || notes.get()
                    on:input=move |ev| notes.set(event_target_value(&ev))
                ></textarea>
                <p class="error">{move || form.errors.with(|m| m.get("notes").cloned())}</p>
            </div>
            <div>
                <button id="profile-save" class="primary" type="submit" disabled=move || form.busy.get()>
                    {move || if form.busy.get() { "Saving…" } else { "Save profile" }}
                </button>
            </div>
        </form>
    }
}
