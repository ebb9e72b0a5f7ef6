//! What the browser keeps for the app: the session token in sessionStorage (it
//! survives a reload of the tab, not the closing of the browser, and is never
//! shared with other tabs' sessions), and the chosen theme in localStorage.
//! Only the shell touches either.

use users_protocol::Secret;

const SESSION_KEY: &str = "users.session";
/// Set while the session's account still has the default first-admin
/// password: the login reply says so, and a reload must not forget it.
const MUST_CHANGE_KEY: &str = "users.must-change-password";
/// Also read by the inline script in index.html, before the first paint.
const THEME_KEY: &str = "users.theme";

fn session_store() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

fn local_store() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The saved token, if any, and whether its password must be changed first.
pub(crate) fn load() -> Option<(Secret, bool)> {
    let store = session_store()?;
    let token = store
        .get_item(SESSION_KEY)
        .ok()?
        .filter(|t| !t.is_empty())
        .map(Secret::new)?;
    let must_change = store.get_item(MUST_CHANGE_KEY).ok().flatten().is_some();
    Some((token, must_change))
}

/// Saves the token, and whether its password must be changed first.
pub(crate) fn save(token: &Secret, must_change: bool) {
    if let Some(s) = session_store() {
        let _ = s.set_item(SESSION_KEY, token.expose());
        let _ = match must_change {
            true => s.set_item(MUST_CHANGE_KEY, "1"),
            false => s.remove_item(MUST_CHANGE_KEY),
        };
    }
}

/// Forgets the token.
pub(crate) fn clear() {
    if let Some(s) = session_store() {
        let _ = s.remove_item(SESSION_KEY);
        let _ = s.remove_item(MUST_CHANGE_KEY);
    }
}

/// The theme chosen with the toggle: `Some(true)` dark, `Some(false)` light,
/// `None` to follow the system.
pub(crate) fn load_theme() -> Option<bool> {
    match local_store()?.get_item(THEME_KEY).ok()??.as_str() {
        "dark" => Some(true),
        "light" => Some(false),
        _ => None,
    }
}

/// Remembers the chosen theme.
pub(crate) fn save_theme(dark: bool) {
    if let Some(s) = local_store() {
        let _ = s.set_item(THEME_KEY, if dark { "dark" } else { "light" });
    }
}
