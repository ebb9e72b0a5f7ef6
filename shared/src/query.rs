//! list_users' query: paging, search, filters and the order.

use crate::user::{Role, UserStatus};
use crate::wire_enum::wire_enum;
use serde::{Deserialize, Serialize};

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

impl SortKey {
    /// Whether the public view shows this field ([`crate::PublicUser`]):
    /// only such an order reveals nothing hidden.
    pub fn is_public(self) -> bool {
        matches!(self, SortKey::Username | SortKey::FullName | SortKey::Role)
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

impl ListQuery {
    /// The member that orders or filters by a field the public view does not
    /// show, if any: without an admin's or moderator's session the order or
    /// the membership of the result would reveal it (an email re-sorted
    /// against a probe account, a login seen through `-last_login`).
    /// Search is public already: the public view searches only public fields.
    pub fn hidden_field(&self) -> Option<&'static str> {
        if self.status.is_some() {
            return Some("status");
        }
        match self.sort {
            Some(sort) if !sort.key.is_public() => Some("sort"),
            _ => None,
        }
    }
}
