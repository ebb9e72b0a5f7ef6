//! An account in memory.

use super::id::UserId;
use super::invite::{ResetLink, StoredInvite};
use super::passkey::{SpentCeremony, StoredPasskey};
use super::totp::TotpState;
use serde_json::{Map, Value};
use users_protocol::{Profile, PublicUser, Role, UserStatus, UserView};

/// A username or email as the table keys it: both are unique without regard
/// to case, so every comparison of names goes through this one folding.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NameKey(String);

impl NameKey {
    /// The key of `name`, as given (the caller trims where it should).
    pub fn of(name: &str) -> Self {
        NameKey(name.to_lowercase())
    }

    /// The folded text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The iteration count the original service used, for records that do not say.
pub(crate) const LEGACY_ITERATIONS: u32 = 100_000;

/// A password as stored: PBKDF2-HMAC-SHA256 output, its salt, and the iteration
/// count that made it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    /// The derived key.
    pub hash: Vec<u8>,
    /// The per-user random salt.
    pub salt: Vec<u8>,
    /// Older hashes have fewer; they are upgraded at the next login.
    pub iterations: u32,
}

impl PasswordHash {
    /// Whether there is a password: an account made with a passkey instead
    /// has none until it sets one (`auth::password::none`).
    pub fn is_set(&self) -> bool {
        !self.hash.is_empty()
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PasswordHash {{ iterations: {}, .. }}", self.iterations)
    }
}

/// An account.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Never changes, not even on rename.
    pub id: UserId,
    /// Unique, case-insensitively.
    pub username: String,
    /// Unique, case-insensitively.
    pub email: String,
    /// The password's hash.
    pub password: PasswordHash,
    /// Free-text profile fields.
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
    pub metadata: Map<String, Value>,
    /// Two-factor login: set up, or on.
    pub totp: Option<TotpState>,
    /// The password is one that someone else chose or that everyone knows
    /// (the first admin's default, `reset-admin`'s, an admin's reset): until
    /// the account sets its own, a session may do little but that.
    pub password_change_required: bool,
    /// Open invitations this admin made.
    pub invites: Vec<StoredInvite>,
    /// A recovery link that sets this account's password.
    pub reset_link: Option<ResetLink>,
    /// Passkeys, the oldest first.
    pub passkeys: Vec<StoredPasskey>,
    /// Passkey ceremonies finished lately, each refused a second time.
    pub spent_ceremonies: Vec<SpentCeremony>,
}

impl User {
    /// A new active account with the `user` role, created at `now` (RFC 3339).
    pub fn new(
        id: UserId,
        username: String,
        email: String,
        password: PasswordHash,
        now: &str,
    ) -> User {
        User {
            id,
            username,
            email,
            password,
            profile: Profile::default(),
            role: Role::User,
            status: UserStatus::Active,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
            last_login: None,
            metadata: Map::new(),
            totp: None,
            password_change_required: false,
            invites: Vec::new(),
            reset_link: None,
            passkeys: Vec::new(),
            spent_ceremonies: Vec::new(),
        }
    }

    /// The table's key for lookups by name.
    pub fn key(&self) -> NameKey {
        NameKey::of(&self.username)
    }

    /// Whether a login needs a second factor.
    pub fn has_totp(&self) -> bool {
        self.totp.as_ref().is_some_and(|t| t.enabled)
    }

    /// Counts toward "at least one active admin".
    pub fn is_active_admin(&self) -> bool {
        self.role == Role::Admin && self.status == UserStatus::Active
    }

    /// As its owner, admins and moderators see it.
    pub fn view(&self) -> UserView {
        UserView {
            username: self.username.clone(),
            email: self.email.clone(),
            profile: self.profile.clone(),
            role: self.role,
            status: self.status,
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
            last_login: self.last_login.clone(),
            metadata: self.metadata.clone(),
            two_factor: self.has_totp(),
            passwordless: !self.password.is_set(),
        }
    }

    /// As `reader` sees it: whether two-factor login is on, and whether
    /// there is a password, are shown to the account itself and to admins
    /// only, so that a moderator cannot list the admins open to a guess.
    pub fn view_for(&self, reader: &User) -> UserView {
        let mut v = self.view();
        let shown = reader.id == self.id || reader.role == users_protocol::Role::Admin;
        v.two_factor &= shown;
        v.passwordless &= shown;
        v
    }

    /// As anyone sees it in list_users.
    pub fn public(&self) -> PublicUser {
        PublicUser {
            username: self.username.clone(),
            full_name: self
                .profile
                .get(users_protocol::ProfileField::FullName)
                .to_owned(),
            role: self.role,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A user with a throwaway hash, for tests that do not log in.
    pub(crate) fn user(name: &str, email: &str) -> User {
        let hash = PasswordHash {
            hash: vec![0; 32],
            salt: vec![0; 16],
            iterations: 1,
        };
        let id = UserId::random(&mut rand::rng());
        User::new(id, name.into(), email.into(), hash, "2026-01-01T00:00:00Z")
    }

    #[test]
    fn views_carry_no_password_material() {
        let mut u = user("alice", "alice@example.com");
        u.profile
            .set(users_protocol::ProfileField::FullName, "Alice Smith");
        let v = serde_json::to_value(u.view()).unwrap();
        for hidden in ["password_hash", "password_salt", "password", "id"] {
            assert!(v.get(hidden).is_none(), "{hidden}");
        }
        assert_eq!(v["email"], "alice@example.com");
        let p = serde_json::to_value(u.public()).unwrap();
        assert_eq!(
            p,
            serde_json::json!({"username": "alice", "full_name": "Alice Smith", "role": "user"})
        );
    }

    #[test]
    fn debug_hides_the_hash() {
        let u = user("bob", "bob@example.com");
        assert!(!format!("{u:?}").contains("[0, 0"));
    }
}
