use super::*;
use crate::profile::{ProfileField, ProfilePatch};
use crate::user::UserStatus;
use serde_json::json;
use serde_json::Map;

fn parse(v: Value) -> RequestEnvelope {
    serde_json::from_value(v).unwrap()
}

#[test]
fn original_create_user_example() {
    let env = parse(json!({
        "action": "create_user",
        "user_data": {
            "username": "alice",
            "email": "alice@example.com",
            "password": "SecurePass123!",
            "full_name": "Alice Smith"
        }
    }));
    let Request::CreateUser { user_data, .. } = env.request else {
        panic!("wrong variant");
    };
    assert_eq!(user_data.username, "alice");
    assert_eq!(user_data.password.expose(), "SecurePass123!");
    assert_eq!(
        user_data.profile.get(ProfileField::FullName),
        Some("Alice Smith")
    );
}

#[test]
fn original_login_and_update_examples() {
    let env = parse(json!({"action": "login",
        "credentials": {"username": "alice", "password": "SecurePass123!"}}));
    assert_eq!(env.request.action(), Action::Login);
    let env = parse(json!({"action": "update_user", "session_token": "t",
        "update_data": {"current_password": "SecurePass123!", "password": "NewSecurePass456!"}}));
    let Request::UpdateUser { update_data, .. } = env.request else {
        panic!("wrong variant");
    };
    assert_eq!(update_data.password.unwrap().expose(), "NewSecurePass456!");
    let env = parse(json!({"action": "logout", "session_token": "t"}));
    assert_eq!(env.request.action(), Action::Logout);
}

/// Every request the original README shows, byte for byte as JSON: parsed
/// into the types and written back, it is the same JSON.
#[test]
fn the_original_readme_requests_round_trip_exactly() {
    let examples = [
        json!({"action": "create_user", "user_data": {"username": "alice",
            "email": "alice@example.com", "password": "SecurePass123!", "full_name": "Alice Smith"}}),
        json!({"action": "login", "credentials": {"username": "alice", "password": "SecurePass123!"}}),
        json!({"action": "update_user", "session_token": "abc..xyz",
            "update_data": {"username": "alice_updated"}}),
        json!({"action": "update_user", "session_token": "abc..xyz",
            "update_data": {"current_password": "SecurePass123!", "password": "NewSecurePass456!"}}),
        json!({"action": "logout", "session_token": "abc..xyz"}),
        json!({"action": "create_user", "user_data": {"username": "testuser",
            "email": "test@example.com", "password": "TestPass123"}}),
        json!({"action": "update_user", "session_token": "s",
            "update_data": {"email": "newemail@example.com"}}),
    ];
    for v in examples {
        let back = serde_json::to_value(parse(v.clone())).unwrap();
        assert_eq!(back, v);
    }
}

#[test]
fn request_id_round_trips_and_serializes_flat() {
    let env = RequestEnvelope {
        request_id: Some(json!(7)),
        request: Request::HealthCheck {},
    };
    let v = serde_json::to_value(&env).unwrap();
    assert_eq!(v, json!({"request_id": 7, "action": "health_check"}));
    assert_eq!(parse(v), env);
}

#[test]
fn list_users_takes_paging_and_filters() {
    let env = parse(json!({"action": "list_users", "limit": 10, "offset": 20,
        "search": "al", "role": "admin", "status": "active", "sort": "-created_at"}));
    let Request::ListUsers {
        session_token,
        query,
    } = env.request
    else {
        panic!("wrong variant");
    };
    assert!(session_token.is_none());
    assert_eq!(query.limit, Some(10));
    assert_eq!(query.role, Some(Role::Admin));
    assert_eq!(query.sort, Some(Sort::desc(SortKey::CreatedAt)));
    let bad = serde_json::from_value::<RequestEnvelope>(json!({"action": "list_users",
        "sort": "password_hash"}))
    .unwrap_err();
    assert!(
        bad.to_string().contains("Unknown sort 'password_hash'"),
        "{bad}"
    );
}

#[test]
fn unknown_user_data_field_is_refused_by_name() {
    let err = serde_json::from_value::<RequestEnvelope>(json!({"action": "create_user",
        "user_data": {"username": "a", "email": "e", "password": "p", "isadmin": true}}))
    .unwrap_err();
    assert!(err.to_string().contains("isadmin"), "{err}");
}

#[test]
fn debug_of_a_login_hides_the_password() {
    let env = parse(json!({"action": "login",
        "credentials": {"username": "alice", "password": "SecurePass123!"}}));
    let shown = format!("{env:?}");
    assert!(!shown.contains("SecurePass123!"), "{shown}");
}

#[test]
fn every_request_is_tagged_with_its_action_name() {
    let t = || Secret::from("t");
    let requests = [
        Request::CreateUser {
            user_data: NewUser::default(),
            session_token: None,
        },
        Request::Login {
            credentials: Credentials {
                username: "a".into(),
                password: t(),
                totp_code: None,
                recovery_code: None,
            },
        },
        Request::Logout { session_token: t() },
        Request::GetUser {
            session_token: t(),
            username: None,
        },
        Request::UpdateUser {
            passkey: PasskeyProof::default(),
            session_token: t(),
            update_data: UserUpdate::default(),
            username: None,
        },
        Request::DeleteUser {
            passkey: PasskeyProof::default(),
            session_token: t(),
            password: t(),
            username: None,
        },
        Request::ListUsers {
            session_token: None,
            query: ListQuery::default(),
        },
        Request::HealthCheck {},
        Request::ListSessions {
            session_token: t(),
            username: None,
        },
        Request::RevokeSession {
            passkey: PasskeyProof::default(),
            session_token: t(),
            session_id: None,
            all_others: true,
            username: None,
            all: false,
            everyone: false,
            current_password: None,
        },
        Request::SessionStatus { session_token: t() },
        Request::TotpSetup { session_token: t() },
        Request::TotpEnable {
            passkey: PasskeyProof::default(),
            session_token: t(),
            password: t(),
            code: t(),
        },
        Request::TotpDisable {
            passkey: PasskeyProof::default(),
            session_token: t(),
            password: t(),
            code: None,
            recovery_code: None,
            username: None,
        },
        Request::AuditLog {
            session_token: t(),
            query: crate::AuditQuery::default(),
        },
        Request::InviteCreate {
            passkey: PasskeyProof::default(),
            session_token: t(),
            current_password: t(),
            role: crate::Role::User,
            email: None,
            expires_in: None,
            note: None,
            link_prefix: None,
        },
        Request::InviteList { session_token: t() },
        Request::InviteRevoke {
            session_token: t(),
            invite_id: "i".into(),
        },
        Request::InviteAccept {
            passkey: PasskeyProof::default(),
            invite_token: t(),
            user_data: NewUser::default(),
        },
        Request::InvitePasskeyBegin {
            invite_token: t(),
            user_data: NewUser::default(),
        },
        Request::ResetLinkCreate {
            passkey: PasskeyProof::default(),
            session_token: t(),
            current_password: t(),
            username: "u".into(),
            expires_in: None,
            link_prefix: None,
        },
        Request::ResetRedeem {
            reset_token: t(),
            password: t(),
        },
        Request::PasskeyRegisterBegin {
            passkey: PasskeyProof::default(),
            session_token: t(),
            current_password: t(),
            name: None,
        },
        Request::PasskeyRegisterFinish {
            session_token: t(),
            ceremony_id: "c".into(),
            credential: Value::Null,
            name: None,
        },
        Request::PasskeyList {
            session_token: t(),
            username: None,
        },
        Request::PasskeyRename {
            session_token: t(),
            passkey_id: "p".into(),
            name: "n".into(),
        },
        Request::PasskeyDelete {
            passkey: PasskeyProof::default(),
            session_token: t(),
            passkey_id: "p".into(),
            password: None,
            username: None,
        },
        Request::PasskeyLoginBegin { username: None },
        Request::PasskeyLoginFinish {
            ceremony_id: "c".into(),
            credential: Value::Null,
        },
        Request::PasskeyConfirmBegin { session_token: t() },
        Request::ForwardTicket { session_token: t() },
        Request::ForwardVerify {
            ticket: t(),
            host: "wiki.example.lan".into(),
        },
        Request::ForwardLogout { ticket: t() },
    ];
    let tags: Vec<String> = requests
        .iter()
        .map(|r| {
            serde_json::to_value(r).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let named: Vec<&str> = requests.iter().map(|r| r.action().as_str()).collect();
    assert_eq!(tags, named);
    assert_eq!(named, Action::NAMES);
}

#[test]
fn every_field_of_update_data_is_accepted_even_null() {
    let mut all = Map::new();
    for f in UserUpdate::NAMED
        .into_iter()
        .chain(ProfileField::NAMES.iter().copied())
    {
        all.insert(f.into(), Value::Null);
    }
    let u = serde_json::from_value::<UserUpdate>(Value::Object(all)).unwrap();
    assert_eq!(u, UserUpdate::default());
}

#[test]
fn the_named_members_are_the_fields_of_the_types() {
    let keys = |v: Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let expected = |named: &[&str]| -> Vec<String> {
        let mut k: Vec<String> = named
            .iter()
            .chain(ProfileField::NAMES)
            .map(|s| s.to_string())
            .collect();
        k.sort();
        k
    };
    let full: ProfilePatch = ProfileField::ALL
        .iter()
        .map(|f| (*f, "x".to_owned()))
        .collect();
    let new_user = NewUser {
        username: "u".into(),
        email: "e".into(),
        password: Secret::from("p"),
        profile: full.clone(),
    };
    let json = serde_json::to_value(&new_user).unwrap();
    assert_eq!(keys(json.clone()), expected(&NewUser::NAMED));
    assert_eq!(serde_json::from_value::<NewUser>(json).unwrap(), new_user);
    let update = UserUpdate {
        username: Some("u".into()),
        email: Some("e".into()),
        password: Some(Secret::from("p")),
        current_password: Some(Secret::from("c")),
        role: Some(Role::User),
        status: Some(UserStatus::Active),
        metadata: Some(Map::new()),
        password_change_required: Some(true),
        profile: full,
    };
    let json = serde_json::to_value(&update).unwrap();
    assert_eq!(keys(json.clone()), expected(&UserUpdate::NAMED));
    assert_eq!(serde_json::from_value::<UserUpdate>(json).unwrap(), update);
    let mut named = UserUpdate::NAMED.to_vec();
    // Neither confirming nor qualifying a reset is a change of its own.
    named.retain(|n| !["current_password", "password_change_required"].contains(n));
    named.extend(ProfileField::NAMES);
    assert_eq!(update.changed_fields(), named);
    assert_eq!(
        NewUser::unknown_members(["email", "city", "isadmin"]),
        ["isadmin"]
    );
}

#[test]
fn unknown_members_of_update_data_are_all_named() {
    let e = serde_json::from_value::<UserUpdate>(json!({"city": "x", "isadmin": 1, "y": 2}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("isadmin") && e.contains('y'), "{e}");
}

#[test]
fn sort_orders_read_and_write_as_before() {
    for s in ["username", "-created_at", "last_login", "-role"] {
        let sort: Sort = s.parse().unwrap();
        assert_eq!(sort.to_string(), s);
    }
    assert!("-".parse::<Sort>().is_err());
}
