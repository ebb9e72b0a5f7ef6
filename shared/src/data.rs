//! What requests carry inside them: create_user's and invite_accept's
//! `user_data`, login's `credentials`, update_user's `update_data`, each with
//! the members it may have.

use crate::profile::{ProfileField, ProfilePatch};
use crate::secret::Secret;
use crate::user::{Role, UserStatus};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// create_user's `user_data`. Members other than these and the profile fields
/// are refused, all named in the error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewUser {
    /// 3–32 letters, digits, `_`, `.` or `-`.
    pub username: String,
    /// A valid address.
    pub email: String,
    /// In clear over the wire; the service keeps only its hash. Left out,
    /// it is refused by the password policy, except by an invitee who
    /// makes a passkey instead (invite_accept).
    #[serde(default)]
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
    /// With two-factor login on: the current 6-digit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_code: Option<Secret>,
    /// Or one of the account's recovery codes, each good once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_code: Option<Secret>,
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
    /// With an admin's reset of another user's `password`: whether that user
    /// must choose their own at the next login (true when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_change_required: Option<bool>,
    /// Profile fields to change.
    #[serde(flatten)]
    pub profile: ProfilePatch,
}

impl UserUpdate {
    /// The members `update_data` may have besides the profile fields.
    pub const NAMED: [&'static str; 8] = [
        "username",
        "email",
        "password",
        "current_password",
        "role",
        "status",
        "metadata",
        "password_change_required",
    ];

    /// The members of an `update_data` object that no update has.
    pub fn unknown_members<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        unknown_members(keys, &Self::NAMED)
    }

    /// The members this update sets, by wire name, in [`Self::NAMED`] order and
    /// then the profile fields'. `current_password` only confirms, and
    /// `password_change_required` only qualifies a reset, so neither is among
    /// them.
    pub fn changed_fields(&self) -> Vec<&'static str> {
        let set = [
            self.username.is_some(),
            self.email.is_some(),
            self.password.is_some(),
            false,
            self.role.is_some(),
            self.status.is_some(),
            self.metadata.is_some(),
            false,
        ];
        Self::NAMED
            .iter()
            .zip(set)
            .filter_map(|(name, set)| set.then_some(*name))
            .chain(self.profile.iter().map(|(f, _)| f.as_str()))
            .collect()
    }
}
