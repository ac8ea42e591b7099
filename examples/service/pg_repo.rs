//! The repository over PostgreSQL (the synchronous `postgres` crate), on the server named by
//! `RELATA_POSTGRES_URL` (tests/common/pg.rs: a schema of its own per repository, dropped with
//! it; skipped without the variable, failed under `CI=true`).

use std::cell::RefCell;

use chrono::{DateTime, Utc};
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::Row;

use crate::pg::{connect, Pg};
use crate::repo::{Account, Cursor, Id, PostRow, Repo, RepoError, Status};

/// `Pg` needs `&mut` for every statement; the trait's reads take `&self`.
pub struct PgRepo {
    pg: RefCell<Pg>,
}

/// PostgreSQL's VARCHAR(n) error (22001) does not name the column, so the lengths are named
/// CHECK constraints (`too_long_users_username`), as in the SQLite repository.
const DDL: &str = "
CREATE TABLE users (id BIGSERIAL PRIMARY KEY, public_id UUID NOT NULL UNIQUE,
  username TEXT NOT NULL CONSTRAINT uq_users_username UNIQUE
    CONSTRAINT too_long_users_username CHECK (char_length(username) <= 30),
  email TEXT NOT NULL CONSTRAINT too_long_users_email CHECK (char_length(email) <= 254),
  status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
  created_at TIMESTAMPTZ NOT NULL);
CREATE UNIQUE INDEX uq_users_email ON users (lower(email));
CREATE INDEX ix_users_status ON users (status);
CREATE TABLE posts (id BIGSERIAL PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL,
  author_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at TIMESTAMPTZ NOT NULL);
CREATE INDEX ix_posts_author_title ON posts (author_id, title);
CREATE INDEX ix_posts_author_created_at ON posts (author_id, created_at);
CREATE TABLE groups (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE user_groups (seq BIGSERIAL NOT NULL,
  user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  group_id BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  joined_on TIMESTAMPTZ NOT NULL, PRIMARY KEY (user_id, group_id));
";

const INSERT_USER: &str =
    "INSERT INTO users (public_id, username, email, status, created_at) VALUES ($1, $2, $3, $4, $5)";

fn err(e: postgres::Error) -> RepoError {
    let Some(db) = e.as_db_error() else {
        return RepoError::Other(e.to_string());
    };
    let constraint = db.constraint().unwrap_or_default();
    match db.code() {
        c if *c == SqlState::UNIQUE_VIOLATION => RepoError::Duplicate(constraint.into()),
        c if *c == SqlState::FOREIGN_KEY_VIOLATION => RepoError::Missing,
        c if *c == SqlState::CHECK_VIOLATION => match constraint.strip_prefix("too_long_") {
            Some(column) => RepoError::TooLong(column.replacen('_', ".", 1)),
            None => RepoError::Other(db.to_string()),
        },
        _ => RepoError::Other(db.to_string()),
    }
}

impl PgRepo {
    /// A repository in a fresh schema; `None` (after saying why) when no server is configured
    /// and this is not CI.
    pub fn connect(test: &str) -> Option<PgRepo> {
        let mut pg = connect(test)?;
        pg.client.batch_execute(DDL).expect("schema");
        Some(PgRepo { pg: RefCell::new(pg) })
    }

    fn query(&self, sql: &str, values: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, RepoError> {
        self.pg.borrow_mut().client.query(sql, values).map_err(err)
    }

    fn execute(&self, sql: &str, values: &[&(dyn ToSql + Sync)]) -> Result<u64, RepoError> {
        self.pg.borrow_mut().client.execute(sql, values).map_err(err)
    }

    /// The first column of the one row `sql` returns, as an id.
    fn id(&self, sql: &str, values: &[&(dyn ToSql + Sync)]) -> Result<Id, RepoError> {
        let rows = self.query(sql, values)?;
        let row = rows.first().ok_or(RepoError::Missing)?;
        Ok(row.get::<_, i64>(0) as Id)
    }

    /// The first column of the row `sql` returns, if any, as an id.
    fn find(&self, sql: &str, values: &[&(dyn ToSql + Sync)]) -> Result<Option<Id>, RepoError> {
        let rows = self.query(sql, values)?;
        Ok(rows.first().map(|r| r.get::<_, i64>(0) as Id))
    }

    /// Runs `sql`, an `INSERT_USER ... RETURNING id`, with `a`'s values.
    fn write_user(&self, sql: &str, a: &Account) -> Result<Id, RepoError> {
        let values: [&(dyn ToSql + Sync); 5] = [
            &a.public_id,
            &a.username,
            &a.email,
            &a.status.as_str(),
            &a.created_at,
        ];
        self.id(sql, &values)
    }

    /// The `PostRow`s of `sql` (id, title, created_at), for `$1` the author or group, `$2, $3`
    /// the cursor (NULL for the first page) and `$4` the limit.
    fn post_rows(
        &self,
        sql: &str,
        of: Id,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<PostRow>, RepoError> {
        let (at, id) = (after.map(|c| c.created_at), after.map(|c| c.id as i64));
        let rows = self.query(sql, &[&(of as i64), &at, &id, &(limit as i64)])?;
        let row = |r: &Row| PostRow {
            id: r.get::<_, i64>(0) as Id,
            title: r.get(1),
            created_at: r.get(2),
        };
        Ok(rows.iter().map(row).collect())
    }

    fn strings(&self, sql: &str, of: Id) -> Result<Vec<String>, RepoError> {
        let rows = self.query(sql, &[&(of as i64)])?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}

impl Repo for PgRepo {
    fn engine(&self) -> relata::Engine {
        relata::Engine::Postgres
    }
    fn create_user(&mut self, a: &Account) -> Result<Id, RepoError> {
        self.write_user(&format!("{INSERT_USER} RETURNING id"), a)
    }
    fn find_user(&self, username: &str) -> Result<Option<Id>, RepoError> {
        self.find("SELECT id FROM users WHERE username = $1", &[&username])
    }
    fn find_by_email(&self, email: &str) -> Result<Option<Id>, RepoError> {
        self.find("SELECT id FROM users WHERE lower(email) = lower($1)", &[&email])
    }
    fn account(&self, user: Id) -> Result<Option<Account>, RepoError> {
        let sql = "SELECT public_id, username, email, status, created_at FROM users WHERE id = $1";
        let rows = self.query(sql, &[&(user as i64)])?;
        rows.first().map(account).transpose()
    }
    fn set_status(&mut self, user: Id, status: Status) -> Result<(), RepoError> {
        let sql = "UPDATE users SET status = $2 WHERE id = $1";
        self.execute(sql, &[&(user as i64), &status.as_str()]).map(drop)
    }
    fn delete_user(&mut self, user: Id) -> Result<(), RepoError> {
        let sql = "DELETE FROM users WHERE id = $1";
        self.execute(sql, &[&(user as i64)]).map(drop)
    }
    fn create_post(
        &mut self,
        author: Id,
        title: &str,
        body: &str,
        at: DateTime<Utc>,
    ) -> Result<Id, RepoError> {
        let sql =
            "INSERT INTO posts (title, body, author_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
        self.id(sql, &[&title, &body, &(author as i64), &at])
    }
    fn post_titles(&self, author: Id) -> Result<Vec<String>, RepoError> {
        self.strings("SELECT title FROM posts WHERE author_id = $1 ORDER BY id", author)
    }
    fn create_group(&mut self, name: &str) -> Result<Id, RepoError> {
        self.id("INSERT INTO groups (name) VALUES ($1) RETURNING id", &[&name])
    }
    fn join(&mut self, user: Id, group: Id, joined_on: DateTime<Utc>) -> Result<(), RepoError> {
        let sql = "INSERT INTO user_groups (user_id, group_id, joined_on) VALUES ($1, $2, $3)";
        self.execute(sql, &[&(user as i64), &(group as i64), &joined_on])
            .map(drop)
    }
    fn member_names(&self, group: Id) -> Result<Vec<String>, RepoError> {
        let sql = "SELECT u.username FROM user_groups m JOIN users u ON u.id = m.user_id \
                   WHERE m.group_id = $1 ORDER BY m.seq";
        self.strings(sql, group)
    }
    fn count_posts(&self) -> Result<usize, RepoError> {
        let rows = self.query("SELECT count(*) FROM posts", &[])?;
        Ok(rows.first().map_or(0, |r| r.get::<_, i64>(0) as usize))
    }
    fn title_page(&self, author: Id, offset: usize, limit: usize) -> Result<Vec<String>, RepoError> {
        let sql = "SELECT title FROM posts WHERE author_id = $1 ORDER BY title COLLATE \"C\", id \
                   LIMIT $2 OFFSET $3";
        let rows = self.query(sql, &[&(author as i64), &(limit as i64), &(offset as i64)])?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
    fn save_user(&mut self, a: &Account) -> Result<Id, RepoError> {
        let upsert = "ON CONFLICT (username) DO UPDATE SET email = excluded.email RETURNING id";
        self.write_user(&format!("{INSERT_USER} {upsert}"), a)
    }
    fn newest_posts(
        &self,
        author: Id,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<PostRow>, RepoError> {
        let sql = "SELECT id, title, created_at FROM posts WHERE author_id = $1 \
                   AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3)) \
                   ORDER BY created_at DESC, id DESC LIMIT $4";
        self.post_rows(sql, author, after, limit)
    }
    fn group_feed(&self, group: Id, after: Option<Cursor>, limit: usize) -> Result<Vec<PostRow>, RepoError> {
        let sql = "SELECT p.id, p.title, p.created_at FROM posts p \
                   JOIN user_groups m ON m.user_id = p.author_id WHERE m.group_id = $1 \
                   AND ($2::timestamptz IS NULL OR (p.created_at, p.id) < ($2, $3)) \
                   ORDER BY p.created_at DESC, p.id DESC LIMIT $4";
        self.post_rows(sql, group, after, limit)
    }
    fn ensure_group(&mut self, name: &str) -> Result<Id, RepoError> {
        let sql = "INSERT INTO groups (name) VALUES ($1) ON CONFLICT (name) DO NOTHING";
        self.execute(sql, &[&name])?;
        self.id("SELECT id FROM groups WHERE name = $1", &[&name])
    }
    fn join_if_absent(&mut self, user: Id, group: Id, joined_on: DateTime<Utc>) -> Result<bool, RepoError> {
        let sql = "INSERT INTO user_groups (user_id, group_id, joined_on) VALUES ($1, $2, $3) \
                   ON CONFLICT (user_id, group_id) DO NOTHING";
        let joined = self.execute(sql, &[&(user as i64), &(group as i64), &joined_on])?;
        Ok(joined == 1)
    }
}

/// An `Account` from a `users` row (public_id, username, email, status, created_at).
fn account(r: &Row) -> Result<Account, RepoError> {
    let status = match r.get::<_, &str>(3) {
        "active" => Status::Active,
        "suspended" => Status::Suspended,
        other => return Err(RepoError::Other(format!("status {other:?}"))),
    };
    Ok(Account {
        public_id: r.get(0),
        username: r.get(1),
        email: r.get(2),
        status,
        created_at: r.get(4),
    })
}
