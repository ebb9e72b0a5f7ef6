//! The user record as stored, and the two views of it that cross the wire.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What an account may do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads and changes only its own record.
    #[default]
    User,
    /// Reads every record (admin view of list_users, get_user of others); changes none.
    Moderator,
    /// Reads and changes every record, including roles and statuses.
    Admin,
}

impl Role {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }

    /// Admins and moderators see the admin view of other users.
    pub fn can_read_all(self) -> bool {
        matches!(self, Role::Admin | Role::Moderator)
    }
}

/// Whether an account may log in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    /// May log in.
    #[default]
    Active,
    /// Disabled, for example by its owner's request; may not log in.
    Inactive,
    /// Disabled by an admin; may not log in.
    Suspended,
}

impl UserStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Inactive => "inactive",
            UserStatus::Suspended => "suspended",
        }
    }
}

/// The editable free-text profile fields, with the longest value each accepts.
pub const PROFILE_FIELDS: [(&str, usize); 8] = [
    ("full_name", 100),
    ("phone", 32),
    ("address", 200),
    ("city", 100),
    ("country", 100),
    ("postal_code", 20),
    ("date_of_birth", 10),
    ("notes", 2000),
];

/// Profile fields shared by the stored record and the admin view.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Display name.
    #[serde(default)]
    pub full_name: String,
    /// Phone number, free text.
    #[serde(default)]
    pub phone: String,
    /// Street address.
    #[serde(default)]
    pub address: String,
    /// City.
    #[serde(default)]
    pub city: String,
    /// Country.
    #[serde(default)]
    pub country: String,
    /// Postal code.
    #[serde(default)]
    pub postal_code: String,
    /// `YYYY-MM-DD`, or empty.
    #[serde(default)]
    pub date_of_birth: String,
    /// Free notes.
    #[serde(default)]
    pub notes: String,
}

impl Profile {
    /// The field named `name` (one of [`PROFILE_FIELDS`]).
    pub fn field_mut(&mut self, name: &str) -> Option<&mut String> {
        Some(match name {
            "full_name" => &mut self.full_name,
            "phone" => &mut self.phone,
            "address" => &mut self.address,
            "city" => &mut self.city,
            "country" => &mut self.country,
            "postal_code" => &mut self.postal_code,
            "date_of_birth" => &mut self.date_of_birth,
            "notes" => &mut self.notes,
            _ => return None,
        })
    }
}

/// A user as stored in the encrypted file: the original service's structure, plus
/// `password_iterations` (absent in the original's files, where it was 100,000).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Unique, case-insensitively.
    pub username: String,
    /// Unique, case-insensitively.
    pub email: String,
    /// Hex PBKDF2-HMAC-SHA256 output.
    pub password_hash: String,
    /// Hex salt.
    pub password_salt: String,
    /// PBKDF2 iteration count of `password_hash`.
    #[serde(default = "legacy_iterations")]
    pub password_iterations: u32,
    /// Profile fields.
    #[serde(flatten)]
    pub profile: Profile,
    /// Role.
    #[serde(default)]
    pub role: Role,
    /// Status.
    #[serde(default)]
    pub status: UserStatus,
    /// RFC 3339 time of creation.
    pub created_at: String,
    /// RFC 3339 time of the last change.
    pub updated_at: String,
    /// RFC 3339 time of the last successful login, if any.
    #[serde(default)]
    pub last_login: Option<String>,
    /// Free-form data, kept as the original did.
    #[serde(default)]
    pub metadata: Map<String, Value>,
}

/// The iteration count the original service used, for records that do not say.
pub const LEGACY_ITERATIONS: u32 = 100_000;

fn legacy_iterations() -> u32 {
    LEGACY_ITERATIONS
}

/// A user as its owner, admins and moderators see it: every field except password material.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    /// Username.
    pub username: String,
    /// Email.
    pub email: String,
    /// Profile fields.
    #[serde(flatten)]
    pub profile: Profile,
    /// Role.
    pub role: Role,
    /// Status.
    pub status: UserStatus,
    /// RFC 3339 time of creation.
    pub created_at: String,
    /// RFC 3339 time of the last change.
    pub updated_at: String,
    /// RFC 3339 time of the last successful login, if any.
    pub last_login: Option<String>,
    /// Free-form data.
    #[serde(default)]
    pub metadata: Map<String, Value>,
}

/// A user as anyone may see it in list_users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicUser {
    /// Username.
    pub username: String,
    /// Display name.
    pub full_name: String,
    /// Role.
    pub role: Role,
}

impl From<&UserRecord> for UserView {
    fn from(r: &UserRecord) -> Self {
        UserView {
            username: r.username.clone(),
            email: r.email.clone(),
            profile: r.profile.clone(),
            role: r.role,
            status: r.status,
            created_at: r.created_at.clone(),
            updated_at: r.updated_at.clone(),
            last_login: r.last_login.clone(),
            metadata: r.metadata.clone(),
        }
    }
}

impl From<&UserRecord> for PublicUser {
    fn from(r: &UserRecord) -> Self {
        PublicUser {
            username: r.username.clone(),
            full_name: r.profile.full_name.clone(),
            role: r.role,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn original_record() -> Value {
        json!({
            "username": "alice", "email": "alice@example.com",
            "password_hash": "ab", "password_salt": "cd",
            "full_name": "Alice Smith", "phone": "", "address": "", "city": "",
            "country": "", "postal_code": "", "date_of_birth": "",
            "role": "user", "status": "active",
            "created_at": "2024-01-01T00:00:00", "updated_at": "2024-01-01T00:00:00",
            "last_login": null, "notes": "", "metadata": {}
        })
    }

    #[test]
    fn reads_an_original_record_as_100k_iterations() {
        let r: UserRecord = serde_json::from_value(original_record()).unwrap();
        assert_eq!(r.password_iterations, LEGACY_ITERATIONS);
        assert_eq!(r.profile.full_name, "Alice Smith");
        assert_eq!(r.role, Role::User);
    }

    #[test]
    fn views_carry_no_password_material() {
        let r: UserRecord = serde_json::from_value(original_record()).unwrap();
        let admin = serde_json::to_value(UserView::from(&r)).unwrap();
        assert!(admin.get("password_hash").is_none());
        assert!(admin.get("password_salt").is_none());
        assert_eq!(admin["email"], "alice@example.com");
        let public = serde_json::to_value(PublicUser::from(&r)).unwrap();
        assert_eq!(
            public,
            json!({"username": "alice", "full_name": "Alice Smith", "role": "user"})
        );
    }
}
