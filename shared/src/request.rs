//! Requests: one JSON object each, tagged by `action`.

use crate::profile::{ProfileField, ProfilePatch};
use crate::secret::Secret;
use crate::user::{Role, UserStatus};
use crate::wire_enum::wire_enum;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A request with its optional `request_id`, which the reply echoes unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestEnvelope {
    /// Any JSON value chosen by the client, echoed in the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Value>,
    /// The request itself.
    #[serde(flatten)]
    pub request: Request,
}

/// Every action of the protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Request {
    /// Register an account. Reply: [`crate::UserCreated`].
    CreateUser {
        /// The new account.
        user_data: NewUser,
    },
    /// Log in by username or email. Reply: [`crate::LoginReply`].
    Login {
        /// Who and the password.
        credentials: Credentials,
    },
    /// End the session. Reply: status and message only.
    Logout {
        /// The session to end.
        session_token: Secret,
    },
    /// Read one's own record, or (admins and moderators) another's. Reply: [`crate::UserReply`].
    GetUser {
        /// The caller's session.
        session_token: Secret,
        /// Another user to read; admins and moderators only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
    },
    /// Change one's own record, or (admins) another's. Reply: [`crate::UserReply`].
    UpdateUser {
        /// The caller's session.
        session_token: Secret,
        /// The fields to change.
        update_data: UserUpdate,
        /// Another user to change; admins only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
    },
    /// Delete one's own account, or (admins) another's. Reply: status and message only.
    DeleteUser {
        /// The caller's session.
        session_token: Secret,
        /// The caller's own password, confirming the deletion.
        #[serde(alias = "confirm_password", alias = "current_password")]
        password: Secret,
        /// Another user to delete; admins only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
    },
    /// List users: the public view for anyone, the admin view for admins and
    /// moderators. Reply: [`crate::UserList`].
    ListUsers {
        /// Optional session; an admin's or moderator's gets the admin view.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_token: Option<Secret>,
        /// Paging, search, filters and order.
        #[serde(flatten)]
        query: ListQuery,
    },
    /// Service status. Reply: [`crate::Health`].
    HealthCheck {},
}

impl Request {
    /// Which action this is.
    pub fn action(&self) -> Action {
        match self {
            Request::CreateUser { .. } => Action::CreateUser,
            Request::Login { .. } => Action::Login,
            Request::Logout { .. } => Action::Logout,
            Request::GetUser { .. } => Action::GetUser,
            Request::UpdateUser { .. } => Action::UpdateUser,
            Request::DeleteUser { .. } => Action::DeleteUser,
            Request::ListUsers { .. } => Action::ListUsers,
            Request::HealthCheck {} => Action::HealthCheck,
        }
    }
}

wire_enum! {
    /// The `action` of a request: one per [`Request`] variant, by the same name.
    pub enum Action {
        #[allow(missing_docs)]
        CreateUser = "create_user",
        #[allow(missing_docs)]
        Login = "login",
        #[allow(missing_docs)]
        Logout = "logout",
        #[allow(missing_docs)]
        GetUser = "get_user",
        #[allow(missing_docs)]
        UpdateUser = "update_user",
        #[allow(missing_docs)]
        DeleteUser = "delete_user",
        #[allow(missing_docs)]
        ListUsers = "list_users",
        #[allow(missing_docs)]
        HealthCheck = "health_check",
    }
}

/// create_user's `user_data`. Members other than these and the profile fields
/// are refused, all named in the error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewUser {
    /// 3–32 letters, digits, `_`, `.` or `-`.
    pub username: String,
    /// A valid address.
    pub email: String,
    /// In clear over the wire; the service keeps only its hash.
    pub password: Secret,
    /// Optional profile fields.
    #[serde(flatten)]
    pub profile: ProfilePatch,
}

impl NewUser {
    /// The members `user_data` may have besides the profile fields.
    pub const NAMED: [&'static str; 3] = ["username", "email", "password"];

    /// The members of a `user_data` object that no new user has.
    pub fn unknown_members<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        unknown_members(keys, &Self::NAMED)
    }
}

fn unknown_members<'a>(keys: impl IntoIterator<Item = &'a str>, named: &[&str]) -> Vec<&'a str> {
    keys.into_iter()
        .filter(|k| !named.contains(k) && ProfileField::from_name(k).is_none())
        .collect()
}

/// login's `credentials`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    /// Username or email, either case-insensitive.
    #[serde(alias = "email")]
    pub username: String,
    /// In clear over the wire; the service keeps only its hash.
    pub password: Secret,
}

/// update_user's `update_data`: only the fields present change. Members other
/// than these and the profile fields are refused, all named in the error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserUpdate {
    /// New username; sessions stay valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// New email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// New password; needs `current_password` when changing one's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// The current password, confirming a password change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_password: Option<Secret>,
    /// New role; admins only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// New status; admins only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
    /// Replaces the free-form metadata object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// Profile fields to change.
    #[serde(flatten)]
    pub profile: ProfilePatch,
}

impl UserUpdate {
    /// The members `update_data` may have besides the profile fields.
    pub const NAMED: [&'static str; 7] = [
        "username",
        "email",
        "password",
        "current_password",
        "role",
        "status",
        "metadata",
    ];

    /// The members of an `update_data` object that no update has.
    pub fn unknown_members<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        unknown_members(keys, &Self::NAMED)
    }

    /// The members this update sets, by wire name, in [`Self::NAMED`] order and
    /// then the profile fields'. `current_password` only confirms, so it is not
    /// among them.
    pub fn changed_fields(&self) -> Vec<&'static str> {
        let set = [
            self.username.is_some(),
            self.email.is_some(),
            self.password.is_some(),
            false,
            self.role.is_some(),
            self.status.is_some(),
            self.metadata.is_some(),
        ];
        Self::NAMED
            .iter()
            .zip(set)
            .filter_map(|(name, set)| set.then_some(*name))
            .chain(self.profile.iter().map(|(f, _)| f.as_str()))
            .collect()
    }
}

wire_enum! {
    /// A field list_users can order by.
    #[derive(Default)]
    pub enum SortKey {
        /// Case-insensitive.
        #[default]
        Username = "username",
        /// Case-insensitive.
        Email = "email",
        /// Case-insensitive.
        FullName = "full_name",
        /// Creation time.
        CreatedAt = "created_at",
        /// Last login; never-logged-in first.
        LastLogin = "last_login",
        /// By role name.
        Role = "role",
    }
}

/// A list_users order: a [`SortKey`], written `-key` for descending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Sort {
    /// The field.
    pub key: SortKey,
    /// Largest first.
    pub descending: bool,
}

impl Sort {
    /// Ascending by `key`.
    pub fn asc(key: SortKey) -> Self {
        Sort {
            key,
            descending: false,
        }
    }

    /// Descending by `key`.
    pub fn desc(key: SortKey) -> Self {
        Sort {
            key,
            descending: true,
        }
    }
}

impl std::fmt::Display for Sort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.descending {
            f.write_str("-")?;
        }
        f.write_str(self.key.as_str())
    }
}

impl std::str::FromStr for Sort {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (descending, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let key = SortKey::from_name(name).ok_or_else(|| {
            format!(
                "Unknown sort '{s}'; use one of {} (prefix '-' for descending)",
                SortKey::NAMES.join(", ")
            )
        })?;
        Ok(Sort { key, descending })
    }
}

impl Serialize for Sort {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Sort {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// list_users' optional parameters. Without any, every user is listed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListQuery {
    /// Page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Users to skip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<usize>,
    /// Case-insensitive text in the username, full name or (admin view) email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// Only this role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Only this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
    /// The order; by username when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<Sort>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        let Request::CreateUser { user_data } = env.request else {
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
            },
            Request::Login {
                credentials: Credentials {
                    username: "a".into(),
                    password: t(),
                },
            },
            Request::Logout { session_token: t() },
            Request::GetUser {
                session_token: t(),
                username: None,
            },
            Request::UpdateUser {
                session_token: t(),
                update_data: UserUpdate::default(),
                username: None,
            },
            Request::DeleteUser {
                session_token: t(),
                password: t(),
                username: None,
            },
            Request::ListUsers {
                session_token: None,
                query: ListQuery::default(),
            },
            Request::HealthCheck {},
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
            profile: full,
        };
        let json = serde_json::to_value(&update).unwrap();
        assert_eq!(keys(json.clone()), expected(&UserUpdate::NAMED));
        assert_eq!(serde_json::from_value::<UserUpdate>(json).unwrap(), update);
        let mut named = UserUpdate::NAMED.to_vec();
        named.retain(|n| *n != "current_password");
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
}
