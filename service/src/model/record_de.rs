//! Reading a [`UserRecord`] in one pass. The derived reader buffers every
//! record to find the profile fields flattened into it; this one sorts each
//! member as it comes: a record field, a [`ProfileField`], or something else,
//! which is skipped.

use super::id::UserId;
use super::record::UserRecord;
use super::user::LEGACY_ITERATIONS;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::fmt;
use users_protocol::{Profile, ProfileField, Role, UserStatus};

/// A member of a stored record, by its wire name.
enum Member {
    Id,
    Username,
    Email,
    PasswordHash,
    PasswordSalt,
    PasswordIterations,
    Role,
    Status,
    CreatedAt,
    UpdatedAt,
    LastLogin,
    Metadata,
    Totp,
    PasswordChangeRequired,
    Invites,
    ResetLink,
    Passkeys,
    SpentCeremonies,
    Profile(ProfileField),
    Other,
}

impl Member {
    fn from_name(name: &str) -> Member {
        match name {
            "id" => Member::Id,
            "username" => Member::Username,
            "email" => Member::Email,
            "password_hash" => Member::PasswordHash,
            "password_salt" => Member::PasswordSalt,
            "password_iterations" => Member::PasswordIterations,
            "role" => Member::Role,
            "status" => Member::Status,
            "created_at" => Member::CreatedAt,
            "updated_at" => Member::UpdatedAt,
            "last_login" => Member::LastLogin,
            "metadata" => Member::Metadata,
            "totp" => Member::Totp,
            "password_change_required" => Member::PasswordChangeRequired,
            "invites" => Member::Invites,
            "reset_link" => Member::ResetLink,
            "passkeys" => Member::Passkeys,
            "spent_ceremonies" => Member::SpentCeremonies,
            other => ProfileField::from_name(other).map_or(Member::Other, Member::Profile),
        }
    }
}

impl<'de> Deserialize<'de> for Member {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Member;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Member, E> {
                Ok(Member::from_name(s))
            }
        }
        d.deserialize_identifier(V)
    }
}

impl<'de> Deserialize<'de> for UserRecord {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(RecordVisitor)
    }
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = UserRecord;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a stored user")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<UserRecord, A::Error> {
        let mut id: Option<UserId> = None;
        let (mut username, mut email, mut hash, mut salt) = (None, None, None, None);
        let (mut created_at, mut updated_at) = (None, None);
        let mut iterations = None;
        let (mut role, mut status) = (Role::default(), UserStatus::default());
        let mut last_login = None;
        let mut metadata = Map::<String, Value>::new();
        let mut totp = None;
        let mut password_change_required = false;
        let (mut invites, mut reset_link) = (Vec::new(), None);
        let (mut passkeys, mut spent_ceremonies) = (Vec::new(), Vec::new());
        let mut profile = Profile::default();
        while let Some(member) = m.next_key::<Member>()? {
            match member {
                Member::Id => id = m.next_value()?,
                Member::Username => username = Some(m.next_value::<String>()?),
                Member::Email => email = Some(m.next_value::<String>()?),
                Member::PasswordHash => hash = Some(m.next_value::<String>()?),
                Member::PasswordSalt => salt = Some(m.next_value::<String>()?),
                Member::PasswordIterations => iterations = Some(m.next_value::<u32>()?),
                Member::Role => role = m.next_value()?,
                Member::Status => status = m.next_value()?,
                Member::CreatedAt => created_at = Some(m.next_value::<String>()?),
                Member::UpdatedAt => updated_at = Some(m.next_value::<String>()?),
                Member::LastLogin => last_login = m.next_value()?,
                Member::Metadata => {
                    metadata = m.next_value::<Option<_>>()?.unwrap_or_default();
                }
                Member::Totp => totp = m.next_value()?,
                Member::PasswordChangeRequired => password_change_required = m.next_value()?,
                Member::Invites => invites = m.next_value()?,
                Member::ResetLink => reset_link = m.next_value()?,
                Member::Passkeys => passkeys = m.next_value()?,
                Member::SpentCeremonies => spent_ceremonies = m.next_value()?,
                Member::Profile(f) => {
                    profile.set(f, m.next_value::<Option<String>>()?.unwrap_or_default());
                }
                Member::Other => {
                    m.next_value::<IgnoredAny>()?;
                }
            }
        }
        let missing = |name| de::Error::missing_field(name);
        Ok(UserRecord {
            id,
            username: username.ok_or_else(|| missing("username"))?,
            email: email.ok_or_else(|| missing("email"))?,
            password_hash: hash.ok_or_else(|| missing("password_hash"))?,
            password_salt: salt.ok_or_else(|| missing("password_salt"))?,
            password_iterations: iterations.unwrap_or(LEGACY_ITERATIONS),
            profile,
            role,
            status,
            created_at: created_at.ok_or_else(|| missing("created_at"))?,
            updated_at: updated_at.ok_or_else(|| missing("updated_at"))?,
            last_login,
            metadata,
            totp,
            password_change_required,
            invites,
            reset_link,
            passkeys,
            spent_ceremonies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_member_written_is_read_back_by_its_name() {
        let mut profile = Profile::default();
        for (i, f) in ProfileField::ALL.iter().enumerate() {
            profile.set(*f, format!("v{i}"));
        }
        let r = UserRecord {
            id: Some(UserId::random(&mut rand::rng())),
            username: "u".into(),
            email: "e@x.io".into(),
            password_hash: "ab".into(),
            password_salt: "cd".into(),
            password_iterations: 7,
            profile,
            role: Role::Moderator,
            status: UserStatus::Suspended,
            created_at: "c".into(),
            updated_at: "u".into(),
            last_login: Some("l".into()),
            metadata: json!({"k": [1]}).as_object().cloned().unwrap_or_default(),
            totp: Some(crate::model::totp::TotpState::generate(&mut rand::rng())),
            password_change_required: true,
            invites: vec![crate::model::invite::StoredInvite {
                id: "0123456789abcdef".into(),
                hash: crate::model::invite::issue("x", &mut rand::rng()).1,
                role: Role::Moderator,
                email: Some("m@x.io".into()),
                note: None,
                created_at: "c".into(),
                expires_at: 9,
            }],
            reset_link: Some(crate::model::invite::ResetLink {
                hash: crate::model::invite::issue("y", &mut rand::rng()).1,
                expires_at: 7,
                created_by: UserId::random(&mut rand::rng()),
            }),
            passkeys: vec![],
            spent_ceremonies: vec![crate::model::passkey::SpentCeremony {
                nonce: "ab".into(),
                until: 5,
            }],
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(serde_json::from_value::<UserRecord>(v.clone()).unwrap(), r);
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<UserRecord>(&text).unwrap(), r);
        assert_eq!(v.as_object().unwrap().len(), 17 + ProfileField::ALL.len());
    }

    #[test]
    fn missing_members_default_or_fail_by_name() {
        let r: UserRecord = serde_json::from_value(json!({"username": "a", "email": "e",
            "password_hash": "", "password_salt": "", "created_at": "", "updated_at": "",
            "phone": null, "metadata": null, "unknown": {"x": 1}}))
        .unwrap();
        assert_eq!(r.password_iterations, LEGACY_ITERATIONS);
        assert_eq!(
            (r.role, r.status, r.id),
            (Role::User, UserStatus::Active, None)
        );
        let e = serde_json::from_value::<UserRecord>(json!({"username": "a"})).unwrap_err();
        assert!(e.to_string().contains("email"), "{e}");
    }
}
