//! The sign-in cookie that other apps behind the same reverse proxy see
//! (forward authentication): set after sign-in with `POST /auth/session`,
//! cleared on sign-out with `POST /auth/logout`, each with the session as
//! `Authorization: Bearer`. Plain `fetch` calls to the bridge that served
//! the page; where none answers them (`trunk serve`), sign-in goes on
//! without the cookie.

use super::calls::AuthorizedApi;
use js_sys::{Function, Object, Promise, Reflect};
use leptos::wasm_bindgen::{JsCast, JsValue};
use std::future::Future;
use wasm_bindgen_futures::JsFuture;

/// `POST path` with the session; the response, if one came.
async fn post(path: &str, token: &str) -> Option<JsValue> {
    let window: JsValue = web_sys::window()?.into();
    let headers = Object::new();
    Reflect::set(
        &headers,
        &"Authorization".into(),
        &format!("Bearer {token}").into(),
    )
    .ok()?;
    let init = Object::new();
    Reflect::set(&init, &"method".into(), &"POST".into()).ok()?;
    Reflect::set(&init, &"headers".into(), &headers).ok()?;
    Reflect::set(&init, &"credentials".into(), &"same-origin".into()).ok()?;
    let fetch: Function = Reflect::get(&window, &"fetch".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let promise: Promise = fetch
        .call2(&window, &path.into(), &init)
        .ok()?
        .dyn_into()
        .ok()?;
    JsFuture::from(promise).await.ok()
}

/// A query value, escaped (`encodeURIComponent`).
fn escaped(value: &str) -> String {
    js_sys::encode_uri_component(value).into()
}

impl AuthorizedApi {
    /// Sets the sign-in cookie; with `rd`, the address to go back to, if the
    /// bridge says sign-in may return there (a protected app's).
    pub(crate) fn set_sign_in_cookie(
        &self,
        rd: Option<String>,
    ) -> impl Future<Output = Option<String>> {
        let token = self.token.expose().to_owned();
        async move {
            let path = match &rd {
                Some(rd) => format!("/auth/session?rd={}", escaped(rd)),
                None => "/auth/session".to_owned(),
            };
            let response = post(&path, &token).await?;
            let status = Reflect::get(&response, &"status".into()).ok()?.as_f64()?;
            if status != 200.0 {
                return None;
            }
            let json: Function = Reflect::get(&response, &"json".into())
                .ok()?
                .dyn_into()
                .ok()?;
            let promise: Promise = json.call0(&response).ok()?.dyn_into().ok()?;
            let body = JsFuture::from(promise).await.ok()?;
            Reflect::get(&body, &"redirect".into()).ok()?.as_string()
        }
    }

    /// Clears the sign-in cookie (and ends the session, if it still runs).
    pub(crate) fn clear_sign_in_cookie(&self) -> impl Future<Output = ()> {
        let token = self.token.expose().to_owned();
        async move {
            post("/auth/logout", &token).await;
        }
    }
}
