//! The service under test: sign-up, posting, group membership.

use crate::repo::{Id, Repo, RepoError};

/// Why a service call failed, in the service's own terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceError {
    InvalidName,
    NameTaken,
    EmailTaken,
    NoSuchUser,
    AlreadyMember,
    Storage(RepoError),
}

fn storage(e: RepoError) -> ServiceError {
    match e {
        RepoError::Missing => ServiceError::NoSuchUser,
        other => ServiceError::Storage(other),
    }
}

/// The blog service over any repository.
pub struct Blog<R> {
    pub repo: R,
}

impl<R: Repo> Blog<R> {
    pub fn sign_up(&mut self, username: &str, email: &str) -> Result<Id, ServiceError> {
        if username.is_empty() || username.contains(' ') {
            return Err(ServiceError::InvalidName);
        }
        self.repo.create_user(username, email).map_err(|e| match e {
            RepoError::Duplicate(column) if column.ends_with("username") => ServiceError::NameTaken,
            RepoError::Duplicate(column) if column.ends_with("email") => ServiceError::EmailTaken,
            other => storage(other),
        })
    }

    pub fn publish(&mut self, username: &str, title: &str, body: &str) -> Result<Id, ServiceError> {
        let author = self
            .repo
            .find_user(username)
            .map_err(storage)?
            .ok_or(ServiceError::NoSuchUser)?;
        self.repo.create_post(author, title, body).map_err(storage)
    }

    pub fn titles(&self, username: &str) -> Result<Vec<String>, ServiceError> {
        let author = self
            .repo
            .find_user(username)
            .map_err(storage)?
            .ok_or(ServiceError::NoSuchUser)?;
        self.repo.post_titles(author).map_err(storage)
    }

    pub fn join(&mut self, username: &str, group: Id, today: i64) -> Result<(), ServiceError> {
        let user = self
            .repo
            .find_user(username)
            .map_err(storage)?
            .ok_or(ServiceError::NoSuchUser)?;
        self.repo.join(user, group, today).map_err(|e| match e {
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
        let author = self
            .repo
            .find_user(username)
            .map_err(storage)?
            .ok_or(ServiceError::NoSuchUser)?;
        self.repo
            .title_page(author, page * per_page, per_page)
            .map_err(storage)
    }

    /// Signs up, or updates the email of an existing user (an upsert by username).
    pub fn save_account(&mut self, username: &str, email: &str) -> Result<Id, ServiceError> {
        if username.is_empty() || username.contains(' ') {
            return Err(ServiceError::InvalidName);
        }
        self.repo.save_user(username, email).map_err(|e| match e {
            RepoError::Duplicate(column) if column.ends_with("email") => ServiceError::EmailTaken,
            other => storage(other),
        })
    }

    pub fn close_account(&mut self, username: &str) -> Result<(), ServiceError> {
        let user = self
            .repo
            .find_user(username)
            .map_err(storage)?
            .ok_or(ServiceError::NoSuchUser)?;
        self.repo.delete_user(user).map_err(storage)
    }
}
