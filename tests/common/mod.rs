//! The blog schema of the seed tutorials, shared by every suite, plus assertion helpers.

#![allow(dead_code)]

use relata::{Entity, Error, Key, Schema, Store};

pub mod pg;

/// SQLAlchemy's `User`: unique username and email.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "users")]
pub struct User {
    #[relata(unique)]
    pub username: String,
    #[relata(unique)]
    pub email: String,
}

/// One-to-one with users (a UNIQUE foreign key), deleted with its user.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "profiles")]
pub struct Profile {
    pub bio: String,
    #[relata(unique, back = "profile", on_delete = "cascade")]
    pub user: Key<User>,
}

/// One-to-one with an optional owner: the address survives its user (SET NULL).
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "addresses")]
pub struct Address {
    pub email_address: String,
    #[relata(unique, back = "address", on_delete = "set_null")]
    pub user: Option<Key<User>>,
}

/// One-to-many: `cascade="all, delete-orphan"`.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "posts", unique(author, title, name = "uq_post_user_title"))]
pub struct Post {
    #[relata(index)]
    pub title: String,
    pub content: String,
    #[relata(back = "posts", on_delete = "cascade", orphan)]
    pub author: Key<User>,
}

/// Comments restrict the deletion of their post (the default action).
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "comments")]
pub struct Comment {
    pub body: String,
    #[relata(back = "comments")]
    pub post: Key<Post>,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "groups")]
pub struct Group {
    #[relata(unique)]
    pub name: String,
}

/// The association object with its own data.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "user_groups", unique(user, group))]
pub struct UserGroup {
    #[relata(back = "memberships", on_delete = "cascade")]
    pub user: Key<User>,
    #[relata(back = "members", on_delete = "cascade")]
    pub group: Key<Group>,
    pub joined_on: i64,
}

/// A self-referential tree.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "nodes")]
pub struct Node {
    pub name: String,
    #[relata(back = "children", on_delete = "cascade", acyclic)]
    pub parent: Option<Key<Node>>,
}

/// A self-reference where cycles are allowed (as in SQL): an employee's manager.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "employees")]
pub struct Employee {
    pub name: String,
    #[relata(back = "reports", on_delete = "cascade")]
    pub manager: Option<Key<Employee>>,
}

/// A deferrable unique constraint: two handles may swap names inside a transaction.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "handles")]
pub struct Handle {
    #[relata(unique(deferrable))]
    pub name: String,
}

/// A deferrable one-to-one slot: the new badge may be created before the old one is deleted.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "badges")]
pub struct Badge {
    pub label: String,
    #[relata(unique(deferrable), back = "badge", on_delete = "cascade")]
    pub user: Key<User>,
}

/// A deferrable restriction: a folder may be deleted if its files move out before commit.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "folders")]
pub struct Folder {
    pub name: String,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "files")]
pub struct File {
    pub name: String,
    #[relata(back = "files", deferrable)]
    pub folder: Key<Folder>,
}

/// Composite unique with a nullable part, and a composite index.
#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "tags", unique(name, scope), index(scope, weight))]
pub struct Tag {
    pub name: Option<String>,
    pub scope: String,
    pub weight: i32,
}

pub fn schema() -> Schema {
    Schema::builder()
        .entity::<User>()
        .entity::<Profile>()
        .entity::<Address>()
        .entity::<Post>()
        .entity::<Comment>()
        .entity::<Group>()
        .entity::<UserGroup>()
        .entity::<Node>()
        .entity::<Tag>()
        .entity::<Employee>()
        .entity::<Handle>()
        .entity::<Badge>()
        .entity::<Folder>()
        .entity::<File>()
        .build()
        .expect("the blog schema is valid")
}

pub fn store() -> Store {
    Store::new(schema())
}

/// A store under `Engine::Postgres`: deferrable uniques wait for commit, cascades have no
/// depth limit.
pub fn postgres_store() -> Store {
    Store::with_engine(schema(), relata::Engine::Postgres)
}

pub fn user(name: &str) -> User {
    User {
        username: name.into(),
        email: format!("{name}@example.com"),
    }
}

pub fn post(author: Key<User>, title: &str) -> Post {
    Post {
        title: title.into(),
        content: format!("content of {title}"),
        author,
    }
}

/// Runs a failing operation and asserts it returned `expected` and changed nothing.
#[track_caller]
pub fn assert_fails_unchanged<T: std::fmt::Debug>(
    store: &mut Store,
    expected: &Error,
    op: impl FnOnce(&mut Store) -> Result<T, Error>,
) {
    let before = store.clone();
    let hidden = store.hidden_state();
    match op(store) {
        Err(e) => assert_eq!(&e, expected, "wrong error"),
        Ok(v) => panic!("expected {expected:?}, got Ok({v:?})"),
    }
    assert!(*store == before, "a failed operation changed the store");
    assert_eq!(
        store.hidden_state(),
        hidden,
        "a failed operation left text in a heap or entries in the journal"
    );
    store
        .check_integrity()
        .expect("integrity after a failed operation");
}

/// Runs an operation that must succeed, then checks integrity.
#[track_caller]
pub fn ok<T>(store: &mut Store, op: impl FnOnce(&mut Store) -> Result<T, Error>) -> T {
    let v = op(store).expect("operation should succeed");
    store
        .check_integrity()
        .expect("integrity after a successful operation");
    v
}

/// Factories for the blog schema: unique names from sequences, parents from their factories.
pub fn factories() -> relata::Factories {
    relata::Factories::new()
        .define(|c| {
            Ok(User {
                username: format!("user{}", c.n()),
                email: String::new(),
            })
        })
        .computed(
            |u: &mut User| &mut u.email,
            |u| format!("{}@example.com", u.username),
        )
        .define(|c| {
            Ok(Profile {
                bio: "hi".into(),
                user: c.parent(Profile::USER)?,
            })
        })
        .define(|c| {
            Ok(Post {
                title: format!("post {}", c.n()),
                content: "body".into(),
                author: c.parent(Post::AUTHOR)?,
            })
        })
        .define(|c| {
            Ok(Comment {
                body: "nice".into(),
                post: c.parent(Comment::POST)?,
            })
        })
        .define(|c| {
            Ok(Group {
                name: format!("group{}", c.n()),
            })
        })
        .define(|c| {
            Ok(UserGroup {
                user: c.parent(UserGroup::USER)?,
                group: c.parent(UserGroup::GROUP)?,
                joined_on: c.n() as i64,
            })
        })
        .define(|c| {
            Ok(Node {
                name: format!("node{}", c.n()),
                parent: None,
            })
        })
}
