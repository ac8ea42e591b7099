//! The repository over SQLite `:memory:` (rusqlite), foreign keys on.

use rusqlite::{params, Connection, ErrorCode, OptionalExtension};

use crate::repo::{Id, Repo, RepoError};

pub struct SqliteRepo {
    conn: Connection,
}

const DDL: &str = "
PRAGMA foreign_keys = ON;
CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, email TEXT NOT NULL UNIQUE);
CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL,
  author_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE);
CREATE INDEX ix_posts_author_id ON posts(author_id);
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
                None => RepoError::Other(msg.clone()),
            }
        }
        _ => RepoError::Other(e.to_string()),
    }
}

impl SqliteRepo {
    pub fn new() -> SqliteRepo {
        let conn = Connection::open_in_memory().expect("open :memory:");
        conn.execute_batch(DDL).expect("schema");
        SqliteRepo { conn }
    }
}

impl Repo for SqliteRepo {
    fn create_user(&mut self, username: &str, email: &str) -> Result<Id, RepoError> {
        let mut st = self
            .conn
            .prepare_cached("INSERT INTO users (username, email) VALUES (?1, ?2)")
            .map_err(err)?;
        st.insert(params![username, email])
            .map(|id| id as Id)
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
    fn create_post(&mut self, author: Id, title: &str, body: &str) -> Result<Id, RepoError> {
        let mut st = self
            .conn
            .prepare_cached("INSERT INTO posts (title, body, author_id) VALUES (?1, ?2, ?3)")
            .map_err(err)?;
        st.insert(params![title, body, author as i64])
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
    fn join(&mut self, user: Id, group: Id, joined_on: i64) -> Result<(), RepoError> {
        let mut st = self
            .conn
            .prepare_cached("INSERT INTO user_groups VALUES (?1, ?2, ?3)")
            .map_err(err)?;
        st.execute(params![user as i64, group as i64, joined_on])
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
    fn save_user(&mut self, username: &str, email: &str) -> Result<Id, RepoError> {
        let sql = "INSERT INTO users (username, email) VALUES (?1, ?2) \
                   ON CONFLICT (username) DO UPDATE SET email = excluded.email RETURNING id";
        let mut st = self.conn.prepare_cached(sql).map_err(err)?;
        st.query_row(params![username, email], |r| r.get::<_, i64>(0))
            .map(|id| id as Id)
            .map_err(err)
    }
    fn count_posts(&self) -> Result<usize, RepoError> {
        self.conn
            .query_row("SELECT count(*) FROM posts", [], |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(err)
    }
}
