//! The profile: eight free-text fields, listed once in [`ProfileField`]. The
//! stored record, the views, create_user, update_user, validation and the web
//! UI's forms all take their field names and length caps from that list.

use crate::wire_enum::wire_enum;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

wire_enum! {
    /// One editable free-text field of a profile.
    pub enum ProfileField {
        /// Display name; list_users' public view shows it.
        FullName = "full_name",
        #[allow(missing_docs)]
        Phone = "phone",
        #[allow(missing_docs)]
        Address = "address",
        #[allow(missing_docs)]
        City = "city",
        #[allow(missing_docs)]
        Country = "country",
        #[allow(missing_docs)]
        PostalCode = "postal_code",
        /// `YYYY-MM-DD`, or empty.
        DateOfBirth = "date_of_birth",
        #[allow(missing_docs)]
        Notes = "notes",
    }
}

impl ProfileField {
    /// The longest value accepted, in characters.
    pub const fn max_len(self) -> usize {
        match self {
            ProfileField::FullName => 100,
            ProfileField::Phone => 32,
            ProfileField::Address => 200,
            ProfileField::City => 100,
            ProfileField::Country => 100,
            ProfileField::PostalCode => 20,
            ProfileField::DateOfBirth => 10,
            ProfileField::Notes => 2000,
        }
    }

    /// Whether line breaks and tabs are allowed.
    pub const fn multiline(self) -> bool {
        matches!(self, ProfileField::Address | ProfileField::Notes)
    }

    /// The field's name for people: `postal_code` becomes `Postal code`.
    pub fn label(self) -> String {
        label(self.as_str())
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// A wire name for people: `postal_code` becomes `Postal code`.
pub fn label(name: &str) -> String {
    let s = name.replace('_', " ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => s,
    }
}

const COUNT: usize = ProfileField::ALL.len();

/// Every profile field with its value (empty when unset). On the wire it is
/// flattened into the user object, one member per field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile([String; COUNT]);

impl Profile {
    /// The value of `field`.
    pub fn get(&self, field: ProfileField) -> &str {
        &self.0[field.index()]
    }

    /// Sets `field`.
    pub fn set(&mut self, field: ProfileField, value: impl Into<String>) {
        self.0[field.index()] = value.into();
    }

    /// Every field with its value, in [`ProfileField::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (ProfileField, &str)> {
        ProfileField::ALL.iter().map(move |&f| (f, self.get(f)))
    }

    /// Sets every field the patch names.
    pub fn apply(&mut self, patch: &ProfilePatch) {
        for (field, value) in patch.iter() {
            self.set(field, value);
        }
    }
}

impl Serialize for Profile {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(COUNT))?;
        for (field, value) in self.iter() {
            map.serialize_entry(field.as_str(), value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Profile {
    /// Reads the profile members of a user object. Other members are left to
    /// the object around it (the profile is flattened into it); a missing or
    /// null field reads as empty.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Profile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("profile fields")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Profile, A::Error> {
                let mut p = Profile::default();
                while let Some(key) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                    match ProfileField::from_name(&key) {
                        Some(f) => p.set(f, m.next_value::<Option<String>>()?.unwrap_or_default()),
                        None => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(p)
            }
        }
        d.deserialize_map(V)
    }
}

/// The profile fields a request sets, and their new values. On the wire they are
/// members of `user_data` or `update_data`; a null value sets nothing. Any
/// member that is not a profile field (nor one the request names itself) is
/// refused, every such name listed in the error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfilePatch(BTreeMap<ProfileField, String>);

impl ProfilePatch {
    /// The fields to set, with their values.
    pub fn iter(&self) -> impl Iterator<Item = (ProfileField, &str)> {
        self.0.iter().map(|(f, v)| (*f, v.as_str()))
    }

    /// Sets `field` to `value` in the patch.
    pub fn set(&mut self, field: ProfileField, value: impl Into<String>) {
        self.0.insert(field, value.into());
    }

    /// The new value of `field`, if the patch sets it.
    pub fn get(&self, field: ProfileField) -> Option<&str> {
        self.0.get(&field).map(String::as_str)
    }

    /// True when no field is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(ProfileField, String)> for ProfilePatch {
    fn from_iter<I: IntoIterator<Item = (ProfileField, String)>>(iter: I) -> Self {
        ProfilePatch(iter.into_iter().collect())
    }
}

impl Serialize for ProfilePatch {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (field, value) in self.iter() {
            map.serialize_entry(field.as_str(), value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ProfilePatch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ProfilePatch;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("profile fields")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<ProfilePatch, A::Error> {
                let mut patch = ProfilePatch::default();
                let mut unknown = Vec::new();
                while let Some(key) = m.next_key::<String>()? {
                    match ProfileField::from_name(&key) {
                        Some(f) => {
                            if let Some(v) = m.next_value::<Option<String>>()? {
                                patch.set(f, v);
                            }
                        }
                        None => {
                            m.next_value::<IgnoredAny>()?;
                            unknown.push(key);
                        }
                    }
                }
                if unknown.is_empty() {
                    Ok(patch)
                } else {
                    Err(serde::de::Error::custom(format_args!(
                        "unknown field(s) {}",
                        unknown.join(", ")
                    )))
                }
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_profile_serializes_every_field_by_its_wire_name() {
        let mut p = Profile::default();
        p.set(ProfileField::PostalCode, "0150");
        let v = serde_json::to_value(&p).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut names = ProfileField::NAMES.to_vec();
        names.sort_unstable();
        assert_eq!(keys, names);
        assert_eq!(v["postal_code"], "0150");
        let back: Profile = serde_json::from_value(v).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn a_profile_reads_missing_and_null_as_empty_and_skips_other_members() {
        let p: Profile =
            serde_json::from_value(json!({"city": "Oslo", "phone": null, "role": "user"})).unwrap();
        assert_eq!(p.get(ProfileField::City), "Oslo");
        assert_eq!(p.get(ProfileField::Phone), "");
    }

    #[test]
    fn a_patch_names_every_unknown_member() {
        let e = serde_json::from_value::<ProfilePatch>(json!({"city": "x", "isadmin": 1, "zz": 2}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("isadmin") && e.contains("zz"), "{e}");
        let p: ProfilePatch = serde_json::from_value(json!({"city": "x", "notes": null})).unwrap();
        assert_eq!(p.iter().collect::<Vec<_>>(), [(ProfileField::City, "x")]);
    }

    #[test]
    fn caps_and_labels() {
        assert_eq!(ProfileField::Notes.max_len(), 2000);
        assert_eq!(ProfileField::DateOfBirth.label(), "Date of birth");
        assert_eq!(
            ProfileField::from_name("postal_code"),
            Some(ProfileField::PostalCode)
        );
        assert!(ProfileField::ALL.iter().all(|f| f.max_len() > 0));
    }
}
