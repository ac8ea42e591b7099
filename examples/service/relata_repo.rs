//! The same repository over relata.

use chrono::{DateTime, Utc};
use std::ops::Bound::Included;

use relata::{Column, Engine, Entity, Error, Key, Order, Schema, Store, Value};
use uuid::Uuid;

use crate::repo::{Account, Cursor, Id, PostRow, Repo, RepoError, Status};

/// An email address: its own type in the entity, stored as text.
#[derive(Column, Clone, Debug, PartialEq)]
pub struct Email(pub String);

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "users")]
pub struct User {
    #[relata(unique)]
    pub public_id: Uuid,
    #[relata(unique, max_len = 30)]
    pub username: String,
    #[relata(unique(nocase), max_len = 254)]
    pub email: Email,
    #[relata(index)]
    pub status: Status,
    pub created_at: DateTime<Utc>,
}

/// A post. `index(author, title, ordered)` serves an author's titles in alphabetical pages,
/// `index(author, created_at, ordered)` an author's newest posts; `created_at`'s own index
/// names the order of a feed (the newest posts of several authors).
#[derive(Entity, Clone, Debug, PartialEq)]
// clippy's duplicated_attributes takes the two indexes' shared leading `author` for a repeat.
#[allow(clippy::duplicated_attributes)]
#[relata(
    table = "posts",
    index(author, title, ordered),
    index(author, created_at, ordered)
)]
pub struct Post {
    pub title: String,
    pub body: String,
    #[relata(back = "posts", on_delete = "cascade")]
    pub author: Key<User>,
    #[relata(index)]
    pub created_at: DateTime<Utc>,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "groups")]
pub struct Group {
    #[relata(unique)]
    pub name: String,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "user_groups", unique(user, group))]
pub struct Membership {
    #[relata(back = "memberships", on_delete = "cascade")]
    pub user: Key<User>,
    #[relata(back = "members", on_delete = "cascade")]
    pub group: Key<Group>,
    pub joined_on: DateTime<Utc>,
}

pub struct RelataRepo {
    pub store: Store,
}

fn err(e: Error) -> RepoError {
    match e {
        Error::UniqueViolation { table, columns, .. } => {
            let cols: Vec<String> = columns.iter().map(|c| format!("{table}.{c}")).collect();
            RepoError::Duplicate(cols.join(", "))
        }
        Error::TooLong { table, column, .. } => RepoError::TooLong(format!("{table}.{column}")),
        Error::MissingTarget { .. } | Error::DeletedTarget { .. } => RepoError::Missing,
        other => RepoError::Other(other.to_string()),
    }
}

/// The example's schema: users, their posts, groups and memberships.
pub fn schema() -> Schema {
    Schema::builder()
        .entity::<User>()
        .entity::<Post>()
        .entity::<Group>()
        .entity::<Membership>()
        .build()
        .expect("schema")
}

/// The record that stores `a`.
pub fn user_of(a: &Account) -> User {
    User {
        public_id: a.public_id,
        username: a.username.clone(),
        email: Email(a.email.clone()),
        status: a.status,
        created_at: a.created_at,
    }
}

/// The account a stored user shows.
pub fn account_of(u: UserRef<'_>) -> Account {
    Account {
        public_id: u.public_id,
        username: u.username.to_string(),
        email: u.email.to_string(),
        status: u.status,
        created_at: u.created_at,
    }
}

impl RelataRepo {
    /// A repository imitating SQLite (relata's default profile).
    pub fn new() -> RelataRepo {
        RelataRepo::with_engine(Engine::Sqlite)
    }

    /// A repository imitating `engine` where SQLite and PostgreSQL differ.
    pub fn with_engine(engine: Engine) -> RelataRepo {
        RelataRepo {
            store: Store::with_engine(schema(), engine),
        }
    }
}

impl Repo for RelataRepo {
    fn engine(&self) -> Engine {
        self.store.engine()
    }
    fn create_user(&mut self, a: &Account) -> Result<Id, RepoError> {
        self.store.insert(user_of(a)).map(Key::to_u64).map_err(err)
    }
    fn find_by_email(&self, email: &str) -> Result<Option<Id>, RepoError> {
        let found = self.store.find_unique(User::BY_EMAIL, &Email(email.into()));
        Ok(found.map(Key::to_u64))
    }
    fn account(&self, user: Id) -> Result<Option<Account>, RepoError> {
        Ok(self.store.get(Key::<User>::from_u64(user)).map(account_of))
    }
    fn set_status(&mut self, user: Id, status: Status) -> Result<(), RepoError> {
        let key = Key::<User>::from_u64(user);
        self.store.update(key, |u| u.status = status).map_err(err)
    }
    fn find_user(&self, username: &str) -> Result<Option<Id>, RepoError> {
        Ok(self
            .store
            .find_unique(User::BY_USERNAME, username)
            .map(Key::to_u64))
    }
    fn delete_user(&mut self, user: Id) -> Result<(), RepoError> {
        self.store
            .delete(Key::<User>::from_u64(user))
            .map(drop)
            .map_err(err)
    }
    fn create_post(
        &mut self,
        author: Id,
        title: &str,
        body: &str,
        at: DateTime<Utc>,
    ) -> Result<Id, RepoError> {
        let post = Post {
            title: title.into(),
            body: body.into(),
            author: Key::from_u64(author),
            created_at: at,
        };
        self.store.insert(post).map(Key::to_u64).map_err(err)
    }
    fn post_titles(&self, author: Id) -> Result<Vec<String>, RepoError> {
        let s = &self.store;
        let posts = s.children(Post::AUTHOR, Key::from_u64(author));
        Ok(posts
            .filter_map(|p| s.get(p))
            .map(|p| p.title.to_string())
            .collect())
    }
    fn create_group(&mut self, name: &str) -> Result<Id, RepoError> {
        self.store
            .insert(Group { name: name.into() })
            .map(Key::to_u64)
            .map_err(err)
    }
    fn join(&mut self, user: Id, group: Id, joined_on: DateTime<Utc>) -> Result<(), RepoError> {
        let m = Membership {
            user: Key::from_u64(user),
            group: Key::from_u64(group),
            joined_on,
        };
        self.store.insert(m).map(drop).map_err(err)
    }
    fn member_names(&self, group: Id) -> Result<Vec<String>, RepoError> {
        let s = &self.store;
        let users = s.through(Membership::GROUP, Membership::USER, Key::from_u64(group));
        Ok(users
            .filter_map(|u| s.get(u))
            .map(|u| u.username.to_string())
            .collect())
    }
    fn count_posts(&self) -> Result<usize, RepoError> {
        Ok(self.store.count::<Post>())
    }
    fn title_page(&self, author: Id, offset: usize, limit: usize) -> Result<Vec<String>, RepoError> {
        let s = &self.store;
        let author = Key::<User>::from_u64(author);
        let page = s
            .prefix(Post::BY_AUTHOR_TITLE, &[author.into()])
            .map_err(err)?
            .skip(offset)
            .take(limit);
        Ok(page
            .filter_map(|p| s.get(p))
            .map(|p| p.title.to_string())
            .collect())
    }
    fn save_user(&mut self, a: &Account) -> Result<Id, RepoError> {
        let user = user_of(a);
        let email = Email(a.email.clone());
        let saved = self
            .store
            .upsert_with(User::BY_USERNAME, user, |u| u.email = email)
            .map_err(err)?;
        Ok(saved.key().to_u64())
    }
    /// A reversed walk of `(author, created_at)` from the cursor's time: O(log n + the rows
    /// tied with the cursor + limit).
    fn newest_posts(
        &self,
        author: Id,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<PostRow>, RepoError> {
        let s = &self.store;
        let author: Value<'_> = Key::<User>::from_u64(author).into();
        let by = Post::BY_AUTHOR_CREATED_AT;
        let Some(c) = after else {
            return Ok(rows(s, s.prefix(by, &[author]).map_err(err)?.rev().take(limit)));
        };
        let upto = [author, c.created_at.into()];
        let upto = s
            .range_values(by, Included(&[author]), Included(&upto[..]))
            .map_err(err)?;
        // Rows at the cursor's own time come first, highest key first: skip those shown.
        let shown = |k: &Key<Post>| {
            *k >= Key::from_u64(c.id) && s.get(*k).is_some_and(|p| p.created_at == c.created_at)
        };
        Ok(rows(s, upto.rev().skip_while(shown).take(limit)))
    }
    /// One query: the posts of the group's members, ordered through `created_at`'s index,
    /// after the cursor, limited. O(k) for the members' k posts.
    fn group_feed(&self, group: Id, after: Option<Cursor>, limit: usize) -> Result<Vec<PostRow>, RepoError> {
        let s = &self.store;
        let posts = s
            .query_keys([Key::<Group>::from_u64(group)])
            .through(Membership::GROUP, Membership::USER)
            .children(Post::AUTHOR)
            .order_by(Post::BY_CREATED_AT, Order::Desc);
        let page = match after {
            Some(c) => posts
                .after(Key::from_u64(c.id), &[c.created_at.into()])
                .map_err(err)?,
            None => posts,
        };
        Ok(rows(s, page.limit(limit).keys()))
    }
    fn ensure_group(&mut self, name: &str) -> Result<Id, RepoError> {
        let group = Group { name: name.into() };
        let found = self.store.insert_if_absent(Group::BY_NAME, group);
        found.map(|g| g.key().to_u64()).map_err(err)
    }
    fn join_if_absent(&mut self, user: Id, group: Id, joined_on: DateTime<Utc>) -> Result<bool, RepoError> {
        let m = Membership {
            user: Key::from_u64(user),
            group: Key::from_u64(group),
            joined_on,
        };
        let joined = self.store.insert_if_absent(Membership::BY_USER_GROUP, m);
        joined.map(|m| m.inserted()).map_err(err)
    }
}

/// The rows of these posts, in this order.
fn rows(s: &Store, posts: impl IntoIterator<Item = Key<Post>>) -> Vec<PostRow> {
    let row = |k: Key<Post>| {
        s.get(k).map(|p| PostRow {
            id: k.to_u64(),
            title: p.title.to_string(),
            created_at: p.created_at,
        })
    };
    posts.into_iter().filter_map(row).collect()
}
