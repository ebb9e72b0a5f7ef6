//! The in-memory user table: records by case-folded username, an email index, and
//! an undo log so that a batch whose journal write fails can be taken back.

use crate::store::Change;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;
use users_protocol::{ListQuery, Role, UserRecord, UserStatus};

/// Case-folded key of a username or email: both are unique case-insensitively.
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// The user table.
#[derive(Default)]
pub struct Db {
    users: HashMap<String, Arc<UserRecord>>,
    emails: HashMap<String, String>,
    /// Before-images, one per entry of `changes`, since the last [`Db::take_changes`].
    undo: Vec<(String, Option<Arc<UserRecord>>)>,
    changes: Vec<Change>,
}

impl Db {
    /// Builds the table from stored records.
    pub fn from_records(records: impl IntoIterator<Item = Arc<UserRecord>>) -> Self {
        let records = records.into_iter();
        let mut db = Db {
            users: HashMap::with_capacity(records.size_hint().0),
            emails: HashMap::with_capacity(records.size_hint().0),
            ..Db::default()
        };
        for r in records {
            db.insert_raw(r);
        }
        db
    }

    fn insert_raw(&mut self, r: Arc<UserRecord>) -> Option<Arc<UserRecord>> {
        let key = fold(&r.username);
        let old = self.users.insert(key.clone(), Arc::clone(&r));
        if let Some(o) = &old {
            self.emails.remove(&fold(&o.email));
        }
        self.emails.insert(fold(&r.email), key);
        old
    }

    fn remove_raw(&mut self, key: &str) -> Option<Arc<UserRecord>> {
        let old = self.users.remove(key)?;
        self.emails.remove(&fold(&old.email));
        Some(old)
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// True when there are no users.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The user with this username, any case.
    pub fn get(&self, username: &str) -> Option<&Arc<UserRecord>> {
        self.users.get(&fold(username))
    }

    /// The user with this email, any case.
    pub fn get_by_email(&self, email: &str) -> Option<&Arc<UserRecord>> {
        self.emails
            .get(&fold(email))
            .and_then(|k| self.users.get(k))
    }

    /// Login lookup: a username, or else an email.
    pub fn find_login(&self, identifier: &str) -> Option<&Arc<UserRecord>> {
        self.get(identifier)
            .or_else(|| self.get_by_email(identifier))
    }

    /// Active admins other than `except` (a folded username).
    pub fn other_active_admins(&self, except: &str) -> usize {
        self.users
            .iter()
            .filter(|(k, u)| {
                k.as_str() != except && u.role == Role::Admin && u.status == UserStatus::Active
            })
            .count()
    }

    /// Inserts or replaces a record. A change of username (even of case only) is a
    /// delete of the old record and a put of the new one, as journalled.
    pub fn put(&mut self, old_username: Option<&str>, record: UserRecord) {
        if let Some(old) = old_username {
            if old != record.username {
                self.remove(old);
            }
        }
        let record = Arc::new(record);
        let key = fold(&record.username);
        let before = self.insert_raw(Arc::clone(&record));
        self.undo.push((key, before));
        self.changes.push(Change::Put { user: record });
    }

    /// Removes a record; returns it.
    pub fn remove(&mut self, username: &str) -> Option<Arc<UserRecord>> {
        let key = fold(username);
        let old = self.remove_raw(&key)?;
        self.undo.push((key, Some(Arc::clone(&old))));
        self.changes.push(Change::Delete {
            username: old.username.clone(),
        });
        Some(old)
    }

    /// Position in the undo log, for [`Db::rollback_to`].
    pub fn mark(&self) -> usize {
        self.undo.len()
    }

    /// Undoes every change after `mark`, newest first.
    pub fn rollback_to(&mut self, mark: usize) {
        while self.undo.len() > mark {
            let Some((key, before)) = self.undo.pop() else {
                break;
            };
            self.remove_raw(&key);
            if let Some(b) = before {
                self.insert_raw(b);
            }
        }
        self.changes.truncate(mark);
    }

    /// The changes since the last call, to be journalled; the undo log stays until
    /// [`Db::forget_undo`] or [`Db::rollback_to`].
    pub fn take_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }

    /// Drops the undo log once the changes are durable.
    pub fn forget_undo(&mut self) {
        self.undo.clear();
    }

    /// Undoes everything still in the undo log (a failed commit).
    pub fn rollback_all(&mut self) {
        self.rollback_to(0);
    }

    /// Every record, for a snapshot.
    pub fn all(&self) -> Vec<Arc<UserRecord>> {
        self.users.values().cloned().collect()
    }

    /// Filters, orders and pages the users. `admin_view` allows searching by email.
    /// Returns the page and the number of matches.
    pub fn list(
        &self,
        q: &ListQuery,
        admin_view: bool,
        order: SortOrder,
    ) -> (Vec<Arc<UserRecord>>, usize) {
        let needle = q.search.as_deref().map(str::to_lowercase);
        let mut hits: Vec<&Arc<UserRecord>> = self
            .users
            .values()
            .filter(|u| q.role.is_none_or(|r| u.role == r))
            .filter(|u| q.status.is_none_or(|s| u.status == s))
            .filter(|u| match &needle {
                None => true,
                Some(n) => {
                    u.username.to_lowercase().contains(n)
                        || u.profile.full_name.to_lowercase().contains(n)
                        || (admin_view && u.email.to_lowercase().contains(n))
                }
            })
            .collect();
        let total = hits.len();
        let offset = q.offset.unwrap_or(0).min(total);
        let limit = q.limit.unwrap_or(total);
        let cmp = |a: &&Arc<UserRecord>, b: &&Arc<UserRecord>| {
            let o = order
                .key
                .compare(a, b)
                .then_with(|| a.username.cmp(&b.username));
            if order.descending {
                o.reverse()
            } else {
                o
            }
        };
        // Only the page needs full ordering: partition around its end first.
        let end = offset.saturating_add(limit).min(total);
        if end < total && end > 0 {
            hits.select_nth_unstable_by(end - 1, cmp);
            hits.truncate(end);
        }
        hits.sort_unstable_by(cmp);
        let page = hits.into_iter().skip(offset).take(limit).cloned().collect();
        (page, total)
    }
}

/// A list_users order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortOrder {
    /// The field.
    pub key: SortKey,
    /// Largest first.
    pub descending: bool,
}

/// Fields list_users can order by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Username, case-insensitive.
    Username,
    /// Email, case-insensitive.
    Email,
    /// Full name, case-insensitive.
    FullName,
    /// Creation time.
    CreatedAt,
    /// Last login; never-logged-in first.
    LastLogin,
    /// Role.
    Role,
}

impl SortOrder {
    /// Parses `username`, `-created_at` and the like; `None` means by username.
    pub fn parse(s: Option<&str>) -> Option<SortOrder> {
        let s = s.unwrap_or("username");
        let (descending, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let key = match name {
            "username" => SortKey::Username,
            "email" => SortKey::Email,
            "full_name" => SortKey::FullName,
            "created_at" => SortKey::CreatedAt,
            "last_login" => SortKey::LastLogin,
            "role" => SortKey::Role,
            _ => return None,
        };
        Some(SortOrder { key, descending })
    }
}

impl SortKey {
    fn compare(self, a: &UserRecord, b: &UserRecord) -> Ordering {
        fn ci(a: &str, b: &str) -> Ordering {
            a.bytes()
                .map(|c| c.to_ascii_lowercase())
                .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
        }
        match self {
            SortKey::Username => ci(&a.username, &b.username),
            SortKey::Email => ci(&a.email, &b.email),
            SortKey::FullName => ci(&a.profile.full_name, &b.profile.full_name),
            SortKey::CreatedAt => a.created_at.cmp(&b.created_at),
            SortKey::LastLogin => a.last_login.cmp(&b.last_login),
            SortKey::Role => a.role.as_str().cmp(b.role.as_str()),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use users_protocol::user::Profile;

    pub(crate) fn record(name: &str, email: &str) -> UserRecord {
        UserRecord {
            username: name.into(),
            email: email.into(),
            password_hash: String::new(),
            password_salt: String::new(),
            password_iterations: 1,
            profile: Profile::default(),
            role: Role::User,
            status: UserStatus::Active,
            created_at: String::new(),
            updated_at: String::new(),
            last_login: None,
            metadata: Default::default(),
        }
    }

    #[test]
    fn lookups_ignore_case() {
        let mut db = Db::default();
        db.put(None, record("Alice", "Alice@Example.com"));
        assert!(db.get("alice").is_some());
        assert!(db.get_by_email("alice@example.COM").is_some());
        assert_eq!(
            db.find_login("ALICE@example.com").unwrap().username,
            "Alice"
        );
    }

    #[test]
    fn rename_journals_delete_then_put_and_rolls_back() {
        let mut db = Db::from_records([Arc::new(record("alice", "a@x.io"))]);
        let mark = db.mark();
        db.put(Some("alice"), record("Alice2", "a@x.io"));
        assert!(db.get("alice").is_none());
        assert!(db.get_by_email("a@x.io").is_some());
        let changes = db.take_changes();
        assert!(matches!(&changes[0], Change::Delete { username } if username == "alice"));
        assert!(matches!(&changes[1], Change::Put { user } if user.username == "Alice2"));
        assert_eq!(mark, 0);
        db.rollback_all();
        assert!(db.get("alice2").is_none());
        assert_eq!(db.get("alice").unwrap().username, "alice");
        assert_eq!(db.get_by_email("a@x.io").unwrap().username, "alice");
    }

    #[test]
    fn email_change_updates_the_index() {
        let mut db = Db::from_records([Arc::new(record("bob", "old@x.io"))]);
        db.put(Some("bob"), record("bob", "new@x.io"));
        assert!(db.get_by_email("old@x.io").is_none());
        assert!(db.get_by_email("new@x.io").is_some());
    }

    #[test]
    fn list_filters_sorts_and_pages() {
        let mut recs = Vec::new();
        for i in 0..50 {
            let mut r = record(&format!("user{i:02}"), &format!("u{i}@x.io"));
            if i % 10 == 0 {
                r.role = Role::Admin;
            }
            recs.push(Arc::new(r));
        }
        let db = Db::from_records(recs);
        let q = ListQuery {
            limit: Some(5),
            offset: Some(10),
            ..Default::default()
        };
        let (page, total) = db.list(&q, true, SortOrder::parse(None).unwrap());
        assert_eq!(total, 50);
        let names: Vec<_> = page.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["user10", "user11", "user12", "user13", "user14"]);

        let q = ListQuery {
            role: Some(Role::Admin),
            ..Default::default()
        };
        let (page, total) = db.list(&q, true, SortOrder::parse(Some("-username")).unwrap());
        assert_eq!(total, 5);
        assert_eq!(page[0].username, "user40");

        let q = ListQuery {
            search: Some("U3@X".into()),
            ..Default::default()
        };
        assert_eq!(db.list(&q, true, SortOrder::parse(None).unwrap()).1, 1);
        assert_eq!(db.list(&q, false, SortOrder::parse(None).unwrap()).1, 0);
        assert!(SortOrder::parse(Some("password_hash")).is_none());
    }
}
