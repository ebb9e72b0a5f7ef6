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

    /// The session the request is made with, if it names one.
    pub fn session_token(&self) -> Option<&Secret> {
        match self {
            Request::Logout { session_token }
            | Request::GetUser { session_token, .. }
            | Request::UpdateUser { session_token, .. }
            | Request::DeleteUser { session_token, .. } => Some(session_token),
            Request::ListUsers { session_token, .. } => session_token.as_ref(),
            Request::CreateUser { .. } | Request::Login { .. } | Request::HealthCheck {} => None,
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
#[path = "request_tests.rs"]
mod tests;
