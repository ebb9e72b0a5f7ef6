//! Passkeys over ZeroMQ and the bridge's WebSocket, with kanidm's software
//! authenticator: adding, listing, renaming and removing them, signing in
//! with one (two-factor login on or not), and each refusal: a wrong
//! origin, a wrong RP id, a replayed ceremony, a signature by another key,
//! an assertion without user verification, a suspended account.
//!
//! The software authenticator keeps no discoverable credentials: a test
//! names the credential to it (`allowCredentials`) and puts the account's
//! user handle in its answer, as a discoverable authenticator would. The
//! handle is not signed; the service finds the passkey by it and checks the
//! signature with that passkey's key.

use serde_json::{json, Value};
use url::Url;
use users_tests::{ServiceProcess, Zmq, ADMIN_PASSWORD};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs_proto::{
    AllowCredentials, CreationChallengeResponse, PublicKeyCredential, RequestChallengeResponse,
    UserVerificationPolicy,
};

const ORIGIN: &str = "http://localhost:8765";

/// An authenticator, as a browser at `origin` uses it.
pub struct Device {
    token: SoftPasskey,
    origin: Url,
    /// The credential id and user handle of each passkey it made.
    made: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Device {
    pub fn new() -> Device {
        Device::at(ORIGIN)
    }

    pub fn at(origin: &str) -> Device {
        // "falsify_uv": it says the user was verified, as a platform
        // authenticator with a PIN or a fingerprint would.
        Device {
            token: SoftPasskey::new(true),
            origin: Url::parse(origin).unwrap(),
            made: vec![],
        }
    }

    /// The credential for passkey_register_finish, from passkey_register_begin's options.
    pub fn create(&mut self, options: &Value) -> Value {
        let mut options = options.clone();
        // Asked for a discoverable credential, which this one cannot keep.
        options["authenticatorSelection"]["residentKey"] = json!("discouraged");
        options["authenticatorSelection"]["requireResidentKey"] = json!(false);
        let handle = base64url(options["user"]["id"].as_str().unwrap());
        let ccr = CreationChallengeResponse {
            public_key: serde_json::from_value(options).unwrap(),
        };
        let cred = self
            .token
            .do_registration(self.origin.clone(), ccr)
            .expect("registration");
        self.made.push((cred.raw_id.clone(), handle));
        serde_json::to_value(cred).unwrap()
    }

    /// The credential for passkey_login_finish, from passkey_login_begin's
    /// options, signed with the passkey this device made `nth`.
    pub fn get(&mut self, options: &Value, nth: usize) -> Value {
        self.get_with(options, nth, |_| {})
    }

    /// [`Device::get`], with the options changed first.
    pub fn get_with(
        &mut self,
        options: &Value,
        nth: usize,
        change: impl FnOnce(&mut RequestChallengeResponse),
    ) -> Value {
        let (cred_id, handle) = self.made[nth].clone();
        let mut rcr = RequestChallengeResponse {
            public_key: serde_json::from_value(options.clone()).unwrap(),
            mediation: None,
        };
        rcr.public_key.allow_credentials = vec![AllowCredentials {
            type_: "public-key".into(),
            id: cred_id,
            transports: None,
        }];
        change(&mut rcr);
        let mut cred: PublicKeyCredential = self
            .token
            .do_authentication(self.origin.clone(), rcr)
            .expect("assertion");
        cred.response.user_handle = Some(handle);
        serde_json::to_value(cred).unwrap()
    }
}

fn base64url(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .unwrap()
}

/// Adds a passkey named `name` to `token`'s account with `device`.
pub fn add(c: &Zmq, (token, password): (&str, &str), device: &mut Device, name: &str) -> Value {
    let begin = c.call_ok(
        json!({"action": "passkey_register_begin", "session_token": token,
            "current_password": password, "name": name}),
    );
    let credential = device.create(&begin["options"]);
    c.call(
        json!({"action": "passkey_register_finish", "session_token": token,
        "ceremony_id": begin["ceremony_id"], "credential": credential}),
    )
    .unwrap()
}

/// Signs in with the `nth` passkey of `device`: the reply.
pub fn sign_in(c: &Zmq, device: &mut Device, nth: usize) -> Value {
    let begin = c.call_ok(json!({"action": "passkey_login_begin"}));
    let credential = device.get(&begin["options"], nth);
    c.call(
        json!({"action": "passkey_login_finish", "ceremony_id": begin["ceremony_id"],
        "credential": credential}),
    )
    .unwrap()
}

fn code(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("ok")
}

#[test]
fn a_passkey_is_added_listed_renamed_used_and_removed() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    s.register("paula", "Secret-pl-2026");
    let token = s.login("paula", "Secret-pl-2026");
    let mut laptop = Device::new();
    // A session alone adds no passkey: the password comes first.
    let begin = |password: &str| {
        c.call(
            json!({"action": "passkey_register_begin", "session_token": token,
            "current_password": password}),
        )
        .unwrap()
    };
    assert_eq!(code(&begin("not-hers-123")), "wrong_password");
    assert_eq!(code(&begin("")), "invalid_request");
    let begin = begin("Secret-pl-2026");
    let options = &begin["options"];
    assert_eq!(
        options["authenticatorSelection"]["residentKey"], "required",
        "{options}"
    );
    assert_eq!(
        options["authenticatorSelection"]["userVerification"],
        "required"
    );
    assert_eq!(options["rp"]["id"], "localhost");
    let added = add(&c, (&token, "Secret-pl-2026"), &mut laptop, "Laptop");
    assert_eq!(added["passkey"]["name"], "Laptop", "{added}");
    let list = c.call_ok(json!({"action": "passkey_list", "session_token": token}));
    assert_eq!(list["passkeys"].as_array().unwrap().len(), 1);
    let id = list["passkeys"][0]["id"].as_str().unwrap().to_owned();
    assert!(
        !list.to_string().contains("cred"),
        "no key material: {list}"
    );

    // Signing in answers as login does; the passkey's use is recorded.
    let signed = sign_in(&c, &mut laptop, 0);
    assert_eq!(code(&signed), "ok", "{signed}");
    assert_eq!(signed["user"]["username"], "paula");
    assert!(signed["expires_at"].is_string());
    let session = signed["session_token"].as_str().unwrap();
    c.call_ok(json!({"action": "get_user", "session_token": session}));
    let list = c.call_ok(json!({"action": "passkey_list", "session_token": token}));
    assert!(list["passkeys"][0]["last_used_at"].is_string(), "{list}");

    c.call_ok(json!({"action": "passkey_rename", "session_token": token, "passkey_id": id, "name": "Work laptop"}));
    let r = c.call(json!({"action": "passkey_rename", "session_token": token, "passkey_id": id, "name": ""})).unwrap();
    assert_eq!(
        (code(&r), r["field"].as_str()),
        ("invalid_request", Some("name"))
    );

    // Removing takes the password, or a passkey sign-in made just now.
    let r = c
        .call(json!({"action": "passkey_delete", "session_token": token, "passkey_id": id}))
        .unwrap();
    assert_eq!(code(&r), "invalid_request");
    let r = c
        .call(
            json!({"action": "passkey_delete", "session_token": token, "passkey_id": id,
        "password": "not-the-one-1"}),
        )
        .unwrap();
    assert_eq!(code(&r), "wrong_password");
    let begin = c.call_ok(json!({"action": "passkey_login_begin"}));
    let fresh = laptop.get(&begin["options"], 0);
    c.call_ok(
        json!({"action": "passkey_delete", "session_token": token, "passkey_id": id,
        "ceremony_id": begin["ceremony_id"], "credential": fresh}),
    );
    assert_eq!(
        c.call_ok(json!({"action": "passkey_list", "session_token": token}))["passkeys"],
        json!([])
    );
    assert_eq!(code(&sign_in(&c, &mut laptop, 0)), "invalid_credentials");

    crate::audit::assert_recorded(
        &c,
        &s.admin_token(),
        &["passkey_added", "passkey_login", "passkey_removed"],
    );
}

#[test]
fn every_forged_or_replayed_passkey_is_refused() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    s.register("quinn", "Secret-qn-2026");
    s.register("rosa", "Secret-rs-2026");
    let quinn = s.login("quinn", "Secret-qn-2026");
    let rosa = s.login("rosa", "Secret-rs-2026");

    // Made at another origin, or for another RP id: not added.
    let begin = c.call_ok(json!({"action": "passkey_register_begin", "session_token": quinn, "current_password": "Secret-qn-2026"}));
    let credential = Device::at("http://localhost:9999").create(&begin["options"]);
    let r = c
        .call(
            json!({"action": "passkey_register_finish", "session_token": quinn,
        "ceremony_id": begin["ceremony_id"], "credential": credential}),
        )
        .unwrap();
    assert_eq!(
        (code(&r), r["field"].as_str()),
        ("invalid_request", Some("credential")),
        "{r}"
    );
    let begin = c.call_ok(json!({"action": "passkey_register_begin", "session_token": quinn, "current_password": "Secret-qn-2026"}));
    let mut options = begin["options"].clone();
    options["rp"]["id"] = json!("example.com");
    let credential = Device::at("https://example.com").create(&options);
    let r = c
        .call(
            json!({"action": "passkey_register_finish", "session_token": quinn,
        "ceremony_id": begin["ceremony_id"], "credential": credential}),
        )
        .unwrap();
    assert_eq!(code(&r), "invalid_request", "{r}");
    // Another session cannot finish one's ceremony.
    let begin = c.call_ok(json!({"action": "passkey_register_begin", "session_token": quinn, "current_password": "Secret-qn-2026"}));
    let credential = Device::new().create(&begin["options"]);
    let r = c
        .call(
            json!({"action": "passkey_register_finish", "session_token": rosa,
        "ceremony_id": begin["ceremony_id"], "credential": credential}),
        )
        .unwrap();
    assert_eq!(
        (code(&r), r["field"].as_str()),
        ("invalid_request", Some("ceremony_id"))
    );

    let mut q = Device::new();
    let mut r_dev = Device::new();
    assert_eq!(
        code(&add(&c, (&quinn, "Secret-qn-2026"), &mut q, "Q")),
        "ok"
    );
    assert_eq!(
        code(&add(&c, (&rosa, "Secret-rs-2026"), &mut r_dev, "R")),
        "ok"
    );

    // A replayed sign-in: the same ceremony and assertion again.
    let begin = c.call_ok(json!({"action": "passkey_login_begin"}));
    let credential = q.get(&begin["options"], 0);
    let finish = json!({"action": "passkey_login_finish", "ceremony_id": begin["ceremony_id"], "credential": credential});
    assert_eq!(code(&c.call(finish.clone()).unwrap()), "ok");
    assert_eq!(code(&c.call(finish).unwrap()), "invalid_credentials");

    // Quinn's credential id and user handle with a signature by Rosa's key.
    let begin = c.call_ok(json!({"action": "passkey_login_begin"}));
    let theirs = r_dev.get(&begin["options"], 0);
    let mut forged = q.get(&begin["options"], 0);
    forged["response"]["signature"] = theirs["response"]["signature"].clone();
    let r = c.call(json!({"action": "passkey_login_finish", "ceremony_id": begin["ceremony_id"], "credential": forged})).unwrap();
    assert_eq!(code(&r), "invalid_credentials");

    // Without user verification: the authenticator is not asked for it,
    // and says it did none.
    let begin = c.call_ok(json!({"action": "passkey_login_begin"}));
    let unverified = q.get_with(&begin["options"], 0, |rcr| {
        rcr.public_key.user_verification = UserVerificationPolicy::Discouraged_DO_NOT_USE;
    });
    let r = c.call(json!({"action": "passkey_login_finish", "ceremony_id": begin["ceremony_id"], "credential": unverified})).unwrap();
    assert_eq!(code(&r), "invalid_credentials");
    // Still good with it.
    assert_eq!(code(&sign_in(&c, &mut q, 0)), "ok");

    // Signed at another origin.
    let begin = c.call_ok(json!({"action": "passkey_login_begin"}));
    let home = std::mem::replace(&mut q.origin, Url::parse("http://localhost:9999").unwrap());
    let elsewhere = q.get(&begin["options"], 0);
    q.origin = home;
    let r = c.call(json!({"action": "passkey_login_finish", "ceremony_id": begin["ceremony_id"], "credential": elsewhere})).unwrap();
    assert_eq!(code(&r), "invalid_credentials");

    // A made-up ceremony, and an expired one, are no ceremony.
    let r = c.call(json!({"action": "passkey_login_finish", "ceremony_id": "gAAAAA-made-up", "credential": {}})).unwrap();
    assert_eq!(code(&r), "invalid_credentials");
}

#[test]
fn a_passkey_is_two_factors_and_a_suspended_account_cannot_use_it() {
    let s = ServiceProcess::start_default();
    let c = s.client();
    let admin = s.admin_token();
    s.register("tomas", "Secret-tm-2026");
    let token = s.login("tomas", "Secret-tm-2026");
    let (secret, _, _) = crate::two_factor::enable(&c, &token, "Secret-tm-2026");
    // totp_enable ended the other sessions; this one signs in with a code.
    let fresh = c.call_ok(
        json!({"action": "login", "credentials": {"username": "tomas",
        "password": "Secret-tm-2026", "totp_code": crate::two_factor::code(&secret, 1)}}),
    );
    let fresh = fresh["session_token"].as_str().unwrap().to_owned();
    let mut device = Device::new();
    assert_eq!(
        code(&add(&c, (&fresh, "Secret-tm-2026"), &mut device, "Phone")),
        "ok"
    );
    let signed = sign_in(&c, &mut device, 0);
    assert_eq!(code(&signed), "ok", "no code asked for: {signed}");

    c.call_ok(
        json!({"action": "update_user", "session_token": admin, "username": "tomas",
        "update_data": {"status": "suspended", "current_password": ADMIN_PASSWORD}}),
    );
    assert_eq!(code(&sign_in(&c, &mut device, 0)), "invalid_credentials");
    // An admin removes another's passkey with the admin's own password.
    let list =
        c.call_ok(json!({"action": "passkey_list", "session_token": admin, "username": "tomas"}));
    let id = list["passkeys"][0]["id"].clone();
    c.call_ok(
        json!({"action": "passkey_delete", "session_token": admin, "username": "tomas",
        "passkey_id": id, "password": ADMIN_PASSWORD}),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn passkeys_through_the_bridge() {
    use users_tests::ws;
    let s = crate::bridge::service();
    let b = users_tests::BridgeProcess::start(&s.endpoint(), &[]);
    let mut c = crate::bridge::connect(&b).await;
    s.register("wanda", "Secret-wd-2026");
    let token = s.login("wanda", "Secret-wd-2026");
    let mut device = Device::new();
    let begin = ws::call(
        &mut c,
        json!({"action": "passkey_register_begin", "session_token": token,
            "current_password": "Secret-wd-2026"}),
    )
    .await;
    let credential = device.create(&begin["options"]);
    let added = ws::call(
        &mut c,
        json!({"action": "passkey_register_finish", "session_token": token,
        "ceremony_id": begin["ceremony_id"], "credential": credential, "name": "Tablet"}),
    )
    .await;
    assert_eq!(added["passkey"]["name"], "Tablet", "{added}");
    let begin = ws::call(&mut c, json!({"action": "passkey_login_begin"})).await;
    let credential = device.get(&begin["options"], 0);
    let finish = json!({"action": "passkey_login_finish", "ceremony_id": begin["ceremony_id"], "credential": credential});
    let signed = ws::call(&mut c, finish.clone()).await;
    assert_eq!(signed["user"]["username"], "wanda", "{signed}");
    let again = ws::call(&mut c, finish).await;
    assert_eq!(again["code"], "invalid_credentials");
}

#[test]
fn a_ceremony_begun_on_one_instance_finishes_on_another_once() {
    let pg = users_tests::PgCluster::start();
    let (a, b) = crate::cluster::pair(&pg, &[]);
    a.register("xena", "Secret-xn-2026");
    let token = a.login("xena", "Secret-xn-2026");
    let mut device = Device::new();
    let begin = a.client().call_ok(
        json!({"action": "passkey_register_begin", "session_token": token,
            "current_password": "Secret-xn-2026"}),
    );
    let credential = device.create(&begin["options"]);
    b.client().call_ok(
        json!({"action": "passkey_register_finish", "session_token": token,
        "ceremony_id": begin["ceremony_id"], "credential": credential}),
    );
    let begin = b.client().call_ok(json!({"action": "passkey_login_begin"}));
    let credential = device.get(&begin["options"], 0);
    let finish = json!({"action": "passkey_login_finish", "ceremony_id": begin["ceremony_id"], "credential": credential});
    assert_eq!(code(&a.client().call(finish.clone()).unwrap()), "ok");
    assert_eq!(
        code(&b.client().call(finish).unwrap()),
        "invalid_credentials"
    );
}

#[test]
fn a_passkey_added_on_one_instance_signs_in_on_another_at_once() {
    let pg = users_tests::PgCluster::start();
    let (a, b) = crate::cluster::pair(&pg, &[]);
    let (ca, cb) = (a.client(), b.client());
    let mut refused = vec![];
    for i in 0..40 {
        let name = format!("fresh{i}");
        a.register(&name, "Secret-zz-2026");
        let token = a.login(&name, "Secret-zz-2026");
        let mut device = Device::new();
        // The sign-in begun on b first, so that its finish goes straight
        // from a's reply to b, which may not have followed it yet.
        let begun = cb.call_ok(json!({"action": "passkey_login_begin"}));
        let added = add(&ca, (&token, "Secret-zz-2026"), &mut device, "Key");
        assert_eq!(code(&added), "ok", "{added}");
        let credential = device.get(&begun["options"], 0);
        let signed = cb
            .call(json!({"action": "passkey_login_finish",
                "ceremony_id": begun["ceremony_id"], "credential": credential}))
            .unwrap();
        if code(&signed) != "ok" {
            refused.push(format!("{name}: {signed}"));
        }
    }
    assert!(refused.is_empty(), "{refused:?}");
}
