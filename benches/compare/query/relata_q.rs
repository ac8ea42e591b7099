//! relata under test for the query operations: the public API only.

use std::mem::take;

use relata::{Entity, Key, ManyToMany, Order, Schema, Store, Upserted};

use super::{email, title, QData, QSys, Tally, UpsertRow, NEWEST, PAGE, POSTS, RANGE};

/// `users(id, email UNIQUE, name, visits)`.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "users")]
pub struct User {
    #[relata(unique)]
    pub email: String,
    pub name: String,
    pub visits: i64,
}

/// `posts(id, user_id, created_at, title)`, indexed by `(user_id, created_at)` and by
/// `created_at`, both ordered.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "posts", index(author, created_at, ordered))]
pub struct Post {
    #[relata(back = "posts", on_delete = "cascade")]
    pub author: Key<User>,
    #[relata(index(ordered))]
    pub created_at: i64,
    pub title: String,
}

/// `groups(id, name UNIQUE)`.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "groups")]
pub struct Group {
    #[relata(unique)]
    pub name: String,
}

/// `user_groups(user_id, group_id)`.
pub const MEMBERS: ManyToMany<User, Group> = ManyToMany::new("user_groups", "groups", "members");

impl QSys for Store {
    const NAME: &'static str = "relata";
    type User = Key<User>;
    type Group = Key<Group>;

    fn load(data: &QData) -> (Store, Vec<Key<User>>, Vec<Key<Group>>) {
        let schema = Schema::builder()
            .entity::<User>()
            .entity::<Post>()
            .entity::<Group>()
            .relation(MEMBERS)
            .build()
            .expect("the query schema is valid");
        let mut s = Store::new(schema);
        let groups: Vec<Key<Group>> = (0..super::GROUPS)
            .map(|g| {
                s.insert(Group {
                    name: format!("group{g}"),
                })
                .expect("insert group")
            })
            .collect();
        let mut users = Vec::with_capacity(data.users);
        for i in 0..data.users {
            let user = User {
                email: email(i),
                name: format!("user{i}"),
                visits: 0,
            };
            let u = s.insert(user).expect("insert user");
            for j in 0..POSTS {
                let post = Post {
                    author: u,
                    created_at: data.times[POSTS * i + j],
                    title: title(i, j),
                };
                s.insert(post).expect("insert post");
            }
            for &g in &data.groups[i] {
                s.link(MEMBERS, u, groups[g as usize]).expect("link member");
            }
            users.push(u);
        }
        (s, users, groups)
    }

    fn user_count(&mut self) -> usize {
        self.count::<User>()
    }

    fn newest_posts(&mut self, users: &[Key<User>]) -> Tally {
        let mut t = Tally::default();
        // One view for the loop, as the docs tell a loop over many records to read.
        let posts = self.records::<Post>();
        for &u in users {
            // A key for the key column: the bound always fits.
            let Ok(newest) = self.prefix(Post::BY_AUTHOR_CREATED_AT, &[u.into()]) else {
                continue;
            };
            for post in newest.rev().take(NEWEST) {
                if let Some(p) = posts.get(post) {
                    t.row(p.created_at, p.title.as_str());
                }
            }
        }
        t
    }

    fn range_scan(&mut self, starts: &[i64]) -> Tally {
        let mut t = Tally::default();
        let posts = self.records::<Post>();
        for &from in starts {
            for post in self.range(Post::BY_CREATED_AT, from..).take(RANGE) {
                if let Some(p) = posts.get(post) {
                    t.row(p.created_at, p.title.as_str());
                }
            }
        }
        t
    }

    fn keyset_page(&mut self, cursors: &[i64]) -> Tally {
        let mut t = Tally::default();
        // No post has the cursor's time, so the cursor's key decides nothing.
        let any = Key::from_u64(0);
        for &before in cursors {
            let page = self
                .query::<Post>()
                .order_by(Post::BY_CREATED_AT, Order::Desc)
                .after(any, &[before.into()])
                .expect("a time cursor")
                .limit(PAGE);
            for (_, p) in page.iter() {
                t.row(p.created_at, p.title.as_str());
            }
        }
        t
    }

    fn feed_page(&mut self, groups: &[Key<Group>]) -> Tally {
        let mut t = Tally::default();
        for &g in groups {
            let page = self
                .query_keys([g])
                .lefts(MEMBERS)
                .children(Post::AUTHOR)
                .order_by(Post::BY_CREATED_AT, Order::Desc)
                .limit(PAGE);
            for (_, p) in page.iter() {
                t.row(p.created_at, p.title.as_str());
            }
        }
        t
    }

    fn upsert(&mut self, rows: &mut [UpsertRow]) -> usize {
        let mut inserted = 0;
        for row in rows {
            let user = User {
                email: take(&mut row.email),
                name: take(&mut row.name),
                visits: row.visits,
            };
            let done = self.upsert(User::BY_EMAIL, user).expect("upsert");
            inserted += matches!(done, Upserted::Inserted(_)) as usize;
        }
        inserted
    }
}
