//! The state every page shares, provided as context by the shell. It sits below
//! the shell, the pages and the forms, so each of them can read it without
//! importing another.

use crate::api::{ApiError, AuthorizedApi, Conn};
use leptos::prelude::*;
use users_protocol::{ErrorCode, UserView};

/// A logged-in user.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Calls with this session's token.
    pub api: AuthorizedApi,
    /// The user as last read; a change the service confirms replaces it.
    pub user: UserView,
}

#[derive(Clone, Copy)]
pub struct AppState {
    pub session: RwSignal<Option<Session>>,
    /// A message for the login screen (logged out, session expired...).
    pub flash: RwSignal<Option<Notice>>,
    /// The WebSocket's state, for the header and the offline banner.
    pub conn: RwSignal<Conn>,
    /// A saved session is being checked; no page shows until it is.
    pub resuming: RwSignal<bool>,
}

impl AppState {
    /// The text to show for a failed call. A dead session logs out, with a message
    /// on the login screen.
    pub fn fail(&self, e: &ApiError) -> String {
        if e.code() == Some(ErrorCode::SessionInvalid)
            && self.session.with_untracked(Option::is_some)
        {
            self.end_session(Notice::info(
                "Your session has expired or was ended. Please log in again.",
            ));
        }
        e.message()
    }

    /// Logs out locally, showing `why` on the login screen.
    pub fn end_session(&self, why: Notice) {
        self.flash.set(Some(why));
        self.session.set(None);
    }

    /// Replaces the session's copy of the user after a change.
    pub fn set_user(&self, user: UserView) {
        self.session.update(|s| {
            if let Some(s) = s {
                s.user = user;
            }
        });
    }

    /// The current session's API, if logged in. Untracked: callers use it in
    /// event handlers and effects that must not rerun when the session changes.
    pub fn api(&self) -> Option<AuthorizedApi> {
        self.session
            .with_untracked(|s| s.as_ref().map(|s| s.api.clone()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Ok,
    Err,
    Info,
}

/// A message above or below a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub tone: Tone,
    pub text: String,
}

impl Notice {
    pub fn ok(text: impl Into<String>) -> Self {
        Notice {
            tone: Tone::Ok,
            text: text.into(),
        }
    }

    pub fn err(text: impl Into<String>) -> Self {
        Notice {
            tone: Tone::Err,
            text: text.into(),
        }
    }

    pub fn info(text: impl Into<String>) -> Self {
        Notice {
            tone: Tone::Info,
            text: text.into(),
        }
    }
}
