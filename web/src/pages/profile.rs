//! The Profile tab: the free-text fields, and the record's dates, role and status.
//! The fields come from [`ProfileField::ALL`], so a field added to the protocol
//! shows here once it has a [`control`].

use crate::forms::{save_own, FormState};
use crate::state::AppState;
use crate::widgets::{when, Field, NoticeView};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use users_protocol::validate::{self, FieldError};
use users_protocol::{ProfileField, UserUpdate, UserView};

/// How the form offers a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Control {
    /// One line in the grid. `format` goes in the label, for fields the
    /// service checks against one.
    Input {
        kind: &'static str,
        autocomplete: &'static str,
        format: Option<&'static str>,
    },
    /// Room for several lines, below the grid.
    TextArea,
}

fn control(field: ProfileField) -> Control {
    let input = |kind, autocomplete| Control::Input {
        kind,
        autocomplete,
        format: None,
    };
    match field {
        ProfileField::FullName => input("text", "name"),
        ProfileField::Phone => input("tel", "tel"),
        // May hold line breaks, but most addresses fit the grid's one line.
        ProfileField::Address => input("text", "street-address"),
        ProfileField::City => input("text", "address-level2"),
        ProfileField::Country => input("text", "country-name"),
        ProfileField::PostalCode => input("text", "postal-code"),
        ProfileField::DateOfBirth => Control::Input {
            kind: "text",
            autocomplete: "bday",
            format: Some("YYYY-MM-DD"),
        },
        ProfileField::Notes => Control::TextArea,
    }
}

/// Every field, trimmed, as one update (a field left empty clears it); or the
/// fields that break their rules.
fn profile_update(
    values: impl IntoIterator<Item = (ProfileField, String)>,
) -> Result<UserUpdate, Vec<FieldError>> {
    let values: Vec<(ProfileField, String)> = values
        .into_iter()
        .map(|(f, v)| (f, v.trim().to_owned()))
        .collect();
    let errors: Vec<FieldError> = values
        .iter()
        .filter_map(|(f, v)| validate::profile_field(*f, v).err())
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(UserUpdate {
        profile: values.into_iter().collect(),
        ..Default::default()
    })
}

#[component]
pub fn ProfileTab() -> impl IntoView {
    let state = expect_context::<AppState>();
    let user = move || state.session.with(|s| s.as_ref().map(|s| s.user.clone()));
    let initial = user().map(|u| u.profile).unwrap_or_default();
    let values: Vec<(ProfileField, RwSignal<String>)> = ProfileField::ALL
        .iter()
        .map(|&f| (f, RwSignal::new(initial.get(f).to_owned())))
        .collect();
    let form = FormState::new();

    let submit = {
        let values = values.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            form.start();
            match profile_update(values.iter().map(|(f, v)| (*f, v.get_untracked()))) {
                Ok(update) => save_own(
                    state,
                    form,
                    update,
                    ProfileField::NAMES.to_vec(),
                    "Profile saved.",
                    || {},
                ),
                Err(errors) => {
                    form.check(errors.into_iter().map(Err));
                }
            }
        }
    };

    let inputs = values
        .iter()
        .filter_map(|&(f, value)| match control(f) {
            Control::Input {
                kind,
                autocomplete,
                format,
            } => {
                let label = match format {
                    Some(format) => format!("{} ({format})", f.label()),
                    None => f.label(),
                };
                Some(view! {
                    <Field id=format!("p-{}", f.as_str()) name=f.as_str() label value form kind autocomplete/>
                })
            }
            Control::TextArea => None,
        })
        .collect_view();
    let text_areas = values
        .iter()
        .filter(|&&(f, _)| control(f) == Control::TextArea)
        .map(|&(f, value)| {
            let id = format!("p-{}", f.as_str());
            view! {
                <div class="field">
                    <label for=id.clone()>{f.label()}</label>
                    <textarea id=id name=f.as_str()
                        prop:value=move || value.get()
                        on:input=move |ev| value.set(event_target_value(&ev))
                    ></textarea>
                    <p class="error">{move || form.errors.with(|m| m.get(f.as_str()).cloned())}</p>
                </div>
            }
        })
        .collect_view();

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
            <div class="grid2">{inputs}</div>
            {text_areas}
            <div>
                <button id="profile-save" class="primary" type="submit" disabled=move || form.busy.get()>
                    {move || if form.busy.get() { "Saving…" } else { "Save profile" }}
                </button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_save_sends_every_field_trimmed() {
        let update = profile_update(ProfileField::ALL.iter().map(|&f| {
            (
                f,
                format!(
                    " {} ",
                    if f == ProfileField::DateOfBirth {
                        "1990-05-17"
                    } else {
                        "x"
                    }
                ),
            )
        }))
        .unwrap();
        let sent: Vec<ProfileField> = update.profile.iter().map(|(f, _)| f).collect();
        assert_eq!(sent, ProfileField::ALL);
        assert_eq!(update.profile.get(ProfileField::City), Some("x"));
        assert_eq!(
            update.profile.get(ProfileField::DateOfBirth),
            Some("1990-05-17")
        );
        assert_eq!(update.username, None);
    }

    #[test]
    fn a_save_reports_each_broken_field() {
        let errors = profile_update([
            (ProfileField::DateOfBirth, "17/05/1990".to_owned()),
            (ProfileField::City, "a\nb".to_owned()),
            (ProfileField::Notes, "a\nb".to_owned()),
        ])
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["date_of_birth", "city"]);
    }

    #[test]
    fn only_multiline_fields_get_a_text_area() {
        for &f in ProfileField::ALL {
            if control(f) == Control::TextArea {
                assert!(f.multiline(), "{f} refuses line breaks");
            }
        }
        assert_eq!(control(ProfileField::Notes), Control::TextArea);
    }
}
