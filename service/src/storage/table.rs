//! The in-memory user table: users by stable id, indexes by folded username
//! and email, and an undo log, so that a batch whose commit fails can be taken
//! back (`mark` / `rollback_to` / `take_changes`).

use super::backend::Change;
use crate::model::{NameKey, User, UserId};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Default)]
pub struct UserTable {
    by_id: HashMap<UserId, Arc<User>>,
    by_name: HashMap<NameKey, UserId>,
    by_email: HashMap<NameKey, UserId>,
    /// Before-images, one per entry of `changes`, since the last [`UserTable::take_changes`].
    undo: Vec<(UserId, Option<Arc<User>>)>,
    changes: Vec<Change>,
    /// Counts every change, undone ones too: what was read at one generation
    /// is current as long as the generation is.
    generation: u64,
}

impl UserTable {
    /// Builds the table from loaded users.
    pub fn from_users(users: impl IntoIterator<Item = Arc<User>>) -> Self {
        let users = users.into_iter();
        let n = users.size_hint().0;
        let mut t = UserTable {
            by_id: HashMap::with_capacity(n),
            by_name: HashMap::with_capacity(n),
            by_email: HashMap::with_capacity(n),
            ..UserTable::default()
        };
        for u in users {
            t.insert_raw(u);
        }
        t
    }

    fn unindex(&mut self, u: &User) {
        for (index, key) in [
            (&mut self.by_name, &u.username),
            (&mut self.by_email, &u.email),
        ] {
            let k = NameKey::of(key);
            if index.get(&k) == Some(&u.id) {
                index.remove(&k);
            }
        }
    }

    /// Changes so far (see the field).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    fn insert_raw(&mut self, u: Arc<User>) -> Option<Arc<User>> {
        self.generation += 1;
        let old = self.by_id.insert(u.id, Arc::clone(&u));
        if let Some(o) = &old {
            self.unindex(o);
        }
        self.by_name.insert(NameKey::of(&u.username), u.id);
        self.by_email.insert(NameKey::of(&u.email), u.id);
        old
    }

    fn remove_raw(&mut self, id: UserId) -> Option<Arc<User>> {
        self.generation += 1;
        let old = self.by_id.remove(&id)?;
        self.unindex(&old);
        Some(old)
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when there are no users.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The user with this id.
    pub fn get_by_id(&self, id: UserId) -> Option<&Arc<User>> {
        self.by_id.get(&id)
    }

    /// The user with this username, any case.
    pub fn get(&self, username: &str) -> Option<&Arc<User>> {
        self.by_name
            .get(&NameKey::of(username))
            .and_then(|id| self.by_id.get(id))
    }

    /// The user with this email, any case.
    pub fn get_by_email(&self, email: &str) -> Option<&Arc<User>> {
        self.by_email
            .get(&NameKey::of(email))
            .and_then(|id| self.by_id.get(id))
    }

    /// Login lookup: a username, or else an email.
    pub fn find_login(&self, identifier: &str) -> Option<&Arc<User>> {
        self.get(identifier)
            .or_else(|| self.get_by_email(identifier))
    }

    /// Active admins other than `except`.
    pub fn other_active_admins(&self, except: UserId) -> usize {
        self.by_id
            .values()
            .filter(|u| u.id != except && u.is_active_admin())
            .count()
    }

    /// Every user, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<User>> {
        self.by_id.values()
    }

    /// Every user, for a snapshot.
    pub fn all(&self) -> Vec<Arc<User>> {
        self.by_id.values().cloned().collect()
    }

    /// Inserts a user, or replaces the one with the same id (a rename included).
    pub fn put(&mut self, user: User) {
        let user = Arc::new(user);
        let before = self.insert_raw(Arc::clone(&user));
        self.undo.push((user.id, before));
        self.changes.push(Change::Put(user));
    }

    /// Removes a user; returns it.
    pub fn remove(&mut self, id: UserId) -> Option<Arc<User>> {
        let old = self.remove_raw(id)?;
        self.undo.push((id, Some(Arc::clone(&old))));
        self.changes.push(Change::Delete(id));
        Some(old)
    }

    /// Makes changes another instance committed, in order. They are durable
    /// already: nothing of them is undone or committed again.
    pub fn apply_committed(&mut self, changes: Vec<Change>) {
        for change in changes {
            match change {
                Change::Put(user) => {
                    self.insert_raw(user);
                }
                Change::Delete(id) => {
                    self.remove_raw(id);
                }
            }
        }
    }

    /// Position in the undo log, for [`UserTable::rollback_to`].
    pub fn mark(&self) -> usize {
        self.undo.len()
    }

    /// Undoes every change after `mark`, newest first.
    pub fn rollback_to(&mut self, mark: usize) {
        while self.undo.len() > mark {
            let Some((id, before)) = self.undo.pop() else {
                break;
            };
            self.remove_raw(id);
            if let Some(b) = before {
                self.insert_raw(b);
            }
        }
        self.changes.truncate(mark);
    }

    /// The changes since the last call, to be committed; the undo log stays
    /// until [`UserTable::forget_undo`] or [`UserTable::rollback_to`].
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::user;

    #[test]
    fn lookups_ignore_case() {
        let mut t = UserTable::default();
        t.put(user("Alice", "Alice@Example.com"));
        assert!(t.get("alice").is_some());
        assert!(t.get_by_email("alice@example.COM").is_some());
        assert_eq!(t.find_login("ALICE@example.com").unwrap().username, "Alice");
    }

    #[test]
    fn a_rename_keeps_the_id_and_rolls_back() {
        let alice = user("alice", "a@x.io");
        let id = alice.id;
        let mut t = UserTable::from_users([Arc::new(alice.clone())]);
        let mark = t.mark();
        t.put(User {
            username: "Alice2".into(),
            ..alice
        });
        assert!(t.get("alice").is_none());
        assert_eq!(t.get("alice2").unwrap().id, id);
        assert_eq!(t.get_by_email("a@x.io").unwrap().username, "Alice2");
        let changes = t.take_changes();
        assert!(matches!(&changes[..], [Change::Put(u)] if u.id == id));
        assert_eq!(mark, 0);
        t.rollback_all();
        assert!(t.get("alice2").is_none());
        assert_eq!(t.get("alice").unwrap().username, "alice");
        assert_eq!(t.get_by_email("a@x.io").unwrap().username, "alice");
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn email_change_updates_the_index() {
        let bob = user("bob", "old@x.io");
        let mut t = UserTable::from_users([Arc::new(bob.clone())]);
        t.put(User {
            email: "new@x.io".into(),
            ..bob
        });
        assert!(t.get_by_email("old@x.io").is_none());
        assert!(t.get_by_email("new@x.io").is_some());
    }

    #[test]
    fn a_removal_rolls_back_with_its_indexes() {
        let carol = user("carol", "c@x.io");
        let id = carol.id;
        let mut t = UserTable::from_users([Arc::new(carol)]);
        t.remove(id);
        assert!(t.get("carol").is_none() && t.get_by_email("c@x.io").is_none());
        assert_eq!(t.take_changes(), [Change::Delete(id)]);
        t.rollback_all();
        assert_eq!(t.get_by_email("c@x.io").unwrap().id, id);
    }

    #[test]
    fn every_change_and_undo_moves_the_generation() {
        let mut t = UserTable::default();
        let g0 = t.generation();
        t.put(user("dora", "d@x.io"));
        let g1 = t.generation();
        assert!(g1 > g0);
        t.rollback_all();
        assert!(t.generation() > g1);
    }
}
