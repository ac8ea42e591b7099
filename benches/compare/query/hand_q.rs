//! The hand-written baseline for the query operations: slotmap arenas and the structures a
//! programmer would write for exactly these reads. Each user's posts sit in a `Vec` sorted by
//! `(created_at, post)` (a binary-search insert), all posts in a `BTreeSet` by the same pair,
//! each group's members in a `Vec`, emails in a `HashTable` hashing through the arena. Every
//! write checks its foreign keys and unique email first.

use std::collections::{BTreeSet, BinaryHeap};
use std::hash::BuildHasher;
use std::mem::take;
use std::ops::Bound::{Excluded, Unbounded};

use hashbrown::{DefaultHashBuilder, HashTable};
use slotmap::{new_key_type, Key as _, SecondaryMap, SlotMap};

use super::{email, title, QData, QSys, Tally, UpsertRow, NEWEST, PAGE, POSTS, RANGE};

new_key_type! {
    /// A user's key.
    pub struct UserKey;
    /// A post's key.
    pub struct PostKey;
    /// A group's key.
    pub struct GroupKey;
}

/// `users` row.
pub struct User {
    pub email: String,
    pub name: String,
    pub visits: i64,
}

/// `posts` row.
pub struct Post {
    pub user: UserKey,
    pub created_at: i64,
    pub title: String,
}

/// The whole store.
#[derive(Default)]
pub struct HandQ {
    users: SlotMap<UserKey, User>,
    posts: SlotMap<PostKey, Post>,
    groups: SlotMap<GroupKey, String>,
    hasher: DefaultHashBuilder,
    by_email: HashTable<UserKey>,
    /// Each user's posts by `(created_at, post)`.
    posts_of: SecondaryMap<UserKey, Vec<(i64, PostKey)>>,
    /// Every post by `(created_at, post)`.
    by_time: BTreeSet<(i64, PostKey)>,
    /// Each group's members, in join order.
    members: SecondaryMap<GroupKey, Vec<UserKey>>,
}

impl HandQ {
    fn find_email(&self, email: &str) -> Option<UserKey> {
        let users = &self.users;
        let hash = self.hasher.hash_one(email);
        self.by_email.find(hash, |&k| users[k].email == email).copied()
    }

    fn insert_user(&mut self, u: User) -> Result<UserKey, User> {
        if self.find_email(&u.email).is_some() {
            return Err(u);
        }
        let hash = self.hasher.hash_one(&u.email);
        Ok(self.add_user(hash, u))
    }

    /// Adds a user whose email (hashing to `hash`) is known to be free.
    fn add_user(&mut self, hash: u64, u: User) -> UserKey {
        let key = self.users.insert(u);
        let (users, hasher) = (&self.users, &self.hasher);
        self.by_email
            .insert_unique(hash, key, |&k| hasher.hash_one(&users[k].email));
        key
    }

    fn insert_post(&mut self, p: Post) -> Option<PostKey> {
        if !self.users.contains_key(p.user) {
            return None;
        }
        let list = self.posts_of.entry(p.user)?.or_default();
        let at = p.created_at;
        let key = self.posts.insert(p);
        let pos = list.partition_point(|&e| e < (at, key));
        list.insert(pos, (at, key));
        self.by_time.insert((at, key));
        Some(key)
    }

    fn insert_member(&mut self, user: UserKey, group: GroupKey) -> Option<()> {
        if !self.users.contains_key(user) {
            return None;
        }
        let list = self.members.entry(group)?.or_default();
        if list.contains(&user) {
            return None;
        }
        list.push(user);
        Some(())
    }
}

impl QSys for HandQ {
    const NAME: &'static str = "baseline";
    type User = UserKey;
    type Group = GroupKey;

    fn load(data: &QData) -> (HandQ, Vec<UserKey>, Vec<GroupKey>) {
        let mut h = HandQ::default();
        let groups: Vec<GroupKey> = (0..super::GROUPS)
            .map(|g| h.groups.insert(format!("group{g}")))
            .collect();
        let mut users = Vec::with_capacity(data.users);
        for i in 0..data.users {
            let user = User {
                email: email(i),
                name: format!("user{i}"),
                visits: 0,
            };
            let u = h.insert_user(user).ok().expect("insert user");
            for j in 0..POSTS {
                let post = Post {
                    user: u,
                    created_at: data.times[POSTS * i + j],
                    title: title(i, j),
                };
                h.insert_post(post).expect("insert post");
            }
            for &g in &data.groups[i] {
                h.insert_member(u, groups[g as usize]).expect("insert member");
            }
            users.push(u);
        }
        (h, users, groups)
    }

    fn user_count(&mut self) -> usize {
        self.users.len()
    }

    fn newest_posts(&mut self, users: &[UserKey]) -> Tally {
        let mut t = Tally::default();
        for &u in users {
            let list = self.posts_of.get(u).map_or(&[][..], Vec::as_slice);
            for &(_, post) in list.iter().rev().take(NEWEST) {
                if let Some(p) = self.posts.get(post) {
                    t.row(p.created_at, &p.title);
                }
            }
        }
        t
    }

    fn range_scan(&mut self, starts: &[i64]) -> Tally {
        let mut t = Tally::default();
        for &from in starts {
            // Past every `(from - 1, key)`: the null key sorts after every real one.
            for &(_, post) in self
                .by_time
                .range((Excluded((from - 1, PostKey::null())), Unbounded))
                .take(RANGE)
            {
                if let Some(p) = self.posts.get(post) {
                    t.row(p.created_at, &p.title);
                }
            }
        }
        t
    }

    fn keyset_page(&mut self, cursors: &[i64]) -> Tally {
        let mut t = Tally::default();
        for &before in cursors {
            // Below every `(before, key)`: the null key sorts after every real one, and no
            // post has the time `before`.
            for &(_, post) in self
                .by_time
                .range((Unbounded, Excluded((before, PostKey::null()))))
                .rev()
                .take(PAGE)
            {
                if let Some(p) = self.posts.get(post) {
                    t.row(p.created_at, &p.title);
                }
            }
        }
        t
    }

    fn feed_page(&mut self, groups: &[GroupKey]) -> Tally {
        let mut t = Tally::default();
        for &g in groups {
            // A k-way merge: each member's newest post not yet taken, in a heap.
            let members = self.members.get(g).map_or(&[][..], Vec::as_slice);
            let lists: Vec<&[(i64, PostKey)]> = members
                .iter()
                .filter_map(|&u| self.posts_of.get(u).map(Vec::as_slice))
                .collect();
            let mut heap: BinaryHeap<(i64, PostKey, usize)> = lists
                .iter()
                .enumerate()
                .filter_map(|(m, l)| l.last().map(|&(at, p)| (at, p, m)))
                .collect();
            let mut left: Vec<usize> = lists.iter().map(|l| l.len().saturating_sub(1)).collect();
            for _ in 0..PAGE {
                let Some((_, post, m)) = heap.pop() else { break };
                if let Some(p) = self.posts.get(post) {
                    t.row(p.created_at, &p.title);
                }
                if left[m] > 0 {
                    left[m] -= 1;
                    let (at, p) = lists[m][left[m]];
                    heap.push((at, p, m));
                }
            }
        }
        t
    }

    fn upsert(&mut self, rows: &mut [UpsertRow]) -> usize {
        let mut inserted = 0;
        for row in rows {
            let hash = self.hasher.hash_one(&row.email);
            let users = &self.users;
            match self
                .by_email
                .find(hash, |&k| users[k].email == row.email)
                .copied()
            {
                Some(k) => {
                    let u = &mut self.users[k];
                    u.name = take(&mut row.name);
                    u.visits = row.visits;
                }
                None => {
                    let user = User {
                        email: take(&mut row.email),
                        name: take(&mut row.name),
                        visits: row.visits,
                    };
                    self.add_user(hash, user);
                    inserted += 1;
                }
            }
        }
        inserted
    }
}
