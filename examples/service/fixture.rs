//! The suite's test data, made by relata's factories and loaded into whichever repository the
//! suite runs on. A case says only what it cares about (whose post, which group); the
//! factories fill in the rest (unique names and emails, ids, times, the author a post needs,
//! the user and group a membership needs) on a relata fixture store, which checks every
//! constraint as it is built. [`Given::load`] then writes the records through the `Repo` trait,
//! so SQLite and PostgreSQL get the same data as relata.

use std::collections::HashMap;

use chrono::TimeDelta;
use relata::{Entity, Factories, Key, Store};
use uuid::Uuid;

use crate::relata_repo::{account_of, schema, Email, Group, Membership, Post, User};
use crate::repo::{Id, Repo, Status};
use crate::service::Blog;
use crate::suite::epoch;

/// Public ids of factory users: far above the ones the service's clock hands out (from 1).
const FACTORY_IDS: u128 = 1 << 64;

/// The example schema's factories.
pub fn factories() -> Factories {
    Factories::new()
        .define(|c| {
            Ok(User {
                public_id: Uuid::from_u128(FACTORY_IDS + u128::from(c.n())),
                username: format!("user{}", c.n()),
                email: Email(String::new()),
                status: Status::Active,
                created_at: epoch(),
            })
        })
        .computed(
            |u: &mut User| &mut u.email,
            |u| Email(format!("{}@example.com", u.username)),
        )
        .define(|c| {
            Ok(Post {
                title: format!("post {}", c.n()),
                body: String::new(),
                author: c.parent(Post::AUTHOR)?,
                created_at: epoch() + TimeDelta::minutes(c.n() as i64),
            })
        })
        .define(|c| {
            Ok(Group {
                name: format!("group{}", c.n()),
            })
        })
        .define(|c| {
            let (user, group) = (c.parent(Membership::USER)?, c.parent(Membership::GROUP)?);
            let joined_on = epoch() + TimeDelta::minutes(c.n() as i64);
            Ok(Membership {
                user,
                group,
                joined_on,
            })
        })
}

/// A case's data before it is loaded: the factories and the relata store they fill.
pub struct Given {
    pub f: Factories,
    pub s: Store,
}

impl Given {
    pub fn new() -> Given {
        Given {
            f: factories(),
            s: Store::new(schema()),
        }
    }

    /// A record of `E` with its factory's defaults (and new parents).
    pub fn create<E: Entity + Clone>(&mut self) -> Key<E> {
        self.f.create::<E>(&mut self.s).unwrap()
    }

    /// A user named `name` (its email `name@example.com`).
    pub fn user(&mut self, name: &str) -> Key<User> {
        let named = self.f.build::<User>().with(|u| u.username = name.into());
        named.create(&mut self.s).unwrap()
    }

    /// Posts by `author` with these titles, in this order.
    pub fn posts<const N: usize>(&mut self, author: Key<User>, titles: [&str; N]) -> [Key<Post>; N] {
        titles.map(|title| {
            let post = self.f.build::<Post>().parent(Post::AUTHOR, author);
            let titled = post.with(move |p| p.title = title.into());
            titled.create(&mut self.s).unwrap()
        })
    }

    /// Memberships of `group` for these users, joined in this order.
    pub fn members<const N: usize>(
        &mut self,
        group: Key<Group>,
        users: [Key<User>; N],
    ) -> [Key<Membership>; N] {
        users.map(|user| {
            let m = self.f.build::<Membership>().parent(Membership::GROUP, group);
            m.parent(Membership::USER, user).create(&mut self.s).unwrap()
        })
    }

    /// Writes every record into `blog`'s repository through the `Repo` trait, parents first,
    /// each table in the order its records were made; returns the repository's ids.
    pub fn load<R: Repo>(self, blog: &mut Blog<R>) -> Ids {
        let (s, repo) = (&self.s, &mut blog.repo);
        let mut ids = Ids::default();
        for (k, u) in s.iter::<User>() {
            ids.insert(k, repo.create_user(&account_of(u)).unwrap());
        }
        for (k, g) in s.iter::<Group>() {
            ids.insert(k, repo.create_group(&g.name).unwrap());
        }
        for (k, p) in s.iter::<Post>() {
            let author = ids.get(p.author);
            ids.insert(
                k,
                repo.create_post(author, &p.title, &p.body, p.created_at).unwrap(),
            );
        }
        for (_, m) in s.iter::<Membership>() {
            let (user, group) = (ids.get(m.user), ids.get(m.group));
            repo.join(user, group, m.joined_on).unwrap();
        }
        ids
    }
}

/// The repository's id of each fixture record.
#[derive(Default)]
pub struct Ids(HashMap<(&'static str, u64), Id>);

impl Ids {
    fn insert<E: Entity>(&mut self, key: Key<E>, id: Id) {
        self.0.insert((E::DEF.type_name, key.to_u64()), id);
    }

    /// The id `key`'s record was loaded under.
    pub fn get<E: Entity>(&self, key: Key<E>) -> Id {
        self.0[&(E::DEF.type_name, key.to_u64())]
    }
}
