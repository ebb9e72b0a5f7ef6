//! What the browser keeps for the app: the session token in sessionStorage (it
//! survives a reload of the tab, not the closing of the browser, and is never
//! shared with other tabs' sessions), and the chosen theme in localStorage.
//! Only the shell touches either.

use users_protocol::Secret;

const SESSION_KEY: &str = "users.session";
/// Also read by the inline script in index.html, before the first paint.
const THEME_KEY: &str = "users.theme";

fn session_store() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

fn local_store() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The saved token, if any.
pub fn load() -> Option<Secret> {
    session_store()?
        .get_item(SESSION_KEY)
        .ok()?
        .filter(|t| !t.is_empty())
        .map(Secret::new)
}

/// Saves the token.
pub fn save(token: &Secret) {
    if let Some(s) = session_store() {
        let _ = s.set_item(SESSION_KEY, token.expose());
    }
}

/// Forgets the token.
pub fn clear() {
    if let Some(s) = session_store() {
        let _ = s.remove_item(SESSION_KEY);
    }
}

/// The theme chosen with the toggle: `Some(true)` dark, `Some(false)` light,
/// `None` to follow the system.
pub fn load_theme() -> Option<bool> {
    match local_store()?.get_item(THEME_KEY).ok()??.as_str() {
        "dark" => Some(true),
        "light" => Some(false),
        _ => None,
    }
}

/// Remembers the chosen theme.
pub fn save_theme(dark: bool) {
    if let Some(s) = local_store() {
        let _ = s.set_item(THEME_KEY, if dark { "dark" } else { "light" });
    }
}
