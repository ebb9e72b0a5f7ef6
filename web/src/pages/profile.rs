//! `/account/profile`: the record's dates, role and status, and the profile
//! form, which an admin also uses on another user's page.
//! The fields come from [`ProfileField::ALL`], so a field added to the protocol
//! shows here once it has a [`control`].

use crate::forms::FormState;
use crate::state::AppState;
use crate::widgets::{role_label, status_label, when, BusyButton, Field, NoticeView};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use users_protocol::validate::{self, FieldError};
use users_protocol::{ProfileField, UserUpdate, UserView};

/// How the form offers a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Control {
    /// One line in the grid.
    Input {
        kind: &'static str,
        autocomplete: &'static str,
    },
    /// Room for several lines, below the grid.
    TextArea,
}

fn control(field: ProfileField) -> Control {
    let input = |kind, autocomplete| Control::Input { kind, autocomplete };
    match field {
        ProfileField::FullName => input("text", "name"),
        ProfileField::Phone => input("tel", "tel"),
        // May hold line breaks, but most addresses fit the grid's one line.
        ProfileField::Address => input("text", "street-address"),
        ProfileField::City => input("text", "address-level2"),
        ProfileField::Country => input("text", "country-name"),
        ProfileField::PostalCode => input("text", "postal-code"),
        // The browser's date picker; its value is YYYY-MM-DD, the service's format.
        ProfileField::DateOfBirth => input("date", "bday"),
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

/// `/account/profile`: one's own record and profile.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn ProfilePage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let user = move || state.session.with(|s| s.as_ref().map(|s| s.user.clone()));
    let first = user();
    let on_saved = Callback::new(move |u: UserView| state.set_user(u));
    view! {
        <h1 class="page-title" tabindex="-1">"Profile"</h1>
        {move || user().map(|u| view! { <Meta user=u/> })}
        {first.map(|u| view! { <ProfileForm user=u target=None on_saved/> })}
    }
}

/// A user's record: names, role, status and dates.
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn Meta(user: UserView) -> impl IntoView {
    let u = user;
    view! {
        <dl class="meta" id="profile-meta">
            <div><dt>"Username"</dt><dd class="wrap">{u.username.clone()}</dd></div>
            <div class="wide"><dt>"Email"</dt><dd class="wrap">{u.email.clone()}</dd></div>
            <div><dt>"Role"</dt><dd id="meta-role">{role_label(u.role)}</dd></div>
            <div><dt>"Status"</dt><dd id="meta-status">{status_label(u.status)}</dd></div>
            <div><dt>"Created"</dt><dd>{when(Some(&u.created_at))}</dd></div>
            <div><dt>"Updated"</dt><dd id="meta-updated">{when(Some(&u.updated_at))}</dd></div>
            <div><dt>"Last login"</dt><dd>{when(u.last_login.as_deref())}</dd></div>
        </dl>
    }
}

/// Each profile field and the text the form holds for it.
type Values = Vec<(ProfileField, RwSignal<String>)>;

/// The texts the form holds, in field order.
fn texts(values: &Values) -> Vec<String> {
    values.iter().map(|(_, v)| v.get_untracked()).collect()
}

/// The profile fields of `user`: one's own (`target` none), or another
/// user's for an admin. While it holds edits not yet saved, leaving the
/// screen asks first (see the shell).
#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn ProfileForm(
    user: UserView,
    target: Option<String>,
    on_saved: Callback<UserView>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let values: Values = ProfileField::ALL
        .iter()
        .map(|&f| (f, RwSignal::new(user.profile.get(f).to_owned())))
        .collect();
    // What the service holds, to tell unsaved edits.
    let saved = RwSignal::new(texts(&values));
    let dirty = unsaved_edits(values.clone(), saved);
    let form = FormState::new("profile-form");
    let submit = {
        let values = values.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            form.start();
            let update = match profile_update(values.iter().map(|(f, v)| (*f, v.get_untracked()))) {
                Ok(update) => update,
                Err(errors) => {
                    form.check(errors.into_iter().map(Err));
                    return;
                }
            };
            let Some(api) = state.api() else { return };
            let sent = texts(&values);
            form.run(
                ProfileField::NAMES,
                api.update(update, target.clone()),
                move |u| {
                    saved.set(sent);
                    on_saved.try_run(u);
                    form.succeed("Profile saved.");
                },
            );
        }
    };
    view! {
        <form id="profile-form" on:submit=submit novalidate>
            <NoticeView notice=form.notice/>
            <div class="grid2">{one_line_fields(&values, form)}</div>
            {text_areas(&values, form)}
            <div class="form-actions">
                <BusyButton id="profile-save" busy=form.busy>
                    {move || if form.busy.get() { "Saving…" } else { "Save profile" }}
                </BusyButton>
                <span class="muted" id="profile-dirty">{move || dirty.get().then_some("Unsaved changes")}</span>
            </div>
        </form>
    }
}

/// Whether the form holds edits the service does not have (`saved`); the
/// shell hears of them while the form is on screen.
fn unsaved_edits(values: Values, saved: RwSignal<Vec<String>>) -> Memo<bool> {
    let state = expect_context::<AppState>();
    let dirty = Memo::new(move |_| {
        saved.with(|s| values.iter().zip(s).any(|((_, v), s)| v.with(|v| v != s)))
    });
    Effect::new(move |_| state.dirty.set(dirty.get()));
    on_cleanup(move || state.dirty.set(false));
    dirty
}

/// The fields that fit one line, for the grid.
fn one_line_fields(values: &Values, form: FormState) -> impl IntoView {
    values
        .iter()
        .filter_map(|&(f, value)| match control(f) {
            Control::Input {
                kind,
                autocomplete,
            } => Some(view! {
                <Field id=format!("p-{}", f.as_str()) name=f.as_str() label=f.label() value form kind autocomplete/>
            }),
            Control::TextArea => None,
        })
        .collect_view()
}

/// The fields with room for several lines, below the grid; each error tied
/// to its text area as [`Field`] ties an input's.
fn text_areas(values: &Values, form: FormState) -> impl IntoView {
    values
        .iter()
        .filter(|&&(f, _)| control(f) == Control::TextArea)
        .map(|&(f, value)| {
            let id = format!("p-{}", f.as_str());
            let err_id = format!("{id}-error");
            let error = move || form.errors.with(|m| m.get(f.as_str()).cloned());
            view! {
                <div class="field">
                    <label for=id.clone()>{f.label()}</label>
                    <textarea id=id name=f.as_str()
                        aria-describedby=err_id.clone()
                        aria-invalid=move || if error().is_some() { "true" } else { "false" }
                        prop:value=move || value.get()
                        on:input=move |ev| value.set(event_target_value(&ev))
                    ></textarea>
                    <p class="error" id=err_id>{error}</p>
                </div>
            }
        })
        .collect_view()
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
