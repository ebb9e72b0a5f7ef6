//! Requests: one JSON object each, tagged by `action`.

use crate::secret::Secret;
use crate::user::{Role, UserStatus};
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
    /// The wire name of the action.
    pub fn action(&self) -> &'static str {
        match self {
            Request::CreateUser { .. } => "create_user",
            Request::Login { .. } => "login",
            Request::Logout { .. } => "logout",
            Request::GetUser { .. } => "get_user",
            Request::UpdateUser { .. } => "update_user",
            Request::DeleteUser { .. } => "delete_user",
            Request::ListUsers { .. } => "list_users",
            Request::HealthCheck {} => "health_check",
        }
    }
}

/// Every action name, in protocol order.
pub const ACTIONS: [&str; 8] = [
    "create_user",
    "login",
    "logout",
    "get_user",
    "update_user",
    "delete_user",
    "list_users",
    "health_check",
];

/// The fields create_user accepts in `user_data`.
pub const NEW_USER_FIELDS: [&str; 11] = [
    "username",
    "email",
    "password",
    "full_name",
    "phone",
    "address",
    "city",
    "country",
    "postal_code",
    "date_of_birth",
    "notes",
];

/// The fields update_user accepts in `update_data`.
pub const UPDATE_FIELDS: [&str; 15] = [
    "username",
    "email",
    "password",
    "current_password",
    "full_name",
    "phone",
    "address",
    "city",
    "country",
    "postal_code",
    "date_of_birth",
    "notes",
    "role",
    "status",
    "metadata",
];

/// create_user's `user_data`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 3–32 letters, digits, `_`, `.` or `-`.
    pub username: String,
    /// A valid address.
    pub email: String,
    /// The password.
    pub password: Secret,
    /// Optional profile fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub date_of_birth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub notes: Option<String>,
}

impl NewUser {
    /// The optional profile fields, by wire name, that were given.
    pub fn profile_fields(&self) -> Vec<(&'static str, &str)> {
        profile_pairs([
            ("full_name", &self.full_name),
            ("phone", &self.phone),
            ("address", &self.address),
            ("city", &self.city),
            ("country", &self.country),
            ("postal_code", &self.postal_code),
            ("date_of_birth", &self.date_of_birth),
            ("notes", &self.notes),
        ])
    }
}

fn profile_pairs<'a, const N: usize>(
    fields: [(&'static str, &'a Option<String>); N],
) -> Vec<(&'static str, &'a str)> {
    fields
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
}

/// login's `credentials`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    /// Username or email, either case-insensitive.
    #[serde(alias = "email")]
    pub username: String,
    /// The password.
    pub password: Secret,
}

/// update_user's `update_data`: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub full_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub date_of_birth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub notes: Option<String>,
    /// New role; admins only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// New status; admins only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
    /// Replaces the free-form metadata object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

impl UserUpdate {
    /// The profile fields, by wire name, that are to change.
    pub fn profile_fields(&self) -> Vec<(&'static str, &str)> {
        profile_pairs([
            ("full_name", &self.full_name),
            ("phone", &self.phone),
            ("address", &self.address),
            ("city", &self.city),
            ("country", &self.country),
            ("postal_code", &self.postal_code),
            ("date_of_birth", &self.date_of_birth),
            ("notes", &self.notes),
        ])
    }
}

/// The order keys list_users accepts in `sort`; a leading `-` reverses.
pub const SORT_KEYS: [&str; 6] = [
    "username",
    "email",
    "full_name",
    "created_at",
    "last_login",
    "role",
];

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
    /// One of [`SORT_KEYS`], optionally prefixed by `-` for descending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
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
        assert_eq!(user_data.full_name.as_deref(), Some("Alice Smith"));
    }

    #[test]
    fn original_login_and_update_examples() {
        let env = parse(json!({"action": "login",
            "credentials": {"username": "alice", "password": "SecurePass123!"}}));
        assert_eq!(env.request.action(), "login");
        let env = parse(json!({"action": "update_user", "session_token": "t",
            "update_data": {"current_password": "SecurePass123!", "password": "NewSecurePass456!"}}));
        let Request::UpdateUser { update_data, .. } = env.request else {
            panic!("wrong variant");
        };
        assert_eq!(update_data.password.unwrap().expose(), "NewSecurePass456!");
        let env = parse(json!({"action": "logout", "session_token": "t"}));
        assert_eq!(env.request.action(), "logout");
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
        assert_eq!(query.sort.as_deref(), Some("-created_at"));
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
    fn field_lists_match_the_types() {
        let mut all = Map::new();
        for f in UPDATE_FIELDS {
            all.insert(f.into(), Value::Null);
        }
        assert!(serde_json::from_value::<UserUpdate>(Value::Object(all)).is_ok());
        let mut m = Map::new();
        for f in NEW_USER_FIELDS {
            m.insert(f.into(), json!("x"));
        }
        assert!(serde_json::from_value::<NewUser>(Value::Object(m)).is_ok());
    }
}
