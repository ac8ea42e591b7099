//! One entity per SQLAlchemy configuration of the scenarios in `docs/SEMANTICS.md` §14, so
//! each scenario can pick the relationship policy it is about.

use relata::{Entity, Key, ManyToMany, Schema, Store};

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "users")]
pub struct User {
    #[relata(unique)]
    pub name: String,
}

/// One-to-one, nullable, default cascade (nullify).
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "profiles")]
pub struct Profile {
    pub bio: String,
    #[relata(unique, back = "profile", on_delete = "set_null")]
    pub user: Option<Key<User>>,
}

/// One-to-one, NOT NULL, default cascade.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "required_profiles")]
pub struct RequiredProfile {
    pub bio: String,
    #[relata(unique, back = "required_profile")]
    pub user: Key<User>,
}

/// One-to-one, `cascade="all, delete-orphan"`.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "owned_profiles")]
pub struct OwnedProfile {
    pub bio: String,
    #[relata(unique, back = "owned_profile", on_delete = "cascade", orphan)]
    pub user: Option<Key<User>>,
}

/// One-to-many, nullable, default cascade (nullify).
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "posts")]
pub struct Post {
    pub title: String,
    #[relata(back = "posts", on_delete = "set_null")]
    pub author: Option<Key<User>>,
}

/// One-to-many, NOT NULL, default cascade.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "required_posts")]
pub struct RequiredPost {
    pub title: String,
    #[relata(back = "required_posts")]
    pub author: Key<User>,
}

/// One-to-many, `cascade="all, delete-orphan"`.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "owned_posts")]
pub struct OwnedPost {
    pub title: String,
    #[relata(back = "owned_posts", on_delete = "cascade", orphan)]
    pub author: Option<Key<User>>,
}

/// One-to-many with `order_by = title`.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "sorted_posts")]
pub struct SortedPost {
    pub title: String,
    #[relata(back = "sorted_posts", on_delete = "cascade", order_by = "title")]
    pub author: Key<User>,
}

/// Composite unique `uq_post_user_title` with a nullable part.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "titled_posts", unique(author, title, name = "uq_post_user_title"))]
pub struct TitledPost {
    pub title: String,
    #[relata(back = "titled_posts", on_delete = "cascade")]
    pub author: Option<Key<User>>,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "groups")]
pub struct Group {
    #[relata(unique)]
    pub name: String,
}

/// The association object, as the tutorial recommends: cascade from both ends.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "user_groups", unique(user, group))]
pub struct UserGroup {
    #[relata(back = "user_groups", on_delete = "cascade")]
    pub user: Key<User>,
    #[relata(back = "user_groups", on_delete = "cascade")]
    pub group: Key<Group>,
    pub joined_on: i64,
}

/// The association object with SQLAlchemy's default cascade (which cannot null a key column).
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "plain_memberships", unique(user, group))]
pub struct PlainMembership {
    #[relata(back = "plain_memberships")]
    pub user: Key<User>,
    #[relata(back = "plain_memberships")]
    pub group: Key<Group>,
    pub joined_on: i64,
}

/// The plain `secondary` table.
pub const USER_GROUP_LINKS: ManyToMany<User, Group> = ManyToMany::new("user_group_links", "groups", "users");

/// Adjacency list, cascade on delete, no cycles.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "nodes")]
pub struct Node {
    pub name: String,
    #[relata(back = "children", on_delete = "cascade", acyclic)]
    pub parent: Option<Key<Node>>,
}

/// Adjacency list with the default cascade (direct children become roots).
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "loose_nodes")]
pub struct LooseNode {
    pub name: String,
    #[relata(back = "children", on_delete = "set_null", acyclic)]
    pub parent: Option<Key<LooseNode>>,
}

pub fn store() -> Store {
    let schema = Schema::builder()
        .entity::<User>()
        .entity::<Profile>()
        .entity::<RequiredProfile>()
        .entity::<OwnedProfile>()
        .entity::<Post>()
        .entity::<RequiredPost>()
        .entity::<OwnedPost>()
        .entity::<SortedPost>()
        .entity::<TitledPost>()
        .entity::<Group>()
        .entity::<UserGroup>()
        .entity::<PlainMembership>()
        .entity::<Node>()
        .entity::<LooseNode>()
        .relation(USER_GROUP_LINKS)
        .build()
        .expect("semantics schema");
    Store::new(schema)
}

pub fn user(s: &mut Store, name: &str) -> Key<User> {
    s.insert(User { name: name.into() }).expect("insert user")
}

pub fn group(s: &mut Store, name: &str) -> Key<Group> {
    s.insert(Group { name: name.into() }).expect("insert group")
}
