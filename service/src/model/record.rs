//! The user as the store writes it: the original service's record structure
//! ("Data Storage" in its README, hex password material), plus two members:
//!
//! - version 1 added `password_iterations` (absent in the original's files,
//!   where it was 100,000);
//! - version 2 added `id`, the stable id. Version-1 records have none and get
//!   one when their store is upgraded ([`UserRecord::upgrade`]);
//! - version 3 added `totp`, the two-factor state ([`TotpState`]), present
//!   only on accounts that set it up, so that other records are unchanged;
//! - `password_change_required`, present (and true) only on accounts whose
//!   password someone else chose; older services skip it as an unknown
//!   member, so no new version was needed;
//! - `invites` and `reset_link` likewise, present only on records that have
//!   open invitations or a recovery link ([`super::invite`]); so are
//!   `passkeys` and `spent_ceremonies` ([`super::passkey`]).
//!
//! [`User`] is made from a record with `TryFrom`, which refuses a record
//! without an id or with password material that is not hex.

use super::id::UserId;
use super::invite::{ResetLink, StoredInvite};
use super::passkey::{SpentCeremony, StoredPasskey};
use super::totp::TotpState;
use super::user::{PasswordHash, User};
use serde::Serialize;
use serde_json::{Map, Value};
use users_protocol::{Profile, Role, UserStatus};

/// A stored user, versions 1 and 2. `Debug` leaves out the password material.
/// It is read by hand (`record_de.rs`), in one pass with no buffering,
/// since start-up reads every record.
#[derive(Clone, PartialEq, Serialize)]
pub struct UserRecord {
    /// Absent in version 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<UserId>,
    pub username: String,
    pub email: String,
    /// Hex.
    pub password_hash: String,
    /// Hex.
    pub password_salt: String,
    /// 100,000 when absent, as in the original's files.
    pub password_iterations: u32,
    #[serde(flatten)]
    pub profile: Profile,
    pub role: Role,
    pub status: UserStatus,
    pub created_at: String,
    pub updated_at: String,
    pub last_login: Option<String>,
    pub metadata: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totp: Option<TotpState>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub password_change_required: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invites: Vec<StoredInvite>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset_link: Option<ResetLink>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub passkeys: Vec<StoredPasskey>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub spent_ceremonies: Vec<SpentCeremony>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password_iterations", &self.password_iterations)
            .field("role", &self.role)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// Why a record cannot become a [`User`].
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// A version-2 store holds a record without an id.
    #[error("the record of '{0}' has no id")]
    NoId(String),
    /// The password hash or salt is not hex.
    #[error("the password of '{0}' is not stored as hex")]
    NotHex(String),
}

impl UserRecord {
    /// Gives a version-1 record its id; a record that has one keeps it.
    pub fn upgrade(mut self, id: impl FnOnce() -> UserId) -> UserRecord {
        self.id.get_or_insert_with(id);
        self
    }
}

impl TryFrom<UserRecord> for User {
    type Error = RecordError;

    fn try_from(r: UserRecord) -> Result<User, RecordError> {
        let id = r.id.ok_or_else(|| RecordError::NoId(r.username.clone()))?;
        let (Ok(hash), Ok(salt)) = (hex::decode(&r.password_hash), hex::decode(&r.password_salt))
        else {
            return Err(RecordError::NotHex(r.username));
        };
        Ok(User {
            id,
            username: r.username,
            email: r.email,
            password: PasswordHash {
                hash,
                salt,
                iterations: r.password_iterations,
            },
            profile: r.profile,
            role: r.role,
            status: r.status,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_login: r.last_login,
            metadata: r.metadata,
            totp: r.totp,
            password_change_required: r.password_change_required,
            invites: r.invites,
            reset_link: r.reset_link,
            passkeys: r.passkeys,
            spent_ceremonies: r.spent_ceremonies,
        })
    }
}

impl From<&User> for UserRecord {
    fn from(u: &User) -> UserRecord {
        UserRecord {
            id: Some(u.id),
            username: u.username.clone(),
            email: u.email.clone(),
            password_hash: hex::encode(&u.password.hash),
            password_salt: hex::encode(&u.password.salt),
            password_iterations: u.password.iterations,
            profile: u.profile.clone(),
            role: u.role,
            status: u.status,
            created_at: u.created_at.clone(),
            updated_at: u.updated_at.clone(),
            last_login: u.last_login.clone(),
            metadata: u.metadata.clone(),
            totp: u.totp.clone(),
            password_change_required: u.password_change_required,
            invites: u.invites.clone(),
            reset_link: u.reset_link.clone(),
            passkeys: u.passkeys.clone(),
            spent_ceremonies: u.spent_ceremonies.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::user::LEGACY_ITERATIONS;
    use serde_json::json;
    use users_protocol::ProfileField;

    fn original() -> Value {
        json!({
            "username": "alice", "email": "alice@example.com",
            "password_hash": "ab01", "password_salt": "cd02",
            "full_name": "Alice Smith", "phone": "", "address": "", "city": "",
            "country": "", "postal_code": "", "date_of_birth": "",
            "role": "user", "status": "active",
            "created_at": "2024-01-01T00:00:00", "updated_at": "2024-01-01T00:00:00",
            "last_login": null, "notes": "", "metadata": {}
        })
    }

    #[test]
    fn an_original_record_reads_as_100k_iterations_and_needs_an_id() {
        let r: UserRecord = serde_json::from_value(original()).unwrap();
        assert_eq!(r.password_iterations, LEGACY_ITERATIONS);
        assert_eq!(r.role, Role::User);
        assert!(!format!("{r:?}").contains("ab01"), "Debug hides the hash");
        assert!(matches!(
            User::try_from(r.clone()),
            Err(RecordError::NoId(_))
        ));
        let id = UserId::random(&mut rand::rng());
        let u = User::try_from(r.upgrade(|| id)).unwrap();
        assert_eq!(u.id, id);
        assert_eq!(u.password.hash, [0xab, 0x01]);
        assert_eq!(u.profile.get(ProfileField::FullName), "Alice Smith");
    }

    #[test]
    fn a_user_round_trips_through_its_record() {
        let r: UserRecord = serde_json::from_value(original()).unwrap();
        let u = User::try_from(r.upgrade(|| UserId::random(&mut rand::rng()))).unwrap();
        let stored = serde_json::to_value(UserRecord::from(&u)).unwrap();
        assert_eq!(stored["password_hash"], "ab01");
        assert_eq!(stored["id"], u.id.to_string());
        let back: UserRecord = serde_json::from_value(stored).unwrap();
        assert_eq!(User::try_from(back).unwrap(), u);
    }

    #[test]
    fn password_material_that_is_not_hex_is_refused() {
        let mut v = original();
        v["password_salt"] = json!("not hex");
        let r: UserRecord = serde_json::from_value(v).unwrap();
        let r = r.upgrade(|| UserId::random(&mut rand::rng()));
        assert!(matches!(User::try_from(r), Err(RecordError::NotHex(_))));
    }
}
