//! The benchmark's blog schema for relata: the same tables, constraints and indexes as the
//! SQLite DDL in `sqlite_sys.rs`, no more (unlike `tests/common`, posts carry no title index
//! and no `unique(author, title)`).

use relata::{Entity, Key, Schema, Store};

/// `users(id, username UNIQUE, email UNIQUE)`.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "users")]
pub struct User {
    #[relata(unique)]
    pub username: String,
    #[relata(unique)]
    pub email: String,
}

/// `profiles(id, bio, user_id UNIQUE REFERENCES users ON DELETE CASCADE)`: one-to-one.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "profiles")]
pub struct Profile {
    pub bio: String,
    #[relata(unique, back = "profile", on_delete = "cascade")]
    pub user: Key<User>,
}

/// `posts(id, title, content, user_id REFERENCES users ON DELETE CASCADE)`: one-to-many.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "posts")]
pub struct Post {
    pub title: String,
    pub content: String,
    #[relata(back = "posts", on_delete = "cascade")]
    pub author: Key<User>,
}

/// `groups(id, name UNIQUE)`.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "groups")]
pub struct Group {
    #[relata(unique)]
    pub name: String,
}

/// `user_groups(user_id, group_id, joined_on, PRIMARY KEY(user_id, group_id))`, both keys
/// cascading: the association entity of the many-to-many.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "user_groups", unique(user, group))]
pub struct UserGroup {
    #[relata(back = "memberships", on_delete = "cascade")]
    pub user: Key<User>,
    #[relata(back = "members", on_delete = "cascade")]
    pub group: Key<Group>,
    pub joined_on: i64,
}

/// An empty store over the benchmark schema.
pub fn store() -> Store {
    let schema = Schema::builder()
        .entity::<User>()
        .entity::<Profile>()
        .entity::<Post>()
        .entity::<Group>()
        .entity::<UserGroup>()
        .build()
        .expect("the benchmark schema is valid");
    Store::new(schema)
}
