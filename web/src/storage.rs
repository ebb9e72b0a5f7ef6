//! The session token in sessionStorage: it survives a reload of the tab, not the
//! closing of the browser, and is never shared with other tabs' sessions.

use users_protocol::Secret;

const KEY: &str = "users.session";

fn store() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// The saved token, if any.
pub fn load() -> Option<Secret> {
    store()?
        .get_item(KEY)
        .ok()?
        .filter(|t| !t.is_empty())
        .map(Secret::new)
}

/// Saves the token.
pub fn save(token: &Secret) {
    if let Some(s) = store() {
        let _ = s.set_item(KEY, token.expose());
    }
}

/// Forgets the token.
pub fn clear() {
    if let Some(s) = store() {
        let _ = s.remove_item(KEY);
    }
}
