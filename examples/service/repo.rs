//! The repository trait the service is written against, and its error.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// An account's state: stored as text (`'active'`, `'suspended'`) by both repositories.
#[derive(relata::Column, Clone, Copy, Debug, PartialEq, Eq)]
#[relata(rename_all = "lowercase")]
pub enum Status {
    Active,
    Suspended,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Suspended => "suspended",
        }
    }
}

/// What the service shows of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub public_id: Uuid,
    pub username: String,
    pub email: String,
    pub status: Status,
    pub created_at: DateTime<Utc>,
}

/// A record id as the service sees it (a SQLite rowid, or a relata key's `u64`).
pub type Id = u64;

/// A post as the list endpoints show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRow {
    pub id: Id,
    pub title: String,
    pub created_at: DateTime<Utc>,
}

/// The last row of a newest-first page: the next page is the rows after it in the order
/// `created_at DESC, id DESC` (keyset pagination: stable while posts are added or removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: Id,
}

impl PostRow {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            created_at: self.created_at,
            id: self.id,
        }
    }
}

/// What a repository can report, whatever the database behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoError {
    /// A unique constraint refused the write (the column, as the database names it).
    Duplicate(String),
    /// A value is longer than its column allows (the column, as `table.column`).
    TooLong(String),
    /// A referenced record does not exist.
    Missing,
    /// Anything else, as text.
    Other(String),
}

/// The data-access layer of the blog service.
pub trait Repo {
    /// The database whose behaviour this repository has where SQLite and PostgreSQL differ.
    fn engine(&self) -> relata::Engine;
    fn create_user(&mut self, account: &Account) -> Result<Id, RepoError>;
    fn find_user(&self, username: &str) -> Result<Option<Id>, RepoError>;
    /// The account holding `email`, whatever its case.
    fn find_by_email(&self, email: &str) -> Result<Option<Id>, RepoError>;
    fn account(&self, user: Id) -> Result<Option<Account>, RepoError>;
    fn set_status(&mut self, user: Id, status: Status) -> Result<(), RepoError>;
    fn delete_user(&mut self, user: Id) -> Result<(), RepoError>;
    fn create_post(
        &mut self,
        author: Id,
        title: &str,
        body: &str,
        at: DateTime<Utc>,
    ) -> Result<Id, RepoError>;
    fn post_titles(&self, author: Id) -> Result<Vec<String>, RepoError>;
    fn create_group(&mut self, name: &str) -> Result<Id, RepoError>;
    fn join(&mut self, user: Id, group: Id, joined_on: DateTime<Utc>) -> Result<(), RepoError>;
    fn member_names(&self, group: Id) -> Result<Vec<String>, RepoError>;
    fn count_posts(&self) -> Result<usize, RepoError>;
    /// One page of an author's post titles in alphabetical order (ties by id/key).
    fn title_page(&self, author: Id, offset: usize, limit: usize) -> Result<Vec<String>, RepoError>;
    /// Creates the user, or changes only the email of the user with this username.
    fn save_user(&mut self, account: &Account) -> Result<Id, RepoError>;
    /// At most `limit` of an author's posts, newest first (ties: higher id first), after `after`.
    fn newest_posts(
        &self,
        author: Id,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<PostRow>, RepoError>;
    /// At most `limit` posts by the members of `group`, in the order of `newest_posts`.
    fn group_feed(&self, group: Id, after: Option<Cursor>, limit: usize) -> Result<Vec<PostRow>, RepoError>;
    /// The group named `name`, created if there is none.
    fn ensure_group(&mut self, name: &str) -> Result<Id, RepoError>;
    /// Joins `user` to `group` unless already a member; whether it joined.
    fn join_if_absent(&mut self, user: Id, group: Id, joined_on: DateTime<Utc>) -> Result<bool, RepoError>;
}
