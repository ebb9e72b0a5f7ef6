//! Users as they cross the wire: roles, statuses, and the two views of an
//! account. The stored record, with its password material, lives in the
//! service only.

use crate::profile::Profile;
use crate::wire_enum::wire_enum;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

wire_enum! {
    /// What an account may do.
    #[derive(Default)]
    pub enum Role {
        /// Reads and changes only its own record.
        #[default]
        User = "user",
        /// Reads every record (admin view of list_users, get_user of others); changes none.
        Moderator = "moderator",
        /// Reads and changes every record, including roles and statuses.
        Admin = "admin",
    }
}

impl Role {
    /// Admins and moderators see the admin view of other users.
    pub fn can_read_all(self) -> bool {
        matches!(self, Role::Admin | Role::Moderator)
    }
}

wire_enum! {
    /// Whether an account may log in.
    #[derive(Default)]
    pub enum UserStatus {
        /// May log in.
        #[default]
        Active = "active",
        /// Disabled, for example by its owner's request; may not log in.
        Inactive = "inactive",
        /// Disabled by an admin; may not log in.
        Suspended = "suspended",
    }
}

/// A user as its owner, admins and moderators see it: every field except password material.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    /// Unique, case-insensitively.
    pub username: String,
    /// Unique, case-insensitively.
    pub email: String,
    /// The profile fields, flattened into the object.
    #[serde(flatten)]
    pub profile: Profile,
    /// What the account may do.
    pub role: Role,
    /// Whether it may log in.
    pub status: UserStatus,
    /// RFC 3339 time of creation.
    pub created_at: String,
    /// RFC 3339 time of the last change.
    pub updated_at: String,
    /// RFC 3339 time of the last successful login, if any.
    pub last_login: Option<String>,
    /// Free-form data, kept as the original did.
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// Two-factor login is on. Present only when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub two_factor: bool,
    /// The account has no password: it signs in and confirms changes with
    /// its passkeys. Present only when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub passwordless: bool,
}

/// A user as anyone may see it in list_users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicUser {
    /// Unique, case-insensitively.
    pub username: String,
    /// The profile's display name.
    pub full_name: String,
    /// What the account may do.
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ProfileField;
    use serde_json::json;

    #[test]
    fn a_view_reads_the_original_reply_shape() {
        let v: UserView = serde_json::from_value(json!({
            "username": "alice", "email": "alice@example.com",
            "full_name": "Alice Smith", "phone": "", "address": "", "city": "",
            "country": "", "postal_code": "", "date_of_birth": "",
            "role": "user", "status": "active",
            "created_at": "2024-01-01T00:00:00", "updated_at": "2024-01-01T00:00:00",
            "last_login": null, "notes": "", "metadata": {}
        }))
        .unwrap();
        assert_eq!(v.profile.get(ProfileField::FullName), "Alice Smith");
        assert_eq!(v.role, Role::User);
        let back = serde_json::to_value(&v).unwrap();
        assert!(back.get("password_hash").is_none());
        assert_eq!(back["full_name"], "Alice Smith");
    }

    #[test]
    fn roles_and_statuses_use_their_wire_names() {
        assert_eq!(
            serde_json::to_value(Role::Moderator).unwrap(),
            json!("moderator")
        );
        assert_eq!(
            serde_json::from_value::<UserStatus>(json!("suspended")).unwrap(),
            UserStatus::Suspended
        );
        assert!(serde_json::from_value::<Role>(json!("root")).is_err());
        assert_eq!(Role::ALL.len(), 3);
    }
}
