//! The baseline's snapshot: bincode 2 (serde, `config::standard()`) of the four arenas (slot
//! versions included) and the membership rows. Derived indexes are not serialized; `load`
//! rebuilds them, and that rebuild is part of the measured load.

use std::hash::BuildHasher;

use bincode::config::standard;
use serde::{Deserialize, Serialize};
use slotmap::{SecondaryMap, SlotMap};

use super::{Group, GroupKey, Hand, Post, PostKey, Profile, ProfileKey, User, UserKey};

type Members = SecondaryMap<UserKey, Vec<(GroupKey, i64)>>;

#[derive(Serialize)]
struct Saving<'a> {
    users: &'a SlotMap<UserKey, User>,
    profiles: &'a SlotMap<ProfileKey, Profile>,
    posts: &'a SlotMap<PostKey, Post>,
    groups: &'a SlotMap<GroupKey, Group>,
    memberships: &'a Members,
}

#[derive(Deserialize)]
struct Loading {
    users: SlotMap<UserKey, User>,
    profiles: SlotMap<ProfileKey, Profile>,
    posts: SlotMap<PostKey, Post>,
    groups: SlotMap<GroupKey, Group>,
    memberships: Members,
}

impl Hand {
    /// The ground truth as bytes.
    pub fn save(&self) -> Vec<u8> {
        let saving = Saving {
            users: &self.users,
            profiles: &self.profiles,
            posts: &self.posts,
            groups: &self.groups,
            memberships: &self.memberships,
        };
        bincode::serde::encode_to_vec(&saving, standard()).expect("encode snapshot")
    }

    /// A store from [`save`](Self::save)'s bytes, with every index rebuilt.
    pub fn load(bytes: &[u8]) -> Hand {
        let (l, _): (Loading, usize) = bincode::serde::decode_from_slice(bytes, standard()).expect("decode");
        let mut hand = Hand {
            users: l.users,
            profiles: l.profiles,
            posts: l.posts,
            groups: l.groups,
            memberships: l.memberships,
            ..Hand::default()
        };
        hand.rebuild();
        hand
    }

    fn rebuild(&mut self) {
        let (users, hasher) = (&self.users, &self.hasher);
        for (key, u) in users {
            let by_name = |&k: &UserKey| hasher.hash_one(&users[k].username);
            self.by_username
                .insert_unique(hasher.hash_one(&u.username), key, by_name);
            let by_email = |&k: &UserKey| hasher.hash_one(&users[k].email);
            self.by_email
                .insert_unique(hasher.hash_one(&u.email), key, by_email);
        }
        for (key, p) in &self.profiles {
            self.profile_of.insert(p.user, key);
        }
        for (key, p) in &self.posts {
            self.posts_of
                .entry(p.user)
                .expect("live user")
                .or_default()
                .push(key);
        }
        let (groups, hasher) = (&self.groups, &self.hasher);
        for (key, g) in groups {
            let hash = hasher.hash_one(&g.name);
            self.by_group_name
                .insert_unique(hash, key, |&k| hasher.hash_one(&groups[k].name));
        }
        for (user, rows) in &self.memberships {
            for &(group, _) in rows {
                self.members
                    .entry(group)
                    .expect("live group")
                    .or_default()
                    .insert(user);
            }
        }
    }
}
