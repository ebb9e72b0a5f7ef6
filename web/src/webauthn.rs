//! Passkeys in the browser: `navigator.credentials` with WebAuthn's JSON
//! forms (`parseCreationOptionsFromJSON`, `parseRequestOptionsFromJSON`,
//! `toJSON`), so the options the service sends and the credential it takes
//! pass through as they are, and nothing of the ceremony is encoded here.

use js_sys::{Function, Object, Promise, Reflect, JSON};
use leptos::wasm_bindgen::{JsCast, JsValue};
use serde_json::Value;
use web_sys::AbortSignal;

/// Why this page cannot use passkeys, if it cannot: for the page to say,
/// rather than offer a button that fails.
pub(crate) fn unavailable() -> Option<&'static str> {
    let window = web_sys::window()?;
    if !window.is_secure_context() {
        return Some(
            "Passkeys need a secure page: this one is not served over HTTPS. Open the site by \
             its https:// address (or on this computer, at http://localhost).",
        );
    }
    let has = |o: &JsValue, name: &str| Reflect::has(o, &name.into()).unwrap_or(false);
    let pkc = Reflect::get(&window, &"PublicKeyCredential".into()).unwrap_or_default();
    let parsers = [
        "parseRequestOptionsFromJSON",
        "parseCreationOptionsFromJSON",
    ];
    if pkc.is_undefined() || !parsers.iter().all(|p| has(&pkc, p)) {
        return Some(
            "This browser cannot use passkeys here. A recent Chrome, Edge, Firefox or Safari can.",
        );
    }
    None
}

/// Whether the browser offers passkeys in a field's autofill (conditional
/// mediation, with `autocomplete="username webauthn"` on the field).
pub(crate) async fn autofill_available() -> bool {
    if unavailable().is_some() {
        return false;
    }
    let asked = (|| {
        let window: JsValue = web_sys::window()?.into();
        let pkc = Reflect::get(&window, &"PublicKeyCredential".into()).ok()?;
        let check = Reflect::get(&pkc, &"isConditionalMediationAvailable".into()).ok()?;
        let check: Function = check.dyn_into().ok()?;
        check.call0(&pkc).ok()?.dyn_into::<Promise>().ok()
    })();
    match asked {
        Some(promise) => wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .is_ok_and(|v| v.is_truthy()),
        None => false,
    }
}

/// Runs `navigator.credentials.create` (`make`) or `.get` with `options`;
/// the credential's `toJSON()`. With `autofill`, a `.get` that waits for the
/// user to pick a passkey in a field's autofill, until the signal aborts it.
async fn ceremony(
    make: bool,
    options: &Value,
    autofill: Option<&AbortSignal>,
) -> Result<Value, String> {
    let failed = |e: JsValue| describe(&e);
    let window: JsValue = web_sys::window().ok_or("no window")?.into();
    let pkc = Reflect::get(&window, &"PublicKeyCredential".into()).map_err(failed)?;
    let parse = if make {
        "parseCreationOptionsFromJSON"
    } else {
        "parseRequestOptionsFromJSON"
    };
    let parse: Function = Reflect::get(&pkc, &parse.into())
        .map_err(failed)?
        .unchecked_into();
    let json = JSON::parse(&options.to_string()).map_err(failed)?;
    let public_key = parse.call1(&pkc, &json).map_err(failed)?;
    let arg = Object::new();
    Reflect::set(&arg, &"publicKey".into(), &public_key).map_err(failed)?;
    if let Some(signal) = autofill {
        Reflect::set(&arg, &"mediation".into(), &"conditional".into()).map_err(failed)?;
        Reflect::set(&arg, &"signal".into(), signal).map_err(failed)?;
    }
    let navigator = Reflect::get(&window, &"navigator".into()).map_err(failed)?;
    let credentials = Reflect::get(&navigator, &"credentials".into()).map_err(failed)?;
    let method = if make { "create" } else { "get" };
    let method: Function = Reflect::get(&credentials, &method.into())
        .map_err(failed)?
        .unchecked_into();
    let promise: Promise = method
        .call1(&credentials, &arg)
        .map_err(failed)?
        .unchecked_into();
    let credential = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(failed)?;
    let to_json: Function = Reflect::get(&credential, &"toJSON".into())
        .map_err(failed)?
        .unchecked_into();
    let json = to_json.call0(&credential).map_err(failed)?;
    let text: String = JSON::stringify(&json).map_err(failed)?.into();
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// A new passkey: the credential for passkey_register_finish.
pub(crate) async fn create(options: &Value) -> Result<Value, String> {
    ceremony(true, options, None).await
}

/// A passkey's signature: the credential for passkey_login_finish; from
/// the browser's own dialog, or with `autofill` from a field's autofill.
pub(crate) async fn get(options: &Value, autofill: Option<&AbortSignal>) -> Result<Value, String> {
    ceremony(false, options, autofill).await
}

/// What a failed ceremony says to people.
fn describe(e: &JsValue) -> String {
    let name = Reflect::get(e, &"name".into())
        .ok()
        .and_then(|n| n.as_string());
    match name.as_deref() {
        Some("NotAllowedError") => "Cancelled, or no passkey was chosen in time.".into(),
        Some("InvalidStateError") => "This device has a passkey for your account already.".into(),
        Some("SecurityError") => {
            "Passkeys are set up for another address of this site: open it by its usual name."
                .into()
        }
        _ => "The passkey did not work here.".into(),
    }
}
