//! The repository over SQLite `:memory:` (rusqlite), foreign keys on.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Row};
use uuid::Uuid;

use crate::repo::{Account, Cursor, Id, PostRow, Repo, RepoError, Status};

pub struct SqliteRepo {
    conn: Connection,
}

const DDL: &str = "
PRAGMA foreign_keys = ON;
CREATE TABLE users (id INTEGER PRIMARY KEY, public_id TEXT NOT NULL UNIQUE,
  username VARCHAR(30) NOT NULL UNIQUE CONSTRAINT too_long_users_username CHECK (length(username) <= 30),
  email VARCHAR(254) NOT NULL UNIQUE COLLATE NOCASE CONSTRAINT too_long_users_email CHECK (length(email) <= 254),
  status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
  created_at INTEGER NOT NULL);
CREATE INDEX ix_users_status ON users(status);
CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL,
  author_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, created_at INTEGER NOT NULL);
CREATE INDEX ix_posts_author_title ON posts(author_id, title);
CREATE INDEX ix_posts_author_created_at ON posts(author_id, created_at);
CREATE TABLE groups (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE user_groups (user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE, joined_on INTEGER NOT NULL,
  PRIMARY KEY (user_id, group_id));
";

fn err(e: rusqlite::Error) -> RepoError {
    match &e {
        rusqlite::Error::SqliteFailure(f, Some(msg)) if f.code == ErrorCode::ConstraintViolation => {
            match msg.strip_prefix("UNIQUE constraint failed: ") {
                Some(columns) => RepoError::Duplicate(columns.to_string()),
                None if msg.contains("FOREIGN KEY") => RepoError::Missing,
                None => match msg.strip_prefix("CHECK constraint failed: too_long_") {
                    Some(column) => RepoError::TooLong(column.replacen('_', ".", 1)),
                    None => RepoError::Other(msg.clone()),
                },
            }
        }
        _ => RepoError::Other(e.to_string()),
    }
}

const INSERT_USER: &str =
    "INSERT INTO users (public_id, username, email, status, created_at) VALUES (?1, ?2, ?3, ?4, ?5)";

impl SqliteRepo {
    pub fn new() -> SqliteRepo {
        let conn = Connection::open_in_memory().expect("open :memory:");
        conn.execute_batch(DDL).expect("schema");
        SqliteRepo { conn }
    }

    /// Runs `sql`, an `INSERT_USER ... RETURNING id`, with `a`'s values.
    fn write_user(&self, sql: &str, a: &Account) -> Result<Id, RepoError> {
        let mut st = self.conn.prepare_cached(sql).map_err(err)?;
        let values = params![
            a.public_id.to_string(),
            a.username,
            a.email,
            a.status.as_str(),
            a.created_at.timestamp_micros()
        ];
        st.query_row(values, |r| r.get::<_, i64>(0))
            .map(|id| id as Id)
            .map_err(err)
    }
}

impl Repo for SqliteRepo {
    fn engine(&self) -> relata::Engine {
        relata::Engine::Sqlite
    }
    fn create_user(&mut self, a: &Account) -> Result<Id, RepoError> {
        self.write_user(&format!("{INSERT_USER} RETURNING id"), a)
    }
    fn find_by_email(&self, email: &str) -> Result<Option<Id>, RepoError> {
        let sql = "SELECT id FROM users WHERE email = ?1";
        let mut st = self.conn.prepare_cached(sql).map_err(err)?;
        let found = st.query_row(params![email], |r| r.get::<_, i64>(0)).optional();
        found.map(|o| o.map(|i| i as Id)).map_err(err)
    }
    fn account(&self, user: Id) -> Result<Option<Account>, RepoError> {
        let sql = "SELECT public_id, username, email, status, created_at FROM users WHERE id = ?1";
        let mut st = self.conn.prepare_cached(sql).map_err(err)?;
        st.query_row(params![user as i64], account)
            .optional()
            .map_err(err)
    }
    fn set_status(&mut self, user: Id, status: Status) -> Result<(), RepoError> {
        let sql = "UPDATE users SET status = ?2 WHERE id = ?1";
        let mut st = self.conn.prepare_cached(sql).map_err(err)?;
        st.execute(params![user as i64, status.as_str()])
            .map(drop)
            .map_err(err)
    }
    fn find_user(&self, username: &str) -> Result<Option<Id>, RepoError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT id FROM users WHERE username = ?1")
            .map_err(err)?;
        st.query_row(params![username], |r| r.get::<_, i64>(0))
            .optional()
            .map(|o| o.map(|i| i as Id))
            .map_err(err)
    }
    fn delete_user(&mut self, user: Id) -> Result<(), RepoError> {
        let mut st = self
            .conn
            .prepare_cached("DELETE FROM users WHERE id = ?1")
            .map_err(err)?;
        st.execute(params![user as i64]).map(drop).map_err(err)
    }
    fn create_post(
        &mut self,
        author: Id,
        title: &str,
        body: &str,
        at: DateTime<Utc>,
    ) -> Result<Id, RepoError> {
        let sql = "INSERT INTO posts (title, body, author_id, created_at) VALUES (?1, ?2, ?3, ?4)";
        let mut st = self.conn.prepare_cached(sql).map_err(err)?;
        st.insert(params![title, body, author as i64, at.timestamp_micros()])
            .map(|id| id as Id)
            .map_err(err)
    }
    fn post_titles(&self, author: Id) -> Result<Vec<String>, RepoError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT title FROM posts WHERE author_id = ?1 ORDER BY id")
            .map_err(err)?;
        let rows = st.query_map(params![author as i64], |r| r.get(0)).map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }
    fn create_group(&mut self, name: &str) -> Result<Id, RepoError> {
        let mut st = self
            .conn
            .prepare_cached("INSERT INTO groups (name) VALUES (?1)")
            .map_err(err)?;
        st.insert(params![name]).map(|id| id as Id).map_err(err)
    }
    fn join(&mut self, user: Id, group: Id, joined_on: DateTime<Utc>) -> Result<(), RepoError> {
        let mut st = self
            .conn
            .prepare_cached("INSERT INTO user_groups VALUES (?1, ?2, ?3)")
            .map_err(err)?;
        st.execute(params![user as i64, group as i64, joined_on.timestamp_micros()])
            .map(drop)
            .map_err(err)
    }
    fn member_names(&self, group: Id) -> Result<Vec<String>, RepoError> {
        let sql = "SELECT u.username FROM user_groups m JOIN users u ON u.id = m.user_id WHERE m.group_id = ?1 ORDER BY m.rowid";
        let mut st = self.conn.prepare_cached(sql).map_err(err)?;
        let rows = st.query_map(params![group as i64], |r| r.get(0)).map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }
    fn title_page(&self, author: Id, offset: usize, limit: usize) -> Result<Vec<String>, RepoError> {
        let sql = "SELECT title FROM posts WHERE author_id = ?1 ORDER BY title, id LIMIT ?2 OFFSET ?3";
        let mut st = self.conn.prepare_cached(sql).map_err(err)?;
        let rows = st
            .query_map(params![author as i64, limit as i64, offset as i64], |r| r.get(0))
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
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
        let sql = "SELECT id, title, created_at FROM posts WHERE author_id = ?1 \
                   AND (?2 IS NULL OR (created_at, id) < (?2, ?3)) \
                   ORDER BY created_at DESC, id DESC LIMIT ?4";
        self.post_rows(sql, group_or_author_page(author, after, limit))
    }
    fn group_feed(&self, group: Id, after: Option<Cursor>, limit: usize) -> Result<Vec<PostRow>, RepoError> {
        let sql = "SELECT p.id, p.title, p.created_at FROM posts p \
                   JOIN user_groups m ON m.user_id = p.author_id WHERE m.group_id = ?1 \
                   AND (?2 IS NULL OR (p.created_at, p.id) < (?2, ?3)) \
                   ORDER BY p.created_at DESC, p.id DESC LIMIT ?4";
        self.post_rows(sql, group_or_author_page(group, after, limit))
    }
    fn ensure_group(&mut self, name: &str) -> Result<Id, RepoError> {
        let sql = "INSERT INTO groups (name) VALUES (?1) ON CONFLICT (name) DO NOTHING";
        self.conn.execute(sql, params![name]).map_err(err)?;
        let sql = "SELECT id FROM groups WHERE name = ?1";
        let mut st = self.conn.prepare_cached(sql).map_err(err)?;
        st.query_row(params![name], |r| r.get::<_, i64>(0))
            .map(|id| id as Id)
            .map_err(err)
    }
    fn join_if_absent(&mut self, user: Id, group: Id, joined_on: DateTime<Utc>) -> Result<bool, RepoError> {
        let sql = "INSERT INTO user_groups VALUES (?1, ?2, ?3) ON CONFLICT (user_id, group_id) DO NOTHING";
        let mut st = self.conn.prepare_cached(sql).map_err(err)?;
        st.execute(params![user as i64, group as i64, joined_on.timestamp_micros()])
            .map(|changed| changed == 1)
            .map_err(err)
    }
    fn count_posts(&self) -> Result<usize, RepoError> {
        self.conn
            .query_row("SELECT count(*) FROM posts", [], |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(err)
    }
}

/// The parameters of a page query: `?1` the author or group, `?2, ?3` the cursor (NULL for
/// the first page), `?4` the limit.
fn group_or_author_page(id: Id, after: Option<Cursor>, limit: usize) -> [Option<i64>; 4] {
    [
        Some(id as i64),
        after.map(|c| c.created_at.timestamp_micros()),
        after.map(|c| c.id as i64),
        Some(limit as i64),
    ]
}

impl SqliteRepo {
    /// The `PostRow`s of `sql`, which selects id, title, created_at.
    fn post_rows(&self, sql: &str, values: [Option<i64>; 4]) -> Result<Vec<PostRow>, RepoError> {
        let mut st = self.conn.prepare_cached(sql).map_err(err)?;
        let rows = st
            .query_map(values, |r| {
                let micros: i64 = r.get(2)?;
                Ok(PostRow {
                    id: r.get::<_, i64>(0)? as Id,
                    title: r.get(1)?,
                    created_at: DateTime::from_timestamp_micros(micros).unwrap_or_default(),
                })
            })
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }
}

/// An `Account` from a `users` row (public_id, username, email, status, created_at).
fn account(r: &Row<'_>) -> rusqlite::Result<Account> {
    let bad =
        |i, e: String| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into());
    let public_id: String = r.get(0)?;
    let status: String = r.get(3)?;
    let micros: i64 = r.get(4)?;
    Ok(Account {
        public_id: Uuid::parse_str(&public_id).map_err(|e| bad(0, e.to_string()))?,
        username: r.get(1)?,
        email: r.get(2)?,
        status: match status.as_str() {
            "active" => Status::Active,
            "suspended" => Status::Suspended,
            other => return Err(bad(3, format!("status {other:?}"))),
        },
        created_at: DateTime::from_timestamp_micros(micros).ok_or_else(|| bad(4, "created_at".into()))?,
    })
}
