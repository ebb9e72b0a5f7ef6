//! The address bar as signals. The path and the query string follow the
//! browser's history: links inside the app, [`Location::navigate`], Back and
//! Forward, all without a page load. The app matches its few fixed paths
//! itself ([`crate::routes::Screen`]), so this is all it needs of a router,
//! in a few lines over `History` rather than a crate in the download.

use crate::dom;
use crate::routes;
use leptos::prelude::*;
use leptos::wasm_bindgen::closure::Closure;
use leptos::wasm_bindgen::{JsCast, JsValue};
use leptos::web_sys;

/// The page's address: `path` (`/admin/users`) and `search` (`?q=a`, or
/// empty), as the browser shows them.
#[derive(Clone, Copy)]
pub(crate) struct Location {
    pub(crate) path: ReadSignal<String>,
    pub(crate) search: ReadSignal<String>,
    set_path: WriteSignal<String>,
    set_search: WriteSignal<String>,
}

/// The address every screen reads; [`Location::start`] provides it.
pub(crate) fn location() -> Location {
    expect_context::<Location>()
}

fn window_address() -> (String, String) {
    let loc = web_sys::window().map(|w| w.location());
    let part = |f: fn(&web_sys::Location) -> Result<String, JsValue>| {
        loc.as_ref().and_then(|l| f(l).ok()).unwrap_or_default()
    };
    (
        part(web_sys::Location::pathname),
        part(web_sys::Location::search),
    )
}

impl Location {
    /// Reads the address and follows it from now on; provides it as context.
    /// Called after `dom::guard_leaving`, whose `popstate` listener must see
    /// a step back first, to stop it while there are unsaved edits.
    pub(crate) fn start() -> Location {
        let (path, search) = window_address();
        let (path, set_path) = signal(path);
        let (search, set_search) = signal(search);
        let loc = Location {
            path,
            search,
            set_path,
            set_search,
        };
        provide_context(loc);
        let Some(window) = web_sys::window() else {
            return loc;
        };
        // The browser has moved (and restores the scroll position itself).
        let step = Closure::<dyn Fn()>::new(move || {
            loc.sync();
        });
        let click = Closure::<dyn Fn(web_sys::MouseEvent)>::new(move |e: web_sys::MouseEvent| {
            loc.follow(&e);
        });
        let _ = window.add_event_listener_with_callback("popstate", step.as_ref().unchecked_ref());
        let _ = window.add_event_listener_with_callback("click", click.as_ref().unchecked_ref());
        // Both live as long as the page.
        step.forget();
        click.forget();
        loc
    }

    /// The query string's value for `key`, decoded; tracked.
    pub(crate) fn query(&self, key: &str) -> Option<String> {
        self.search.with(|s| routes::query_value(s, key))
    }

    /// Goes to `to` (a path, with its query string if any): a new step in
    /// the history, or in place of this one with `replace`. A new path shows
    /// from the top of the page; a new query string (the user list's
    /// filters) keeps the scroll.
    pub(crate) fn navigate(&self, to: &str, replace: bool) {
        if self.move_to(to, replace) == Some(true) {
            scroll_to(None);
        }
    }

    /// Puts `to` (a path or a whole address of this origin) in the address
    /// bar, in place of the current step when asked or when it is where the
    /// page is already. Some(whether the path changed), or None if the
    /// browser refused.
    fn move_to(&self, to: &str, replace: bool) -> Option<bool> {
        let window = web_sys::window()?;
        let history = window.history().ok()?;
        let (path, search) = window_address();
        let here = replace
            || to == format!("{path}{search}")
            || window.location().href().is_ok_and(|h| h == to);
        let moved = if here {
            history.replace_state_with_url(&JsValue::NULL, "", Some(to))
        } else {
            history.push_state_with_url(&JsValue::NULL, "", Some(to))
        };
        moved.ok()?;
        Some(self.sync())
    }

    /// Takes the address from the browser; signals change only when it
    /// did. True when the path changed.
    fn sync(&self) -> bool {
        let (path, search) = window_address();
        let new_path = path != self.path.get_untracked();
        if new_path {
            self.set_path.set(path);
        }
        if search != self.search.get_untracked() {
            self.set_search.set(search);
        }
        new_path
    }

    /// Follows a click on a link to another screen of the app here, instead
    /// of loading the page again, and shows it from the top (or from the
    /// element its `#id` names). Links elsewhere, marked `rel="external"`,
    /// or to a place on this page are the browser's. Leptos handles `on:`
    /// events on `window` too, after this listener: a link must not rely on
    /// an `on:click` to stop it.
    fn follow(&self, e: &web_sys::MouseEvent) {
        if e.default_prevented() {
            return;
        }
        let Some(link) = dom::followed_link(e) else {
            return;
        };
        let origin = web_sys::window().and_then(|w| w.location().origin().ok());
        let (path, search) = (link.pathname(), link.search());
        let on_this_page = !link.hash().is_empty()
            && path == self.path.get_untracked()
            && search == self.search.get_untracked();
        if Some(link.origin()) != origin
            || link.rel().split_ascii_whitespace().any(|r| r == "external")
            || on_this_page
        {
            return;
        }
        e.prevent_default();
        // The whole address: a path such as `//x` alone would name a host.
        if self.move_to(&link.href(), false).is_some() {
            scroll_to(Some(link.hash()));
        } else {
            let _ = web_sys::window().map(|w| w.location().set_href(&link.href()));
        }
    }
}

/// Scrolls to the element `#id` names, or to the top.
fn scroll_to(hash: Option<String>) {
    let target = hash
        .as_deref()
        .and_then(|h| h.strip_prefix('#'))
        .filter(|id| !id.is_empty())
        .map(routes::decode)
        .and_then(|id| web_sys::window()?.document()?.get_element_by_id(&id));
    match target {
        Some(el) => el.scroll_into_view(),
        None => {
            if let Some(w) = web_sys::window() {
                w.scroll_to_with_x_and_y(0.0, 0.0);
            }
        }
    }
}
