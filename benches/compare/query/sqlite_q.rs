//! SQLite `:memory:` under test for the query operations, set up as `sqlite_sys.rs` is
//! (foreign keys on, statement cache, statements prepared once per batch).

use rusqlite::{params, Connection};

use super::{email, title, QData, QSys, Tally, UpsertRow, NEWEST, PAGE, POSTS, RANGE};

const DDL: &str = r#"
CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL, name TEXT NOT NULL,
  visits INTEGER NOT NULL);
CREATE TABLE posts(id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL, title TEXT NOT NULL);
CREATE INDEX ix_posts_user_created ON posts(user_id, created_at);
CREATE INDEX ix_posts_created ON posts(created_at);
CREATE TABLE "groups"(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE user_groups(user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  group_id INTEGER NOT NULL REFERENCES "groups"(id) ON DELETE CASCADE,
  PRIMARY KEY(user_id, group_id));
CREATE INDEX ix_user_groups_group_id ON user_groups(group_id);
"#;

/// A `:memory:` connection with the query schema.
pub struct SqliteQ {
    conn: Connection,
    /// The largest user id handed out: an upsert returning a larger one inserted.
    max_user: i64,
}

impl SqliteQ {
    /// Runs `sql` once per parameter and counts `(created_at, title)` of every row.
    fn rows(&self, sql: &str, params: impl Iterator<Item = i64>) -> Tally {
        let mut st = self.conn.prepare_cached(sql).expect("prepare");
        let mut t = Tally::default();
        for p in params {
            let mut rows = st.query([p]).expect("query");
            while let Some(row) = rows.next().expect("step") {
                let created_at: i64 = row.get_unwrap(0);
                t.row(created_at, row.get_ref_unwrap(1).as_str().expect("a text title"));
            }
        }
        t
    }
}

impl QSys for SqliteQ {
    const NAME: &'static str = "sqlite";
    type User = i64;
    type Group = i64;

    fn load(data: &QData) -> (SqliteQ, Vec<i64>, Vec<i64>) {
        let conn = Connection::open_in_memory().expect("open :memory:");
        conn.execute_batch("PRAGMA foreign_keys=ON;")
            .expect("foreign keys on");
        conn.set_prepared_statement_cache_capacity(64);
        conn.execute_batch(DDL).expect("create schema");
        conn.execute_batch("BEGIN").expect("begin");
        let mut groups = Vec::new();
        let mut users = Vec::with_capacity(data.users);
        {
            let mut st = conn
                .prepare(r#"INSERT INTO "groups"(name) VALUES (?1)"#)
                .expect("prepare");
            for g in 0..super::GROUPS {
                groups.push(st.insert([format!("group{g}")]).expect("insert group"));
            }
            let mut user = conn
                .prepare("INSERT INTO users(email, name, visits) VALUES (?1, ?2, 0)")
                .expect("prepare");
            let mut post = conn
                .prepare("INSERT INTO posts(user_id, created_at, title) VALUES (?1, ?2, ?3)")
                .expect("prepare");
            let mut member = conn
                .prepare("INSERT INTO user_groups(user_id, group_id) VALUES (?1, ?2)")
                .expect("prepare");
            for i in 0..data.users {
                let u = user.insert([email(i), format!("user{i}")]).expect("insert user");
                for j in 0..POSTS {
                    post.insert(params![u, data.times[POSTS * i + j], title(i, j)])
                        .expect("insert post");
                }
                for &g in &data.groups[i] {
                    member.insert([u, groups[g as usize]]).expect("insert member");
                }
                users.push(u);
            }
        }
        conn.execute_batch("COMMIT").expect("commit");
        let max_user = users.last().copied().unwrap_or(0);
        (SqliteQ { conn, max_user }, users, groups)
    }

    fn user_count(&mut self) -> usize {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
            .expect("count");
        n as usize
    }

    fn newest_posts(&mut self, users: &[i64]) -> Tally {
        let sql = format!(
            "SELECT created_at, title FROM posts WHERE user_id = ?1 ORDER BY created_at DESC, id DESC LIMIT {NEWEST}"
        );
        self.rows(&sql, users.iter().copied())
    }

    fn range_scan(&mut self, starts: &[i64]) -> Tally {
        let sql = format!(
            "SELECT created_at, title FROM posts WHERE created_at >= ?1 ORDER BY created_at, id LIMIT {RANGE}"
        );
        self.rows(&sql, starts.iter().copied())
    }

    fn keyset_page(&mut self, cursors: &[i64]) -> Tally {
        let sql = format!(
            "SELECT created_at, title FROM posts WHERE created_at < ?1 ORDER BY created_at DESC, id DESC LIMIT {PAGE}"
        );
        self.rows(&sql, cursors.iter().copied())
    }

    fn feed_page(&mut self, groups: &[i64]) -> Tally {
        let sql = format!(
            "SELECT p.created_at, p.title FROM user_groups m JOIN posts p ON p.user_id = m.user_id \
             WHERE m.group_id = ?1 ORDER BY p.created_at DESC, p.id DESC LIMIT {PAGE}"
        );
        self.rows(&sql, groups.iter().copied())
    }

    fn upsert(&mut self, rows: &mut [UpsertRow]) -> usize {
        let sql = "INSERT INTO users(email, name, visits) VALUES (?1, ?2, ?3) \
                   ON CONFLICT (email) DO UPDATE SET name = excluded.name, visits = excluded.visits \
                   RETURNING id";
        let mut st = self.conn.prepare_cached(sql).expect("prepare");
        let mut inserted = 0;
        for row in rows.iter() {
            let id: i64 = st
                .query_row(params![row.email, row.name, row.visits], |r| r.get(0))
                .expect("upsert");
            if id > self.max_user {
                self.max_user = id;
                inserted += 1;
            }
        }
        inserted
    }
}
