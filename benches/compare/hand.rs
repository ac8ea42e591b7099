//! The hand-written baseline: the blog schema as concrete slotmap arenas and hashbrown
//! indexes, every index a named field updated by code written for it, no generic machinery.
//! This is the practical limit a generic store is measured against (docs/PERFORMANCE.md,
//! "What is measured, and how").
//!
//! - Tables: one `SlotMap` per entity; the slotmap key plays the integer primary key. Text
//!   fields are `String`s.
//! - Unique indexes: `HashTable`s of keys on `users.username`, `users.email`, `groups.name`;
//!   hashing and equality go through the arena, so no string is stored twice.
//! - Foreign-key indexes: `profile_of` (unique), `posts_of` (children in link order).
//! - Memberships: the rows themselves clustered by user (`memberships`), plus the group-side
//!   index `members`. The `(user, group)` primary key check scans the user's ~5 rows.
//!
//! Every write checks foreign keys and uniqueness before it mutates anything; a rejected row
//! is handed back inside the `Err`. While a fixture mark is active, inserts and moves are
//! journalled so `reset` can undo them in O(changes).

mod change;
mod snapshot;

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashSet, HashTable};
use serde::{Deserialize, Serialize};
use slotmap::{new_key_type, SecondaryMap, SlotMap};

new_key_type! {
    /// A user's key.
    pub struct UserKey;
    /// A profile's key.
    pub struct ProfileKey;
    /// A post's key.
    pub struct PostKey;
    /// A group's key.
    pub struct GroupKey;
}

/// `users` row.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    pub email: String,
}

/// `profiles` row.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Profile {
    pub bio: String,
    pub user: UserKey,
}

/// `posts` row.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Post {
    pub title: String,
    pub content: String,
    pub user: UserKey,
}

/// `groups` row.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
}

/// Why a write was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandError {
    /// A unique constraint, named `table.column`.
    Unique(&'static str),
    /// A foreign key names no live record.
    MissingParent(&'static str),
}

/// One journalled write, undone by `reset`.
#[derive(Clone, Copy, Debug)]
enum Undo {
    User(UserKey),
    Profile(ProfileKey),
    Post(PostKey),
    Member(UserKey, GroupKey),
    Moved { post: PostKey, from: UserKey, at: usize },
}

/// The whole store.
#[derive(Clone, Default)]
pub struct Hand {
    pub(crate) users: SlotMap<UserKey, User>,
    pub(crate) profiles: SlotMap<ProfileKey, Profile>,
    pub(crate) posts: SlotMap<PostKey, Post>,
    pub(crate) groups: SlotMap<GroupKey, Group>,
    pub(crate) memberships: SecondaryMap<UserKey, Vec<(GroupKey, i64)>>,
    hasher: DefaultHashBuilder,
    by_username: HashTable<UserKey>,
    by_email: HashTable<UserKey>,
    by_group_name: HashTable<GroupKey>,
    profile_of: SecondaryMap<UserKey, ProfileKey>,
    posts_of: SecondaryMap<UserKey, Vec<PostKey>>,
    members: SecondaryMap<GroupKey, HashSet<UserKey>>,
    journal: Option<Vec<Undo>>,
}

impl Hand {
    fn log(&mut self, undo: Undo) {
        if let Some(journal) = &mut self.journal {
            journal.push(undo);
        }
    }

    /// Inserts a user after checking both unique columns.
    pub fn insert_user(&mut self, u: User) -> Result<UserKey, (HandError, User)> {
        let h_name = self.hasher.hash_one(&u.username);
        let h_email = self.hasher.hash_one(&u.email);
        let users = &self.users;
        if self
            .by_username
            .find(h_name, |&k| users[k].username == u.username)
            .is_some()
        {
            return Err((HandError::Unique("users.username"), u));
        }
        if self
            .by_email
            .find(h_email, |&k| users[k].email == u.email)
            .is_some()
        {
            return Err((HandError::Unique("users.email"), u));
        }
        let key = self.users.insert(u);
        self.link_user(key, h_name, h_email);
        self.log(Undo::User(key));
        Ok(key)
    }

    fn link_user(&mut self, key: UserKey, h_name: u64, h_email: u64) {
        let (users, hasher) = (&self.users, &self.hasher);
        self.by_username
            .insert_unique(h_name, key, |&k| hasher.hash_one(&users[k].username));
        self.by_email
            .insert_unique(h_email, key, |&k| hasher.hash_one(&users[k].email));
    }

    fn unlink_user(&mut self, key: UserKey, u: &User) {
        let h_name = self.hasher.hash_one(&u.username);
        let h_email = self.hasher.hash_one(&u.email);
        let found = self.by_username.find_entry(h_name, |&k| k == key);
        found.expect("username index entry").remove();
        let found = self.by_email.find_entry(h_email, |&k| k == key);
        found.expect("email index entry").remove();
    }

    /// Inserts a profile: its user must exist and have no profile yet.
    pub fn insert_profile(&mut self, p: Profile) -> Result<ProfileKey, (HandError, Profile)> {
        if !self.users.contains_key(p.user) {
            return Err((HandError::MissingParent("profiles.user_id"), p));
        }
        if self.profile_of.contains_key(p.user) {
            return Err((HandError::Unique("profiles.user_id"), p));
        }
        let user = p.user;
        let key = self.profiles.insert(p);
        self.profile_of.insert(user, key);
        self.log(Undo::Profile(key));
        Ok(key)
    }

    /// Inserts a post at the end of its user's list.
    pub fn insert_post(&mut self, p: Post) -> Result<PostKey, (HandError, Post)> {
        if !self.users.contains_key(p.user) {
            return Err((HandError::MissingParent("posts.user_id"), p));
        }
        let user = p.user;
        let key = self.posts.insert(p);
        self.children_mut(user).push(key);
        self.log(Undo::Post(key));
        Ok(key)
    }

    fn children_mut(&mut self, user: UserKey) -> &mut Vec<PostKey> {
        let entry = self.posts_of.entry(user).expect("live user");
        entry.or_default()
    }

    /// Inserts a group after checking its unique name.
    pub fn insert_group(&mut self, g: Group) -> Result<GroupKey, (HandError, Group)> {
        let hash = self.hasher.hash_one(&g.name);
        let groups = &self.groups;
        if self
            .by_group_name
            .find(hash, |&k| groups[k].name == g.name)
            .is_some()
        {
            return Err((HandError::Unique("groups.name"), g));
        }
        let key = self.groups.insert(g);
        let (groups, hasher) = (&self.groups, &self.hasher);
        self.by_group_name
            .insert_unique(hash, key, |&k| hasher.hash_one(&groups[k].name));
        Ok(key)
    }

    /// Inserts a membership: both ends must exist, and the pair must be new.
    pub fn insert_member(&mut self, user: UserKey, group: GroupKey, joined_on: i64) -> Result<(), HandError> {
        if !self.users.contains_key(user) {
            return Err(HandError::MissingParent("user_groups.user_id"));
        }
        if !self.groups.contains_key(group) {
            return Err(HandError::MissingParent("user_groups.group_id"));
        }
        let rows = self.memberships.entry(user).expect("live user").or_default();
        if rows.iter().any(|&(g, _)| g == group) {
            return Err(HandError::Unique("user_groups.(user_id, group_id)"));
        }
        rows.push((group, joined_on));
        let set = self.members.entry(group).expect("live group").or_default();
        set.insert(user);
        self.log(Undo::Member(user, group));
        Ok(())
    }

    /// The user holding `username`.
    pub fn find_user(&self, username: &str) -> Option<UserKey> {
        let hash = self.hasher.hash_one(username);
        let users = &self.users;
        self.by_username
            .find(hash, |&k| users[k].username == username)
            .copied()
    }

    /// A post's row.
    pub fn post(&self, key: PostKey) -> Option<&Post> {
        self.posts.get(key)
    }

    /// A user's posts, in link order.
    pub fn posts_of(&self, user: UserKey) -> &[PostKey] {
        self.posts_of.get(user).map_or(&[], Vec::as_slice)
    }

    /// A user's memberships: `(group, joined_on)`.
    pub fn groups_of(&self, user: UserKey) -> &[(GroupKey, i64)] {
        self.memberships.get(user).map_or(&[], Vec::as_slice)
    }

    /// The members of a group.
    pub fn members_of(&self, group: GroupKey) -> impl Iterator<Item = UserKey> + '_ {
        self.members.get(group).into_iter().flatten().copied()
    }

    /// Row counts: users, profiles, posts, groups, memberships.
    pub fn counts(&self) -> [usize; 5] {
        let members = self.memberships.values().map(Vec::len).sum();
        let (u, pr, po, g) = (
            self.users.len(),
            self.profiles.len(),
            self.posts.len(),
            self.groups.len(),
        );
        [u, pr, po, g, members]
    }
}
