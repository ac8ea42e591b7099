//! The service under test: sign-up, posting, group membership.

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::repo::{Account, Cursor, Id, PostRow, Repo, RepoError, Status};

/// Why a service call failed, in the service's own terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceError {
    InvalidName,
    NameTooLong,
    NameTaken,
    EmailTaken,
    NoSuchUser,
    Suspended,
    AlreadyMember,
    Storage(RepoError),
}

fn storage(e: RepoError) -> ServiceError {
    match e {
        RepoError::Missing => ServiceError::NoSuchUser,
        other => ServiceError::Storage(other),
    }
}

/// Time and identifiers come from the service's environment; tests control both.
pub struct Clock {
    pub now: DateTime<Utc>,
    /// Public ids are handed out in sequence (a real service would use `Uuid::new_v4`).
    pub next_id: u128,
}

impl Clock {
    pub fn at(now: DateTime<Utc>) -> Clock {
        Clock { now, next_id: 1 }
    }

    pub fn advance(&mut self, by: TimeDelta) {
        self.now += by;
    }

    fn new_id(&mut self) -> Uuid {
        self.next_id += 1;
        Uuid::from_u128(self.next_id - 1)
    }
}

/// One page of a newest-first list, and where the next page starts (`None` on the last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub posts: Vec<PostRow>,
    pub next: Option<Cursor>,
}

impl Page {
    /// The page of `per_page` rows from `rows`, read with a limit of `per_page + 1` so that
    /// the extra row says whether another page follows.
    fn of(mut rows: Vec<PostRow>, per_page: usize) -> Page {
        let more = rows.len() > per_page;
        rows.truncate(per_page);
        let next = rows.last().filter(|_| more).map(PostRow::cursor);
        Page { posts: rows, next }
    }

    pub fn titles(&self) -> Vec<&str> {
        self.posts.iter().map(|p| p.title.as_str()).collect()
    }
}

/// The blog service over any repository.
pub struct Blog<R> {
    pub repo: R,
    pub clock: Clock,
}

impl<R: Repo> Blog<R> {
    pub fn new(repo: R, now: DateTime<Utc>) -> Blog<R> {
        Blog {
            repo,
            clock: Clock::at(now),
        }
    }

    /// A new active account, signed up now, once its name is valid.
    fn new_account(&mut self, username: &str, email: &str) -> Result<Account, ServiceError> {
        if username.is_empty() || username.contains(' ') {
            return Err(ServiceError::InvalidName);
        }
        Ok(Account {
            public_id: self.clock.new_id(),
            username: username.into(),
            email: email.into(),
            status: Status::Active,
            created_at: self.clock.now,
        })
    }

    pub fn sign_up(&mut self, username: &str, email: &str) -> Result<Id, ServiceError> {
        let account = self.new_account(username, email)?;
        self.repo.create_user(&account).map_err(|e| match e {
            RepoError::Duplicate(column) if column.ends_with("username") => ServiceError::NameTaken,
            RepoError::Duplicate(column) if column.ends_with("email") => ServiceError::EmailTaken,
            RepoError::TooLong(column) if column.ends_with("username") => ServiceError::NameTooLong,
            other => storage(other),
        })
    }

    /// The account signed up with `email`, in any case.
    pub fn account_by_email(&self, email: &str) -> Result<Account, ServiceError> {
        let user = self.repo.find_by_email(email).map_err(storage)?;
        let user = user.ok_or(ServiceError::NoSuchUser)?;
        self.repo
            .account(user)
            .map_err(storage)?
            .ok_or(ServiceError::NoSuchUser)
    }

    pub fn suspend(&mut self, username: &str) -> Result<(), ServiceError> {
        let user = self.user(username)?;
        self.repo.set_status(user, Status::Suspended).map_err(storage)
    }

    fn user(&self, username: &str) -> Result<Id, ServiceError> {
        let user = self.repo.find_user(username).map_err(storage)?;
        user.ok_or(ServiceError::NoSuchUser)
    }

    pub fn publish(&mut self, username: &str, title: &str, body: &str) -> Result<Id, ServiceError> {
        let author = self.user(username)?;
        let account = self.repo.account(author).map_err(storage)?;
        if account.is_some_and(|a| a.status == Status::Suspended) {
            return Err(ServiceError::Suspended);
        }
        let now = self.clock.now;
        self.repo.create_post(author, title, body, now).map_err(storage)
    }

    pub fn titles(&self, username: &str) -> Result<Vec<String>, ServiceError> {
        let author = self.user(username)?;
        self.repo.post_titles(author).map_err(storage)
    }

    pub fn join(&mut self, username: &str, group: Id) -> Result<(), ServiceError> {
        let user = self.user(username)?;
        self.repo.join(user, group, self.clock.now).map_err(|e| match e {
            RepoError::Duplicate(_) => ServiceError::AlreadyMember,
            other => storage(other),
        })
    }

    /// Page `page` (from 0) of a user's titles in alphabetical order, `per_page` a page.
    pub fn titles_page(
        &self,
        username: &str,
        page: usize,
        per_page: usize,
    ) -> Result<Vec<String>, ServiceError> {
        let author = self.user(username)?;
        self.repo
            .title_page(author, page * per_page, per_page)
            .map_err(storage)
    }

    /// Signs up, or updates the email of an existing user (an upsert by username).
    pub fn save_account(&mut self, username: &str, email: &str) -> Result<Id, ServiceError> {
        let account = self.new_account(username, email)?;
        self.repo.save_user(&account).map_err(|e| match e {
            RepoError::Duplicate(column) if column.ends_with("email") => ServiceError::EmailTaken,
            other => storage(other),
        })
    }

    /// A page of `username`'s posts, newest first, after `after` (from the previous page).
    pub fn newest_posts(
        &self,
        username: &str,
        after: Option<Cursor>,
        per_page: usize,
    ) -> Result<Page, ServiceError> {
        let author = self.user(username)?;
        let rows = self.repo.newest_posts(author, after, per_page + 1);
        Ok(Page::of(rows.map_err(storage)?, per_page))
    }

    /// A page of the posts of `group`'s members, newest first, after `after`.
    pub fn group_feed(
        &self,
        group: Id,
        after: Option<Cursor>,
        per_page: usize,
    ) -> Result<Page, ServiceError> {
        let rows = self.repo.group_feed(group, after, per_page + 1);
        Ok(Page::of(rows.map_err(storage)?, per_page))
    }

    /// Joins the group named `group`, creating it if needed; `false` if already a member
    /// (joining twice is not an error here, unlike [`join`](Self::join)).
    pub fn join_group(&mut self, username: &str, group: &str) -> Result<bool, ServiceError> {
        let user = self.user(username)?;
        let group = self.repo.ensure_group(group).map_err(storage)?;
        self.repo
            .join_if_absent(user, group, self.clock.now)
            .map_err(storage)
    }

    pub fn close_account(&mut self, username: &str) -> Result<(), ServiceError> {
        let user = self.user(username)?;
        self.repo.delete_user(user).map_err(storage)
    }
}
