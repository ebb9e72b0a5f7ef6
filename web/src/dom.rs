//! The few direct uses of the browser's DOM: the document title, focus after
//! the view has updated, the native confirm, the theme on `<html>`, the
//! clipboard and `data:` addresses.

use leptos::task::spawn_local;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys;

fn document() -> Option<web_sys::Document> {
    web_sys::window()?.document()
}

/// Sets the document title: `Profile · Users`.
pub(crate) fn set_title(screen: &str) {
    if let Some(d) = document() {
        d.set_title(&format!("{screen} · Users"));
    }
}

/// Focuses the first element matching one of `selectors`, in order, once the
/// view has caught up with the signals just set.
pub(crate) fn focus_later(selectors: Vec<String>) {
    spawn_local(async move {
        gloo_timers::future::TimeoutFuture::new(0).await;
        focus_now(&selectors);
    });
}

/// Focuses the first element matching one of `selectors`; true if one did.
pub(crate) fn focus_now(selectors: &[String]) -> bool {
    let Some(d) = document() else { return false };
    for sel in selectors {
        if let Some(el) = d
            .query_selector(sel)
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
            return true;
        }
    }
    false
}

/// The element that has focus, to give it back later.
pub(crate) fn active_element() -> Option<web_sys::HtmlElement> {
    document()?
        .active_element()?
        .dyn_into::<web_sys::HtmlElement>()
        .ok()
}

/// The page's address.
pub(crate) fn current_address() -> Option<String> {
    web_sys::window()?.location().href().ok()
}

/// Leaves the app for `address` (another site's page).
pub(crate) fn go_to(address: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(address);
    }
}

/// Loads the page again from the server: the newest build of the app.
pub(crate) fn reload() {
    if let Some(w) = web_sys::window() {
        let _ = w.location().reload();
    }
}

/// The browser's own yes/no question; true for yes.
pub(crate) fn confirm(question: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(question).ok())
        .unwrap_or(true)
}

/// Sets `data-theme` on `<html>`, or removes it to follow the system.
pub(crate) fn set_theme_attr(theme: Option<&str>) {
    let Some(root) = document().and_then(|d| d.document_element()) else {
        return;
    };
    let _ = match theme {
        Some(t) => root.set_attribute("data-theme", t),
        None => root.remove_attribute("data-theme"),
    };
}

fn dark_query() -> Option<web_sys::MediaQueryList> {
    web_sys::window()?
        .match_media("(prefers-color-scheme: dark)")
        .ok()
        .flatten()
}

/// Whether the system asks for dark colours.
pub(crate) fn system_prefers_dark() -> bool {
    dark_query().is_some_and(|m| m.matches())
}

/// Calls `changed` with the system's new answer whenever it changes.
pub(crate) fn watch_system_dark(changed: impl Fn(bool) + 'static) {
    use leptos::wasm_bindgen::closure::Closure;
    let Some(query) = dark_query() else { return };
    let watched = query.clone();
    let listener = Closure::<dyn Fn()>::new(move || changed(watched.matches()));
    let _ = query.add_event_listener_with_callback("change", listener.as_ref().unchecked_ref());
    // Lives as long as the page.
    listener.forget();
}

/// Moves focus to the new screen's title, unless something inside `<main>`
/// has it already (an action put it on its outcome).
pub(crate) fn focus_new_screen() {
    spawn_local(async move {
        gloo_timers::future::TimeoutFuture::new(0).await;
        let inside_main = active_element()
            .and_then(|el| el.closest("main").ok().flatten())
            .is_some();
        if !inside_main {
            focus_now(&["main .page-title".to_owned()]);
        }
    });
}

/// Asks before leaving while `dirty()`: on closing or reloading the tab
/// (`beforeunload`), on following a link inside the app, and on Back or
/// Forward. Links are caught in the capture phase and history steps by a
/// listener added before the app's own ([`crate::nav`]), so both are seen
/// before the app moves; `left` runs when the user chooses to leave. `here` is the address of
/// the screen with the edits, to return to when Back is refused.
pub(crate) fn guard_leaving(
    dirty: impl Fn() -> bool + Clone + 'static,
    left: impl Fn() + Clone + 'static,
    here: impl Fn() -> Option<String> + 'static,
) {
    use leptos::wasm_bindgen::closure::Closure;
    const QUESTION: &str = "You have unsaved changes. Leave this page without saving them?";
    let Some(window) = web_sys::window() else {
        return;
    };
    let unload_dirty = dirty.clone();
    let unload = Closure::<dyn Fn(web_sys::Event)>::new(move |e: web_sys::Event| {
        if unload_dirty() {
            e.prevent_default();
            if let Ok(e) = e.dyn_into::<web_sys::BeforeUnloadEvent>() {
                e.set_return_value("unsaved");
            }
        }
    });
    let (click_dirty, click_left) = (dirty.clone(), left.clone());
    let click = Closure::<dyn Fn(web_sys::MouseEvent)>::new(move |e: web_sys::MouseEvent| {
        if !click_dirty() || !leaves_the_screen(&e) {
            return;
        }
        if confirm(QUESTION) {
            click_left();
        } else {
            e.prevent_default();
            e.stop_propagation();
        }
    });
    // The browser has moved already: refusing puts the screen's address back.
    let step = Closure::<dyn Fn(web_sys::Event)>::new(move |e: web_sys::Event| {
        if !dirty() {
            return;
        }
        if confirm(QUESTION) {
            left();
        } else if let (Some(url), Ok(history)) = (
            here(),
            web_sys::window().map_or(Err(()), |w| w.history().map_err(|_| ())),
        ) {
            e.stop_immediate_propagation();
            let _ =
                history.push_state_with_url(&leptos::wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    });
    let _ =
        window.add_event_listener_with_callback("beforeunload", unload.as_ref().unchecked_ref());
    let _ = window.add_event_listener_with_callback_and_bool(
        "click",
        click.as_ref().unchecked_ref(),
        true,
    );
    let _ = window.add_event_listener_with_callback("popstate", step.as_ref().unchecked_ref());
    // All three live as long as the page.
    unload.forget();
    click.forget();
    step.forget();
}

/// Whether a click follows a link to another screen in this tab: a plain
/// left click on a link to another address, not to a new tab or a download.
/// A link to a place on this screen (`#id`) does not leave it.
fn leaves_the_screen(e: &web_sys::MouseEvent) -> bool {
    let no_hash = |a: String| a.split('#').next().unwrap_or_default().to_owned();
    let here = web_sys::window().and_then(|w| w.location().href().ok());
    followed_link(e).is_some_and(|link| Some(no_hash(link.href())) != here.map(no_hash))
}

/// The link a click follows in this tab: a plain left click (no modifier
/// key) on a link that is not a download and opens in no other window.
pub(crate) fn followed_link(e: &web_sys::MouseEvent) -> Option<web_sys::HtmlAnchorElement> {
    if e.button() != 0 || e.ctrl_key() || e.meta_key() || e.shift_key() || e.alt_key() {
        return None;
    }
    let link = e
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|el| el.closest("a[href]").ok().flatten())?;
    let elsewhere = link.has_attribute("download")
        || link
            .get_attribute("target")
            .is_some_and(|t| !t.is_empty() && t != "_self");
    if elsewhere {
        return None;
    }
    link.dyn_into::<web_sys::HtmlAnchorElement>().ok()
}

/// Puts `text` on the clipboard, where the browser allows it (a secure
/// page, after a click). Through `Reflect`, so that no further web-sys
/// bindings are compiled in.
pub(crate) fn copy_text(text: &str) -> bool {
    use js_sys::{Function, Reflect};
    let call = || -> Option<()> {
        let window: leptos::wasm_bindgen::JsValue = web_sys::window()?.into();
        let nav = Reflect::get(&window, &"navigator".into()).ok()?;
        let clip = Reflect::get(&nav, &"clipboard".into()).ok()?;
        let write: Function = Reflect::get(&clip, &"writeText".into())
            .ok()?
            .dyn_into()
            .ok()?;
        write.call1(&clip, &text.into()).ok().map(drop)
    };
    call().is_some()
}

/// A `data:` address holding `text` of type `mime`, for an image or a download.
pub(crate) fn data_url(mime: &str, text: &str) -> String {
    format!(
        "data:{mime};charset=utf-8,{}",
        js_sys::encode_uri_component(text)
    )
}
