//! The state every page shares, provided as context by the shell. It sits below
//! the shell, the pages and the forms, so each of them can read it without
//! importing another.

use crate::api::{ApiError, AuthorizedApi, Conn};
use crate::routes::Screen;
use leptos::prelude::*;
use std::borrow::Cow;
use users_protocol::{ErrorCode, Role, UserView};

/// A logged-in user.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Session {
    /// Calls with this session's token.
    pub(crate) api: AuthorizedApi,
    /// The user as last read; a change the service confirms replaces it.
    pub(crate) user: UserView,
    /// Still the well-known first-admin password: nothing else shows until
    /// it is changed.
    pub(crate) must_change_password: bool,
}

/// A notice for the screen at `path`, shown when it is reached and dropped
/// when the user moves on: "You have logged out." on the sign-in screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Flash {
    pub(crate) path: Cow<'static, str>,
    pub(crate) notice: Notice,
}

#[derive(Clone, Copy)]
pub(crate) struct AppState {
    pub(crate) session: RwSignal<Option<Session>>,
    pub(crate) flash: RwSignal<Option<Flash>>,
    /// The WebSocket's state, for the header and the banner.
    pub(crate) conn: RwSignal<Conn>,
    /// Whether the service behind the bridge answers.
    pub(crate) service_up: RwSignal<bool>,
    /// A saved session is being checked; no page shows until it is.
    pub(crate) resuming: RwSignal<bool>,
    /// A form on screen has edits not yet saved: leaving asks first.
    pub(crate) dirty: RwSignal<bool>,
    /// The name of the account just registered, for the sign-in form.
    pub(crate) new_username: RwSignal<String>,
    /// Counts the times the server came back (the connection up again, or
    /// the service answering again): what failed to load tries again.
    pub(crate) back: RwSignal<u64>,
    /// The id of the form submitted last: the others' success notices go,
    /// so that old outcomes do not pile up on a page.
    pub(crate) acted: RwSignal<&'static str>,
}

impl AppState {
    pub(crate) fn new() -> Self {
        AppState {
            session: RwSignal::new(None),
            flash: RwSignal::new(None),
            conn: RwSignal::new(Conn::Connecting),
            service_up: RwSignal::new(true),
            resuming: RwSignal::new(false),
            dirty: RwSignal::new(false),
            new_username: RwSignal::new(String::new()),
            back: RwSignal::new(0),
            acted: RwSignal::new(""),
        }
    }

    /// Runs `again` each time the server comes back after being away.
    /// Not generic, so that its effect is compiled once for all screens.
    pub(crate) fn when_back(&self, again: Callback<()>) {
        let back = self.back;
        Effect::new(move |before: Option<u64>| {
            let now = back.get();
            if before.is_some_and(|b| b != now) {
                again.run(());
            }
            now
        });
    }

    /// The text to show for a failed call. A dead session logs out, with a message
    /// on the sign-in screen.
    pub(crate) fn fail(&self, e: &ApiError) -> String {
        if e.code() == Some(ErrorCode::SessionInvalid)
            && self.session.with_untracked(Option::is_some)
        {
            self.end_session(Notice::info(
                "Your session has expired or was ended. Please log in again.",
            ));
        }
        // The service says the password must be changed first (a reset
        // after sign-in, another instance): show the screen that does it.
        if e.code() == Some(ErrorCode::TwoFactorRequired) {
            self.flash_on(
                Screen::Security,
                Notice::info(
                    "Your role signs in with two factors: set up two-factor login to go on.",
                ),
            );
            // Outside the app's owner (a call's continuation) there is no
            // context to read: the notice then waits for the next screen.
            if let Some(location) = use_context::<crate::nav::Location>() {
                location.navigate(&Screen::Security.path(), false);
            }
        }
        if e.code() == Some(ErrorCode::PasswordChangeRequired) {
            self.session.update(|s| {
                if let Some(s) = s {
                    s.must_change_password = true;
                }
            });
        }
        e.message()
    }

    /// Shows `notice` on `screen` once it is reached.
    pub(crate) fn flash_on(&self, screen: Screen, notice: Notice) {
        self.flash.set(Some(Flash {
            path: screen.path(),
            notice,
        }));
    }

    /// Logs out locally, showing `why` on the sign-in screen.
    pub(crate) fn end_session(&self, why: Notice) {
        self.flash_on(Screen::Login, why);
        self.dirty.set(false);
        self.session.set(None);
    }

    /// Replaces the session's copy of the user after a change.
    pub(crate) fn set_user(&self, user: UserView) {
        self.session.update(|s| {
            if let Some(s) = s {
                s.user = user;
            }
        });
    }

    /// The current session's API, if logged in. Untracked: callers use it in
    /// event handlers and effects that must not rerun when the session changes.
    pub(crate) fn api(&self) -> Option<AuthorizedApi> {
        self.session
            .with_untracked(|s| s.as_ref().map(|s| s.api.clone()))
    }

    /// Whether the signed-in account has no password, so that it confirms
    /// changes with a passkey; tracked.
    pub(crate) fn passwordless(&self) -> bool {
        self.session
            .with(|s| s.as_ref().is_some_and(|s| s.user.passwordless))
    }

    /// Whether the signed-in user is an admin or a moderator, tracked.
    pub(crate) fn is_staff(&self) -> bool {
        self.role().is_some_and(|r| r.can_read_all())
    }

    /// Whether the signed-in user is an admin, tracked.
    pub(crate) fn is_admin(&self) -> bool {
        self.role() == Some(Role::Admin)
    }

    /// The signed-in user's role, tracked.
    pub(crate) fn role(&self) -> Option<Role> {
        self.session.with(|s| s.as_ref().map(|s| s.user.role))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Ok,
    Err,
    Info,
}

/// A message above or below a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notice {
    pub(crate) tone: Tone,
    pub(crate) text: String,
}

impl Notice {
    pub(crate) fn ok(text: impl Into<String>) -> Self {
        Notice {
            tone: Tone::Ok,
            text: text.into(),
        }
    }

    pub(crate) fn err(text: impl Into<String>) -> Self {
        Notice {
            tone: Tone::Err,
            text: text.into(),
        }
    }

    pub(crate) fn info(text: impl Into<String>) -> Self {
        Notice {
            tone: Tone::Info,
            text: text.into(),
        }
    }
}
